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
public sealed class ExportKsctlStateCommand : ClusterFilterCmdlet
{
    private readonly List<(ClusterQuery Query, IReadOnlyList<string> Literals)> _filters = [];

    /// <summary>The export file. An existing file is replaced only with -Force (-NoClobber semantics).</summary>
    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>The key file that encrypts the secrets; created with a new key if absent. Required when any exported cluster has secrets.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? KeyPath { get; set; }

    /// <summary>Replaces an existing export file.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        // Each pipeline record (Get-KsctlCluster | Export-KsctlState) adds a filter; one file is written at the end.
        _filters.Add(BuildQuery());
    }

    protected override void EndProcessing()
    {
        var path = FullPath(Path);
        var keyPath = KeyPath is null ? null : FullPath(KeyPath);
        if (!Force && (File.Exists(path) || Directory.Exists(path)))
        {
            // Before anything is read: a second export must not silently destroy the first (it may be the only backup).
            ThrowTerminatingError(new ErrorRecord(new IOException($"'{path}' already exists; Export-KsctlState does not overwrite it. Give another -Path, or -Force to replace the file."),
                "KsctlExportFileExists", ErrorCategory.ResourceExists, path));
            return;
        }
        var filters = _filters.Count == 0 ? [(ClusterQuery.All, (IReadOnlyList<string>)[])] : _filters.ToList();
        var manager = GetManager();
        List<ClusterState> states;
        try
        {
            states = Run(async ct =>
            {
                var list = new List<ClusterState>();
                await foreach (var s in manager.ListAsync(ClusterQuery.All, ct).ConfigureAwait(false))
                    if (filters.Any(f => f.Query.Matches(s.Id))) list.Add(s);
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
