using System.Text.RegularExpressions;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;

namespace Ksctl.Core.Providers;

/// <summary>Validation rules shared by providers; each throws <see cref="InvalidSpecException"/> naming the parameter.</summary>
internal static class SpecRules
{
    // Every field that can reach a script, a unit file, YAML, a certificate or an HAProxy config has a type or a
    // pattern here, checked for every provider before its own rules (Fields) and again on every stored spec. The
    // patterns leave out by construction what a shell, YAML or a config file would read as syntax: whitespace,
    // quotes, ';', '$', '`', '\', '|', '&', '<', '>', '#', ',', newlines and anything outside ASCII.
    private static readonly Regex VersionText = new("^[0-9][A-Za-z0-9.+-]{0,39}\\z", RegexOptions.CultureInvariant);
    private static readonly Regex SizeText = new("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\\z", RegexOptions.CultureInvariant);
    private static readonly Regex CniText = new("^[A-Za-z0-9][A-Za-z0-9._-]{0,31}\\z", RegexOptions.CultureInvariant);
    private static readonly Regex ApplicationText = new("^-?[A-Za-z0-9][A-Za-z0-9.:_+-]{0,99}\\z", RegexOptions.CultureInvariant);
    // POSIX portable user names as useradd accepts them by default (NAME_REGEX in adduser.conf).
    private static readonly Regex UserText = new("^[a-z_][a-z0-9_-]{0,31}\\z", RegexOptions.CultureInvariant);
    // OpenSSH's SHA256 fingerprint: base64 (43 characters for 32 bytes; shorter forms are compared, not parsed, later).
    private static readonly Regex HostKeyText = new("^SHA256:[A-Za-z0-9+/]{1,64}={0,2}\\z", RegexOptions.CultureInvariant);
    private static readonly Regex UrlSafe = new(@"^[A-Za-z0-9._~:/?#\[\]@!%&'()*+,;=-]+\z", RegexOptions.CultureInvariant);

    /// <summary>
    /// The type and pattern of every field, whatever the provider: throws <see cref="InvalidSpecException"/> naming
    /// the field (machine fields as <c>Machine</c>, with the machine and field in the rule). Touches nothing.
    /// </summary>
    public static void Fields(ClusterSpec spec)
    {
        var id = spec.Id ?? throw new InvalidSpecException("Name", "the spec has no identity.");
        if (!Enum.IsDefined(id.Provider)) throw new InvalidSpecException("Provider", $"{(int)id.Provider} is not a provider.");
        if (!Enum.IsDefined(id.Type)) throw new InvalidSpecException("Type", $"{(int)id.Type} is not Managed or SelfManaged.");
        if (!ClusterId.IsValidName(id.Name)) throw new InvalidSpecException("Name", $"'{ClusterId.Printable(id.Name)}' is not a valid cluster name; use {ClusterId.NameRule}.");
        if (!ClusterId.IsValidRegion(id.Region)) throw new InvalidSpecException("Region", $"'{ClusterId.Printable(id.Region)}' is not a valid region; use {ClusterId.RegionRule}.");
        Pattern("KubernetesVersion", spec.KubernetesVersion, VersionText, "a version such as 1.33 or 1.33.1 (digits, letters, '.', '+' and '-')");
        foreach (var (field, value) in new[] { ("NodeSize", spec.NodeSize), ("ControlPlaneSize", spec.ControlPlaneSize), ("WorkerSize", spec.WorkerSize), ("EtcdSize", spec.EtcdSize), ("LoadBalancerSize", spec.LoadBalancerSize) })
            Pattern(field, value, SizeText, "a size name (letters, digits, '.', '_' and '-', at most 64 characters)");
        Pattern("Cni", spec.Cni, CniText, "a CNI name (letters, digits, '.', '_' and '-')");
        if (spec.Distribution is { } d && !Enum.IsDefined(d)) throw new InvalidSpecException("Distribution", $"{(int)d} is not a distribution.");
        foreach (var (field, value) in new[] { ("NodeCount", spec.NodeCount), ("ControlPlaneCount", spec.ControlPlaneCount), ("WorkerCount", spec.WorkerCount), ("EtcdCount", spec.EtcdCount) })
            if (value is < 0 or > 1000) throw new InvalidSpecException(field, $"{value} is out of range.");
        foreach (var app in spec.Applications ?? [])
            Pattern("Application", app ?? "", ApplicationText, "an application name (letters, digits and . : _ + -, optionally after one leading - that removes a default application; no spaces or commas)");
        ArtifactSourceText(spec.ArtifactSource);
        var machines = spec.Machines ?? [];
        for (var i = 0; i < machines.Count; i++) Machine(machines[i], i);
    }

    /// <summary>One inventory machine: every field that reaches SSH, a script, a certificate or a config.</summary>
    public static void Machine(MachineSpec? m, int index)
    {
        if (m is null) throw new InvalidSpecException("Machine", $"machine #{index} is empty.");
        string Where(string field) => $"machine #{index} ({ClusterId.Printable(m.Address)}): {field}";
        if (!HostAddress.IsValid(m.Address))
            throw new InvalidSpecException("Machine", $"{Where("Address")} '{ClusterId.Printable(m.Address)}' is not {HostAddress.Rule}.");
        if (m.PrivateAddress is not null && !HostAddress.IsValid(m.PrivateAddress))
            throw new InvalidSpecException("Machine", $"{Where("PrivateAddress")} '{ClusterId.Printable(m.PrivateAddress)}' is not {HostAddress.Rule}.");
        if (m.Port is < 1 or > 65535) throw new InvalidSpecException("Machine", $"{Where("Port")} {m.Port} is not a port (1-65535).");
        if (m.User is null || !UserText.IsMatch(m.User))
            throw new InvalidSpecException("Machine", $"{Where("User")} '{ClusterId.Printable(m.User)}' is not a user name (lowercase letters, digits, '_' and '-', starting with a letter or '_', at most 32).");
        if (m.HostKey is not null && !HostKeyText.IsMatch(m.HostKey))
            throw new InvalidSpecException("Machine", $"{Where("HostKey")} '{ClusterId.Printable(m.HostKey)}' is not an OpenSSH SHA256 fingerprint ('SHA256:' and base64; ssh-keygen -lf).");
        if (m.KeyPath is not null && (m.KeyPath.Length == 0 || m.KeyPath.Any(char.IsControl)))
            throw new InvalidSpecException("Machine", $"{Where("KeyPath")} '{ClusterId.Printable(m.KeyPath)}' holds control characters.");
        if (!Enum.IsDefined(m.Role)) throw new InvalidSpecException("Machine", $"{Where("Role")} {(int)m.Role} is not a role.");
    }

    /// <summary>A folder (any local path without control characters) or an absolute http(s) URL with no character a shell reads as syntax.</summary>
    private static void ArtifactSourceText(string? source)
    {
        if (source is null) return;
        if (source.Length == 0 || source.Any(char.IsControl))
            throw new InvalidSpecException("ArtifactSource", $"'{ClusterId.Printable(source)}' is empty or holds control characters.");
        if (!source.Contains("://", StringComparison.Ordinal)) return;
        if (!Uri.TryCreate(source, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
            || !UrlSafe.IsMatch(source) || source.IndexOfAny(['\'', '$', '`', ';', '&', '(', ')', '*', '!']) >= 0)
            throw new InvalidSpecException("ArtifactSource", $"'{ClusterId.Printable(source)}' is not an http(s) URL made of plain URL characters (no quotes, spaces, ';', '$', '`', '&', '(', ')').");
    }

    private static void Pattern(string field, string? value, Regex pattern, string rule)
    {
        if (value is not null && !pattern.IsMatch(value))
            throw new InvalidSpecException(field, $"'{ClusterId.Printable(value)}' is not {rule}.");
    }

    private static readonly Regex FullVersion = new(@"^[0-9]+\.[0-9]+\.[0-9]+\z", RegexOptions.CultureInvariant);
    private static readonly Regex MinorOrFullVersion = new(@"^[0-9]+\.[0-9]+(\.[0-9]+)?\z", RegexOptions.CultureInvariant);

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

    /// <summary>
    /// The self-managed HA rules of a cloud that creates its own machines (Azure VMs, GCP instances): no Managed-only or
    /// BareMetal-only field, a valid artifact source, the version with a patch, an odd 3-7 etcd members and control
    /// planes, 0-100 workers, and every size checked by the cloud's <paramref name="size"/> rule (Kubeadm workers get
    /// <paramref name="kubeadmWorkerSize"/>: its kubelet needs 2 vCPUs). <paramref name="spec"/>'s region is kept as given.
    /// </summary>
    public static ClusterSpec CloudSelfManaged(ClusterSpec spec, string cloud, string machines, string defaultVersion, string machineSize,
        string kubeadmWorkerSize, Func<string, string, string> size)
    {
        NotApplicable("NodeCount", spec.NodeCount, "applies to Managed clusters; use -ControlPlaneCount, -EtcdCount and -WorkerCount.");
        NotApplicable("NodeSize", spec.NodeSize, "applies to Managed clusters; use -ControlPlaneSize, -EtcdSize, -WorkerSize and -LoadBalancerSize.");
        NotApplicable("Machine", spec.Machines, $"{cloud} creates the machines; -Machine is for BareMetal.");
        NotApplicable("TrustOnFirstUse", spec.TrustOnFirstUse, $"{cloud} {machines} get a host key generated by Ksctl and pinned from creation; nothing is trusted on first use.");
        NotApplicable("Application", spec.Applications, "applies to Managed clusters on Civo.");
        Distributions.Artifacts.ArtifactSource.Parse(spec.ArtifactSource, spec.AllowInsecureArtifactSource);
        var distribution = spec.Distribution ?? DistributionKind.K3s;
        return spec with
        {
            KubernetesVersion = Version(spec.KubernetesVersion, defaultVersion, requirePatch: true),
            Distribution = distribution,
            EtcdCount = Count("EtcdCount", spec.EtcdCount, 3, 3, 7, odd: true),
            ControlPlaneCount = Count("ControlPlaneCount", spec.ControlPlaneCount, 3, 3, 7, odd: true),
            WorkerCount = Count("WorkerCount", spec.WorkerCount, 1, 0, 100),
            ControlPlaneSize = size("ControlPlaneSize", spec.ControlPlaneSize ?? machineSize),
            EtcdSize = size("EtcdSize", spec.EtcdSize ?? machineSize),
            LoadBalancerSize = size("LoadBalancerSize", spec.LoadBalancerSize ?? machineSize),
            WorkerSize = size("WorkerSize", spec.WorkerSize ?? (distribution == DistributionKind.Kubeadm ? kubeadmWorkerSize : machineSize)),
        };
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

/// <summary>
/// A provider whose <see cref="ICloudProvider.Prepare"/> also checks the local environment (a key file exists), which
/// must not make a recorded cluster unreadable: this checks a stored spec by the same rules, minus the environment.
/// </summary>
internal interface IStoredSpecCheck
{
    /// <summary>Throws <see cref="InvalidSpecException"/> as Prepare would for the spec's values.</summary>
    void CheckStored(ClusterSpec spec);
}
