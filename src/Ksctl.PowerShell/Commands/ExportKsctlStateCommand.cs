using System.Management.Automation;
using Ksctl.Core.Model;
using Ksctl.Core.Storage;
using Ksctl.Core.Storage.Transfer;
using Ksctl.PowerShell.Completers;
using Ksctl.PowerShell.Internal;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// Writes the state of one or all clusters of the active store to a file, secrets encrypted with an explicit key
/// file (created when it does not exist). Filters like Get-KsctlCluster; the file is 0600.
/// </summary>
[Cmdlet(VerbsData.Export, "KsctlState", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(KsctlStateExport))]
public sealed class ExportKsctlStateCommand : KsctlCmdlet
{
    private readonly List<Filter> _filters = [];

    private sealed record Filter(string[] Literals, System.Text.RegularExpressions.Regex? Pattern, bool AnyName, CloudProvider? Provider, ClusterType? Type, string? Region)
    {
        public bool Matches(ClusterId id) =>
            (Provider is null || id.Provider == Provider) && (Type is null || id.Type == Type)
            && (Region is null || string.Equals(id.Region, Region, StringComparison.OrdinalIgnoreCase))
            && (AnyName || Literals.Contains(id.Name, StringComparer.OrdinalIgnoreCase) || (Pattern?.IsMatch(id.Name) ?? false));
    }
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ClusterNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateSet(Names.Local, Names.Azure, Names.Civo, Names.Aws, Names.BareMetal)]
    public string? Provider { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateSet(Names.Managed, Names.SelfManaged)]
    public string? Type { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(RegionCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Region { get; set; }

    /// <summary>The export file (overwritten).</summary>
    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>The key file that encrypts the secrets; created with a new key if absent. Required when any exported cluster has secrets.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KeyPath { get; set; }

    protected override void ProcessRecord()
    {
        // Each pipeline record (Get-KsctlCluster | Export-KsctlState) adds a filter; one file is written at the end.
        var names = Name ?? [];
        _filters.Add(new Filter(
            names.Where(n => !WildcardPattern.ContainsWildcardCharacters(n)).ToArray(),
            WildcardMatcher.Create(names.Where(WildcardPattern.ContainsWildcardCharacters)),
            names.Length == 0,
            Names.ParseEnum<CloudProvider>(Provider), Names.ParseEnum<ClusterType>(Type), string.IsNullOrWhiteSpace(Region) ? null : Region));
    }

    protected override void EndProcessing()
    {
        var path = FullPath(Path);
        var keyPath = KeyPath is null ? null : FullPath(KeyPath);
        var filters = _filters.Count == 0 ? [new Filter([], null, true, null, null, null)] : _filters.ToList();
        var query = new ClusterQuery { NameMatches = null };
        var manager = GetManager();
        List<ClusterState> states;
        try
        {
            states = Run(async ct =>
            {
                var list = new List<ClusterState>();
                await foreach (var s in manager.ListAsync(query, ct).ConfigureAwait(false))
                    if (filters.Any(f => f.Matches(s.Id))) list.Add(s);
                return list;
            });
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            ThrowTerminatingError(ErrorMapper.ToErrorRecord(ex, path));
            return;
        }
        var literals = filters.SelectMany(f => f.Literals).Distinct(StringComparer.OrdinalIgnoreCase);
        foreach (var literal in literals.Where(l => !states.Any(s => string.Equals(s.Id.Name, l, StringComparison.OrdinalIgnoreCase))))
            WriteError(ErrorMapper.ToErrorRecord(new Core.Diagnostics.ClusterNotFoundException($"name '{literal}'"), literal));
        if (states.Count == 0)
        {
            WriteWarning("No cluster matched; nothing was exported.");
            Drain();
            return;
        }
        states.Sort((a, b) => string.CompareOrdinal(a.Id.ToString(), b.Id.ToString()));
        if (!ShouldProcess(path, $"Export the state of {states.Count} cluster(s): {string.Join(", ", states.Select(s => s.Id.Name))}"))
        {
            Drain();
            return;
        }
        ExportResult result;
        try
        {
            result = Run(_ => Task.FromResult(StateArchive.Write(states, path, keyPath)));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            ThrowTerminatingError(ErrorMapper.ToErrorRecord(ex, path));
            return;
        }
        if (result.KeyCreated) WriteWarning($"Created the key file '{keyPath}' with a new key. Keep it private: Import-KsctlState needs it to read '{path}'.");
        WriteVerbose($"Exported {result.Clusters.Count} cluster(s) to '{result.Path}'.");
        WriteObject(new KsctlStateExport
        {
            Path = result.Path,
            ClusterCount = result.Clusters.Count,
            Clusters = result.Clusters.Select(c => c.ToString()).ToArray(),
            KeyPath = result.KeyId is null ? null : keyPath,
            KeyId = result.KeyId,
            KeyCreated = result.KeyCreated,
        });
        Drain();
    }

    private string FullPath(string path) => System.IO.Path.GetFullPath(GetUnresolvedProviderPathFromPSPath(path));
}
