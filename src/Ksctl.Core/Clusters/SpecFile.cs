using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Ksctl.Core.Clusters;

/// <summary>
/// A cluster spec as the user writes it, in a YAML file (-SpecPath) or as cmdlet parameters: every field optional
/// so that parameters can override the file field by field. Enums are strings here so that a typo gets an error
/// naming the field and the allowed values.
/// </summary>
public sealed class SpecFile
{
    public string? Name { get; set; }
    public string? Provider { get; set; }
    public string? Type { get; set; }
    public string? Region { get; set; }
    public string? KubernetesVersion { get; set; }
    public int? NodeCount { get; set; }
    public string? NodeSize { get; set; }
    public string? Distribution { get; set; }
    public int? ControlPlaneCount { get; set; }
    public int? WorkerCount { get; set; }
    public int? EtcdCount { get; set; }
    public string? ControlPlaneSize { get; set; }
    public string? WorkerSize { get; set; }
    public string? EtcdSize { get; set; }
    public string? LoadBalancerSize { get; set; }
    public string? Cni { get; set; }
    public List<string>? Applications { get; set; }
    public List<MachineEntry>? Machines { get; set; }
    public bool? TrustOnFirstUse { get; set; }
    public string? ArtifactSource { get; set; }
    public bool? AllowInsecureArtifactSource { get; set; }
    /// <summary>Self-managed: install the provider's cloud controller manager (external cloud provider).</summary>
    public bool? CloudController { get; set; }
    /// <summary>Opt-in to the server's reconciler (New-KsctlCluster -Reconcile).</summary>
    public bool? Reconcile { get; set; }
    /// <summary>Opt-in to repair by the reconciler: a worker whose machine the cloud lost is replaced (default off).</summary>
    public bool? Repair { get; set; }

    /// <summary>One machine of a BareMetal inventory.</summary>
    public sealed class MachineEntry
    {
        public string? Address { get; set; }
        public int? Port { get; set; }
        public string? User { get; set; }
        public string? KeyPath { get; set; }
        public string? HostKey { get; set; }
        public string? Role { get; set; }
        public string? PrivateAddress { get; set; }
    }

    public static SpecFile Load(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidSpecException("SpecPath", $"cannot read '{path}': {ex.Message}");
        }
        return Parse(text, path);
    }

    public static SpecFile Parse(string yaml, string source)
    {
        var deserializer = new DeserializerBuilder().WithNamingConvention(CamelCaseNamingConvention.Instance).Build();
        try
        {
            return deserializer.Deserialize<SpecFile?>(yaml) ?? new SpecFile();
        }
        catch (YamlDotNet.Core.YamlException ex)
        {
            var inner = ex.InnerException?.Message is { } m ? $" ({m})" : "";
            throw new InvalidSpecException("SpecPath", $"'{source}' is not a valid spec at line {ex.Start.Line}, column {ex.Start.Column}: {ex.Message}{inner}");
        }
        // The parser also fails outside YamlException on some malformed input (found by the hostile-input properties).
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException or OverflowException or InvalidCastException)
        {
            throw new InvalidSpecException("SpecPath", $"'{source}' is not a valid spec: {ex.Message}");
        }
    }

    /// <summary>
    /// The spec file that re-creates <paramref name="spec"/> (New-KsctlCluster -SpecPath): the desired spec as recorded,
    /// provider defaults included, so the copy does not drift when a default changes.
    /// </summary>
    public static SpecFile FromClusterSpec(ClusterSpec spec) => new()
    {
        Name = spec.Id.Name,
        Provider = spec.Id.Provider.ToString(),
        Type = spec.Id.Type.ToString(),
        Region = spec.Id.Region,
        KubernetesVersion = spec.KubernetesVersion,
        NodeCount = spec.NodeCount,
        NodeSize = spec.NodeSize,
        Distribution = spec.Distribution?.ToString(),
        ControlPlaneCount = spec.ControlPlaneCount,
        WorkerCount = spec.WorkerCount,
        EtcdCount = spec.EtcdCount,
        ControlPlaneSize = spec.ControlPlaneSize,
        WorkerSize = spec.WorkerSize,
        EtcdSize = spec.EtcdSize,
        LoadBalancerSize = spec.LoadBalancerSize,
        Cni = spec.Cni,
        Applications = spec.Applications.Count == 0 ? null : spec.Applications.ToList(),
        Machines = spec.Machines.Count == 0 ? null : spec.Machines.Select(m => new MachineEntry
        {
            Address = m.Address, Port = m.Port, User = m.User, KeyPath = m.KeyPath, HostKey = m.HostKey, Role = m.Role.ToString(), PrivateAddress = m.PrivateAddress,
        }).ToList(),
        TrustOnFirstUse = spec.TrustOnFirstUse ? true : null,
        ArtifactSource = spec.ArtifactSource,
        AllowInsecureArtifactSource = spec.AllowInsecureArtifactSource ? true : null,
        CloudController = spec.CloudController ? true : null,
        Reconcile = spec.Reconcile ? true : null,
        Repair = spec.Repair ? true : null,
    };

    /// <summary>This spec as YAML in the schema <see cref="Parse"/> reads (camelCase, unset fields left out).</summary>
    public string ToYaml() => new SerializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .ConfigureDefaultValuesHandling(DefaultValuesHandling.OmitNull)
        .Build()
        .Serialize(this);

    /// <summary>A copy where every field set in <paramref name="overrides"/> replaces this file's value.</summary>
    public SpecFile OverrideWith(SpecFile overrides) => new()
    {
        Name = overrides.Name ?? Name,
        Provider = overrides.Provider ?? Provider,
        Type = overrides.Type ?? Type,
        Region = overrides.Region ?? Region,
        KubernetesVersion = overrides.KubernetesVersion ?? KubernetesVersion,
        NodeCount = overrides.NodeCount ?? NodeCount,
        NodeSize = overrides.NodeSize ?? NodeSize,
        Distribution = overrides.Distribution ?? Distribution,
        ControlPlaneCount = overrides.ControlPlaneCount ?? ControlPlaneCount,
        WorkerCount = overrides.WorkerCount ?? WorkerCount,
        EtcdCount = overrides.EtcdCount ?? EtcdCount,
        ControlPlaneSize = overrides.ControlPlaneSize ?? ControlPlaneSize,
        WorkerSize = overrides.WorkerSize ?? WorkerSize,
        EtcdSize = overrides.EtcdSize ?? EtcdSize,
        LoadBalancerSize = overrides.LoadBalancerSize ?? LoadBalancerSize,
        Cni = overrides.Cni ?? Cni,
        Applications = overrides.Applications ?? Applications,
        Machines = overrides.Machines ?? Machines,
        TrustOnFirstUse = overrides.TrustOnFirstUse ?? TrustOnFirstUse,
        ArtifactSource = overrides.ArtifactSource ?? ArtifactSource,
        AllowInsecureArtifactSource = overrides.AllowInsecureArtifactSource ?? AllowInsecureArtifactSource,
        CloudController = overrides.CloudController ?? CloudController,
        Reconcile = overrides.Reconcile ?? Reconcile,
        Repair = overrides.Repair ?? Repair,
    };

    /// <summary>
    /// The typed spec. Region may be left empty: the provider's default is filled in by
    /// <see cref="ClusterManager.Prepare"/>, which also checks every value against the provider's rules.
    /// </summary>
    public ClusterSpec ToClusterSpec(Func<CloudProvider, string> defaultRegion)
    {
        if (string.IsNullOrWhiteSpace(Name)) throw new InvalidSpecException("Name", "a cluster name is required (parameter -Name or 'name' in the spec file).");
        if (string.IsNullOrWhiteSpace(Provider)) throw new InvalidSpecException("Provider", $"a provider is required: one of {string.Join(", ", Enum.GetNames<CloudProvider>())}.");
        var provider = ParseEnum<CloudProvider>(Provider, "Provider");
        var type = Type is null ? ClusterType.Managed : ParseEnum<ClusterType>(Type, "Type");
        var region = string.IsNullOrWhiteSpace(Region) ? defaultRegion(provider) : Region.Trim();
        if (Repair == true)
        {
            // A replacement machine is made by a cloud: BareMetal machines are yours, and managed clusters repair themselves.
            if (type != ClusterType.SelfManaged || provider is CloudProvider.BareMetal or CloudProvider.Local)
                throw new InvalidSpecException("Repair", $"repair replaces lost worker machines of self-managed clusters on a cloud; {provider} {type} clusters cannot be repaired by Ksctl.");
            if (Reconcile != true)
                throw new InvalidSpecException("Repair", "repair is done by the reconciler: set 'reconcile: true' (New-KsctlCluster -Reconcile) as well.");
        }
        return new ClusterSpec
        {
            Id = new ClusterId(provider, type, Name.Trim(), region),
            KubernetesVersion = KubernetesVersion?.Trim().TrimStart('v'),
            NodeCount = NodeCount,
            NodeSize = NodeSize,
            Distribution = Distribution is null ? null : ParseEnum<DistributionKind>(Distribution, "Distribution"),
            ControlPlaneCount = ControlPlaneCount,
            WorkerCount = WorkerCount,
            EtcdCount = EtcdCount,
            ControlPlaneSize = ControlPlaneSize,
            WorkerSize = WorkerSize,
            EtcdSize = EtcdSize,
            LoadBalancerSize = LoadBalancerSize,
            Cni = Cni,
            Applications = Applications?.ToArray() ?? [],
            Machines = (Machines ?? []).Select((m, i) => ToMachine(m, i)).ToArray(),
            TrustOnFirstUse = TrustOnFirstUse ?? false,
            ArtifactSource = ArtifactSource,
            AllowInsecureArtifactSource = AllowInsecureArtifactSource ?? false,
            CloudController = CloudController ?? false,
            Reconcile = Reconcile ?? false,
            Repair = Repair ?? false,
        };
    }

    private static MachineSpec ToMachine(MachineEntry? m, int index)
    {
        if (m is null) throw new InvalidSpecException("Machine", $"machine #{index} is empty.");
        if (string.IsNullOrWhiteSpace(m.Address)) throw new InvalidSpecException("Machine", $"machine #{index} has no Address.");
        if (string.IsNullOrWhiteSpace(m.Role)) throw new InvalidSpecException("Machine", $"machine {m.Address} has no Role ({string.Join(", ", Enum.GetNames<NodeRole>())}).");
        if (m.Port is { } port && (port < 1 || port > 65535)) throw new InvalidSpecException("Machine", $"machine {m.Address} has port {port}; a port is 1-65535.");
        return new MachineSpec
        {
            Address = m.Address.Trim(),
            Port = m.Port ?? 22,
            User = string.IsNullOrWhiteSpace(m.User) ? "root" : m.User,
            KeyPath = ExpandHome(m.KeyPath),
            HostKey = m.HostKey,
            Role = Enum.GetNames<NodeRole>().Contains(m.Role.Trim(), StringComparer.OrdinalIgnoreCase) && Enum.TryParse<NodeRole>(m.Role.Trim(), ignoreCase: true, out var role)
                ? role
                : throw new InvalidSpecException("Machine", $"machine #{index} Role '{ClusterId.Printable(m.Role)}' is not one of {string.Join(", ", Enum.GetNames<NodeRole>())}."),
            PrivateAddress = m.PrivateAddress,
        };
    }

    /// <summary>"~/.ssh/id_ed25519" as a spec file or a shell would mean it.</summary>
    private static string? ExpandHome(string? path) =>
        path is not null && (path == "~" || path.StartsWith("~/", StringComparison.Ordinal))
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path.Length > 2 ? path[2..] : "")
            : path;

    // Names only: Enum.TryParse would also take numbers ("3") and flag lists ("Local,Azure").
    private static T ParseEnum<T>(string value, string parameter) where T : struct, Enum =>
        Enum.GetNames<T>().Contains(value.Trim(), StringComparer.OrdinalIgnoreCase) && Enum.TryParse<T>(value.Trim(), ignoreCase: true, out var result)
            ? result
            : throw new InvalidSpecException(parameter, $"'{ClusterId.Printable(value)}' is not one of {string.Join(", ", Enum.GetNames<T>())}.");
}
