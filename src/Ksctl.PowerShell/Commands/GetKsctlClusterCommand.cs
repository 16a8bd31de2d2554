using System.Management.Automation;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Storage;
using Ksctl.PowerShell.Completers;
using Ksctl.PowerShell.Internal;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// Lists clusters from the state store, filtered by name (wildcards), provider, type and region. A literal name that
/// matches nothing is a non-terminating KsctlClusterNotFound error; a wildcard that matches nothing is not an error.
/// </summary>
[Cmdlet(VerbsCommon.Get, "KsctlCluster")]
[OutputType(typeof(KsctlCluster))]
public sealed class GetKsctlClusterCommand : KsctlCmdlet
{
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

    protected override void ProcessRecord()
    {
        var names = Name ?? [];
        var literals = names.Where(n => !WildcardPattern.ContainsWildcardCharacters(n)).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var pattern = WildcardMatcher.Create(names.Where(WildcardPattern.ContainsWildcardCharacters));
        var literalSet = literals.ToHashSet(StringComparer.OrdinalIgnoreCase);
        Func<string, bool>? nameMatches = names.Length == 0 ? null : n => literalSet.Contains(n) || (pattern?.IsMatch(n) ?? false);

        var query = new ClusterQuery
        {
            Provider = Names.ParseEnum<CloudProvider>(Provider),
            Type = Names.ParseEnum<ClusterType>(Type),
            Region = Region,
            NameMatches = nameMatches,
        };
        var manager = GetManager();
        List<KsctlCluster> clusters;
        try
        {
            var listing = Run(ct => manager.Store.ListAllAsync(query, ct));
            clusters = listing.Clusters.Select(ModelMapper.ToCluster).ToList();
            // One error per unreadable document (corrupt, or written by a newer Ksctl); the others are still listed.
            foreach (var error in listing.Errors) WriteFailure(error, error.Target);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            // The store itself cannot be read (an unreadable folder, an unreachable remote store).
            WriteFailure(ex, manager.Store.Description);
            return;
        }

        clusters.Sort((a, b) =>
        {
            var c = string.CompareOrdinal(a.Name, b.Name);
            if (c != 0) return c;
            c = string.CompareOrdinal(a.Provider, b.Provider);
            return c != 0 ? c : string.CompareOrdinal(a.Region, b.Region);
        });
        WriteObject(clusters, enumerateCollection: true);

        if (literals.Count == 0) return;
        var seen = clusters.Select(c => c.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var missing in literals.Where(n => !seen.Contains(n)))
        {
            var description = Describe(missing);
            WriteError(ErrorMapper.ToErrorRecord(new ClusterNotFoundException(description), missing));
        }
    }

    private string Describe(string name)
    {
        var parts = new List<string> { $"name '{name}'" };
        if (Provider is not null) parts.Add($"provider {Provider}");
        if (Type is not null) parts.Add($"type {Type}");
        if (Region is not null) parts.Add($"region {Region}");
        return string.Join(", ", parts);
    }
}
