using System.Management.Automation;
using Ksctl.Core.Model;
using Ksctl.Core.Storage;
using Ksctl.PowerShell.Completers;
using Ksctl.PowerShell.Internal;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// Cmdlets that select clusters by name (wildcards allowed), provider, type and region, all bound by property name
/// so that Get-KsctlCluster output pipes in. A literal name that matches nothing is an error; a wildcard is not.
/// </summary>
public abstract class ClusterFilterCmdlet : KsctlCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ClusterNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateProvider]
    [ArgumentCompleter(typeof(ProviderCompleter))]
    public string? Provider { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateSet(Names.Managed, Names.SelfManaged)]
    public string? Type { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(RegionCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Region { get; set; }

    /// <summary>The current record's filter, and its literal names (each must match something).</summary>
    internal (ClusterQuery Query, IReadOnlyList<string> Literals) BuildQuery()
    {
        var names = Name ?? [];
        var literals = names.Where(n => !WildcardPattern.ContainsWildcardCharacters(n)).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var pattern = WildcardMatcher.Create(names.Where(WildcardPattern.ContainsWildcardCharacters));
        var literalSet = literals.ToHashSet(StringComparer.OrdinalIgnoreCase);
        var query = new ClusterQuery
        {
            Provider = Names.ParseEnum<CloudProvider>(Provider),
            Type = Names.ParseEnum<ClusterType>(Type),
            Region = string.IsNullOrWhiteSpace(Region) ? null : Region,
            NameMatches = names.Length == 0 ? null : n => literalSet.Contains(n) || (pattern?.IsMatch(n) ?? false),
        };
        return (query, literals);
    }

    /// <summary>"name 'x', provider Local" for KsctlClusterNotFound.</summary>
    internal string Describe(string name)
    {
        var parts = new List<string> { $"name '{name}'" };
        if (Provider is not null) parts.Add($"provider {Provider}");
        if (Type is not null) parts.Add($"type {Type}");
        if (Region is not null) parts.Add($"region {Region}");
        return string.Join(", ", parts);
    }
}
