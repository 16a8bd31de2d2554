using Ksctl.Core.Model;

namespace Ksctl.Core.Storage;

/// <summary>Filters for listing clusters. Null members match everything.</summary>
public sealed record ClusterQuery
{
    public static readonly ClusterQuery All = new();

    public CloudProvider? Provider { get; init; }
    public ClusterType? Type { get; init; }
    /// <summary>Exact region, compared case-insensitively.</summary>
    public string? Region { get; init; }
    /// <summary>Name predicate (the cmdlet layer passes a wildcard matcher).</summary>
    public Func<string, bool>? NameMatches { get; init; }

    public bool Matches(ClusterId id) =>
        (Provider is null || id.Provider == Provider)
        && (Type is null || id.Type == Type)
        && (Region is null || string.Equals(id.Region, Region, StringComparison.OrdinalIgnoreCase))
        && (NameMatches is null || NameMatches(id.Name));
}
