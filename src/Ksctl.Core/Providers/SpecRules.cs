using System.Text.RegularExpressions;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;

namespace Ksctl.Core.Providers;

/// <summary>Validation rules shared by providers; each throws <see cref="InvalidSpecException"/> naming the parameter.</summary>
internal static class SpecRules
{
    private static readonly Regex FullVersion = new(@"^\d+\.\d+\.\d+$", RegexOptions.CultureInvariant);
    private static readonly Regex MinorOrFullVersion = new(@"^\d+\.\d+(\.\d+)?$", RegexOptions.CultureInvariant);

    /// <summary>Returns the region as the provider spells it, or throws listing the known ones.</summary>
    public static string Region(ProviderDescriptor d, string region)
    {
        if (d.RegionIsLabel)
            return ClusterId.IsValidName(region.ToLowerInvariant()) ? region : throw new InvalidSpecException("Region", $"'{region}' is not a valid region label; use {ClusterId.NameRule}.");
        return d.Regions.FirstOrDefault(r => string.Equals(r, region, StringComparison.OrdinalIgnoreCase))
            ?? throw new InvalidSpecException("Region", $"'{region}' is not a {d.Provider} region; use one of {string.Join(", ", d.Regions)}.");
    }

    public static string Version(string? version, string fallback, bool requirePatch)
    {
        var v = version ?? fallback;
        var pattern = requirePatch ? FullVersion : MinorOrFullVersion;
        return pattern.IsMatch(v) ? v : throw new InvalidSpecException("KubernetesVersion",
            $"'{version}' is not a Kubernetes version; use {(requirePatch ? "major.minor.patch, e.g. 1.33.1" : "major.minor or major.minor.patch, e.g. 1.33")}.");
    }

    public static int Count(string parameter, int? value, int fallback, int min, int max, bool odd = false)
    {
        var n = value ?? fallback;
        if (n < min || n > max) throw new InvalidSpecException(parameter, $"{n} is out of range; use {min} to {max}{(odd ? ", an odd number" : "")}.");
        if (odd && n % 2 == 0) throw new InvalidSpecException(parameter, $"{n} is even; use an odd number ({min}, {min + 2}, ...) so that the quorum survives a failure.");
        return n;
    }

    public static void NotApplicable(string parameter, object? value, string why)
    {
        var given = value switch { null => false, string s => s.Length > 0, System.Collections.ICollection c => c.Count > 0, bool b => b, _ => true };
        if (given) throw new InvalidSpecException(parameter, why);
    }

    /// <summary>Self-managed-only fields given for a managed cluster: say so instead of silently ignoring them.</summary>
    public static void NoSelfManagedFields(ClusterSpec spec)
    {
        const string why = "applies to SelfManaged clusters only (add -Type SelfManaged).";
        NotApplicable("Distribution", spec.Distribution, why);
        NotApplicable("ControlPlaneCount", spec.ControlPlaneCount, why);
        NotApplicable("WorkerCount", spec.WorkerCount, why);
        NotApplicable("EtcdCount", spec.EtcdCount, why);
        NotApplicable("ControlPlaneSize", spec.ControlPlaneSize, why);
        NotApplicable("WorkerSize", spec.WorkerSize, why);
        NotApplicable("EtcdSize", spec.EtcdSize, why);
        NotApplicable("LoadBalancerSize", spec.LoadBalancerSize, why);
        NotApplicable("Machine", spec.Machines, why);
        NotApplicable("TrustOnFirstUse", spec.TrustOnFirstUse, why);
        NotApplicable("ArtifactSource", spec.ArtifactSource, why);
    }
}
