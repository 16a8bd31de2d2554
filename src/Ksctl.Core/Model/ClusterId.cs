using System.Text.RegularExpressions;

namespace Ksctl.Core.Model;

/// <summary>A cluster's identity: provider, type, name and region. Two clusters with the same identity cannot coexist.</summary>
public sealed record ClusterId(CloudProvider Provider, ClusterType Type, string Name, string Region)
{
    /// <summary>Lowercase letters, digits and '-', starts with a letter, ends alphanumeric, at most 50 characters.</summary>
    public const string NameRule = "lowercase letters, digits and '-', starting with a letter, ending with a letter or digit, at most 50 characters";

    private static readonly Regex NamePattern = new("^[a-z]([a-z0-9-]{0,48}[a-z0-9])?$", RegexOptions.CultureInvariant);

    public static bool IsValidName(string? name) => name is not null && NamePattern.IsMatch(name);

    /// <summary>The kubeconfig context name ksctl gives this cluster.</summary>
    public string DefaultContextName => Provider switch
    {
        CloudProvider.Local => $"kind-{Name}",
        _ => $"{Name}-{Region}-{TypeSegment}-{Provider.ToString().ToLowerInvariant()}-ksctl",
    };

    /// <summary>"managed" or "selfmanaged", as used in paths and context names.</summary>
    public string TypeSegment => Type == ClusterType.Managed ? "managed" : "selfmanaged";

    public override string ToString() => $"{Name} ({Provider}/{Type}, {Region})";
}
