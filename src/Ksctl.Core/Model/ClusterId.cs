using System.Text.RegularExpressions;

namespace Ksctl.Core.Model;

/// <summary>A cluster's identity: provider, type, name and region. Two clusters with the same identity cannot coexist.</summary>
public sealed record ClusterId(CloudProvider Provider, ClusterType Type, string Name, string Region)
{
    /// <summary>Lowercase letters, digits and '-', starts with a letter, ends alphanumeric, at most 50 characters.</summary>
    public const string NameRule = "lowercase letters, digits and '-', starting with a letter, ending with a letter or digit, at most 50 characters";

    /// <summary>What any provider's region looks like (LOCAL, eastus, LON1, us-east-1): it becomes a folder and blob name.</summary>
    public const string RegionRule = "ASCII letters, digits and '-', starting and ending with a letter or digit, at most 63 characters";

    private static readonly Regex NamePattern = new("^[a-z]([a-z0-9-]{0,48}[a-z0-9])?\\z", RegexOptions.CultureInvariant);
    private static readonly Regex RegionPattern = new("^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\z", RegexOptions.CultureInvariant);

    public static bool IsValidName(string? name) => name is not null && NamePattern.IsMatch(name);

    /// <summary>True for a region that is safe as one path segment of every store (no separator, dot, space, NUL...).</summary>
    public static bool IsValidRegion(string? region) => region is not null && RegionPattern.IsMatch(region);

    /// <summary>
    /// The rule every identity must satisfy before it names a folder, a blob or a resource: a defined provider and
    /// type, a valid name and region. Null when valid, else which part is wrong and why.
    /// </summary>
    public string? Problem() =>
        !Enum.IsDefined(Provider) ? $"provider {(int)Provider} is not a known provider"
        : !Enum.IsDefined(Type) ? $"type {(int)Type} is not Managed or SelfManaged"
        : !IsValidName(Name) ? $"name '{Printable(Name)}' breaks the name rule ({NameRule})"
        : !IsValidRegion(Region) ? $"region '{Printable(Region)}' breaks the region rule ({RegionRule})"
        : null;

    /// <summary>A value as it may be shown in a message: control characters escaped, long values cut.</summary>
    internal static string Printable(string? value)
    {
        if (value is null) return "(null)";
        var cut = value.Length > 80 ? value[..80] + "…" : value;
        return string.Concat(cut.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
    }

    /// <summary>The kubeconfig context name ksctl gives this cluster.</summary>
    public string DefaultContextName => Provider switch
    {
        CloudProvider.Local => $"kind-{Name}",
        _ => $"{Name}-{Region}-{TypeSegment}-{Provider.ToString().ToLowerInvariant()}-ksctl",
    };

    /// <summary>"managed" or "selfmanaged", as used in paths and context names.</summary>
    public string TypeSegment => Type == ClusterType.Managed ? "managed" : "selfmanaged";

    /// <summary>A canonical, unambiguous form (provider/type/name/region) used to bind secrets and tags to the cluster.</summary>
    public string Canonical => $"{Provider.ToString().ToLowerInvariant()}/{TypeSegment}/{Name}/{Region}";

    public override string ToString() => $"{Name} ({Provider}/{Type}, {Region})";
}
