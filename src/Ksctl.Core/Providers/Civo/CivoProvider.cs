using System.Text.RegularExpressions;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Distributions;
using Ksctl.Core.Engine;
using Ksctl.Core.Kube;
using Ksctl.Core.Model;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Civo;

/// <summary>
/// Civo over its REST API v2: managed Civo Kubernetes (K3s) clusters (<see cref="CivoManagedCluster"/>), and the
/// machines of self-managed HA clusters (<see cref="CivoMachines"/>). Every cluster and instance is tagged
/// <c>ksctl</c> and <c>ksctl-cluster-&lt;name&gt;</c> so orphans can be found, and nothing untagged is deleted.
/// </summary>
internal sealed partial class CivoProvider(KsctlServices services) : IManagedClusterProvider, ISelfManagedProvider, IPreflightProvider, ILiveCatalog
{
    public const string TokenVariable = "CIVO_TOKEN";
    internal const string ClusterResource = CivoManagedCluster.ClusterResource;
    internal const string Tag = CivoNames.Tag;
    private static readonly Regex CivoVersion = new(@"^\d+\.\d+\.\d+-k3s\d+\z", RegexOptions.CultureInvariant);
    // A marketplace application name, or "-Name" to remove one Civo installs by default (civo Terraform provider's
    // applications: "prefix it with a '-', e.g. -Traefik").
    private static readonly Regex ApplicationName = new(@"^-?[A-Za-z0-9][A-Za-z0-9 .:&_+-]{0,99}\z", RegexOptions.CultureInvariant);
    internal static readonly string[] Cnis = ["flannel", "cilium"];

    private readonly ILogger _logger = services.Loggers.CreateLogger<CivoProvider>();
    private readonly TimeProvider _time = services.Time;

    public ProviderDescriptor Descriptor { get; } = new()
    {
        Provider = CloudProvider.Civo,
        SupportedTypes = [ClusterType.Managed, ClusterType.SelfManaged],
        DefaultRegion = "LON1",
        Regions = ["LON1", "NYC1", "FRA1", "PHX1", "MUM1"],
        NodeSizes =
        [
            "g4s.kube.xsmall", "g4s.kube.small", "g4s.kube.medium", "g4s.kube.large",
            "g4p.kube.small", "g4p.kube.medium", "g4p.kube.large", "g4p.kube.xlarge",
            "g4c.kube.small", "g4c.kube.medium", "g4c.kube.large", "g4c.kube.xlarge",
            "g4m.kube.small", "g4m.kube.medium", "g4m.kube.large", "g4m.kube.xlarge",
        ],
        DefaultNodeSize = "g4s.kube.small",
        MachineSizes = CivoHaSpec.InstanceSizes,
        DefaultNodeCount = 1,
        // Managed clusters send no version unless one is asked for (Civo installs its current default, listed by GET
        // /v2/kubernetes/versions); this is the version self-managed clusters install.
        DefaultKubernetesVersion = CivoHaSpec.DefaultKubernetesVersion,
        ManagedDistributionName = "K3s",
    };

    public ClusterSpec Prepare(ClusterSpec spec)
    {
        if (spec.Id.Type == ClusterType.SelfManaged) return CivoHaSpec.Prepare(spec, Descriptor);
        SpecRules.NoSelfManagedFields(spec);
        var size = spec.NodeSize ?? Descriptor.DefaultNodeSize!;
        size = Descriptor.NodeSizes.FirstOrDefault(s => string.Equals(s, size, StringComparison.OrdinalIgnoreCase))
            ?? throw new InvalidSpecException("NodeSize", $"'{size}' is not a Civo Kubernetes node size; use one of {string.Join(", ", Descriptor.NodeSizes)}.");
        var version = spec.KubernetesVersion;
        if (version is not null && !CivoVersion.IsMatch(version))
            throw new InvalidSpecException("KubernetesVersion", $"'{version}' is not a Civo Kubernetes version; use Civo's form major.minor.patch-k3sN (e.g. 1.30.5-k3s1), or omit it for Civo's default.");
        var cni = (spec.Cni ?? "flannel").ToLowerInvariant();
        if (!Cnis.Contains(cni)) throw new InvalidSpecException("Cni", $"'{spec.Cni}' is not a CNI Civo offers; use {string.Join(" or ", Cnis)}.");
        foreach (var app in spec.Applications)
            if (!ApplicationName.IsMatch(app))
                throw new InvalidSpecException("Application", $"'{app}' is not a Civo marketplace application name (letters, digits, spaces and . : & _ + -; no commas), or -Name to remove a default one.");
        return spec with
        {
            Id = spec.Id with { Region = SpecRules.Region(Descriptor, spec.Id.Region) },
            KubernetesVersion = version,
            NodeSize = size,
            NodeCount = SpecRules.Count("NodeCount", spec.NodeCount, Descriptor.DefaultNodeCount, 1, 50),
            Cni = cni,
        };
    }

    public async Task PreflightAsync(ClusterSpec spec, CancellationToken cancellationToken)
    {
        // One authenticated GET: a bad key fails here, before any state or cloud resource exists.
        await (await ClientAsync(cancellationToken).ConfigureAwait(false)).ValidateKeyAsync(cancellationToken).ConfigureAwait(false);
    }

    private CivoManagedCluster Managed => new(ClientAsync, _logger, _time);

    public IReadOnlyList<PlanStep> CreateSteps(ClusterSpec spec)
    {
        var name = spec.Id.Name;
        var region = spec.Id.Region;
        var managed = Managed;
        var firewall = CivoNames.ManagedFirewall(spec.Id);
        return
        [
            new PlanStep(CivoManagedCluster.NetworkResource, (ctx, ct) => managed.ResolveNetworkAsync(ctx, region, ct))
            {
                Description = $"find the default network of {region} (Civo requires a network for a cluster)",
            },
            new PlanStep(CivoManagedCluster.FirewallResource, (ctx, ct) => managed.EnsureFirewallAsync(ctx, region, ct))
            {
                DependsOn = [CivoManagedCluster.NetworkResource],
                Description = $"create firewall {firewall}: 6443/tcp (API), 80 and 443/tcp from anywhere, the network's own traffic",
                Resources = [$"civo firewall {firewall}"],
            },
            new PlanStep(ClusterResource, (ctx, ct) => managed.CreateClusterAsync(ctx, spec, ct))
            {
                DependsOn = [CivoManagedCluster.FirewallResource],
                Description = $"create Civo Kubernetes cluster '{name}' in {region}: {spec.NodeCount} × {spec.NodeSize}, K3s {spec.KubernetesVersion ?? "(Civo's default)"}, CNI {spec.Cni}" +
                              (spec.Applications.Count > 0 ? $", applications {string.Join(", ", spec.Applications)}" : ""),
                Resources = [$"civo kubernetes cluster {name} ({region}, tags {Tag} {NameTag(name)})"],
            },
            new PlanStep("civo:wait-active", (ctx, ct) => managed.WaitActiveAsync(ctx, region, ct))
            {
                DependsOn = [ClusterResource],
                Description = $"wait until cluster '{name}' is ACTIVE (up to {CivoTimings.Current.ClusterActive.TotalMinutes:0} minutes)",
            },
            new PlanStep("kubeconfig", (ctx, ct) => managed.CaptureKubeconfigAsync(ctx, region, ct))
            {
                DependsOn = ["civo:wait-active"],
                Description = $"capture the kubeconfig (context {spec.Id.DefaultContextName}) into state",
                Resources = [$"context {spec.Id.DefaultContextName}"],
            },
        ];
    }

    public IReadOnlyList<PlanStep> DeleteSteps(ClusterState state)
    {
        var name = state.Id.Name;
        var region = state.Id.Region;
        var managed = Managed;
        var firewall = CivoNames.ManagedFirewall(state.Id);
        string IdOf(string resource) => state.Resources.TryGetValue(resource, out var id) ? id : "id not recorded: found by name and tag";
        return
        [
            new PlanStep(ClusterResource, (ctx, ct) => managed.DeleteClusterAsync(ctx, region, ct))
            {
                Description = $"delete Civo Kubernetes cluster '{name}' in {region} (only if it carries tag {NameTag(name)})",
                Resources = [$"civo kubernetes cluster {name} ({IdOf(ClusterResource)})"],
            },
            new PlanStep("civo:wait-deleted", (ctx, ct) => managed.WaitDeletedAsync(ctx, region, ct))
            {
                DependsOn = [ClusterResource],
                Description = $"wait until Civo no longer lists cluster '{name}'",
            },
            new PlanStep("civo:delete:firewall", (ctx, ct) => managed.DeleteFirewallAsync(ctx, region, ct))
            {
                DependsOn = ["civo:wait-deleted"],
                Description = $"delete firewall {firewall} once the cluster no longer uses it",
                Resources = [$"civo firewall {firewall} ({IdOf(CivoManagedCluster.FirewallResource)})"],
            },
        ];
    }

    internal static string NameTag(string name) => CivoNames.NameTag(name);

    // Live catalogue (Tab completion with a key present): without a key, resolving it throws before any request.

    public async Task<IReadOnlyList<string>> RegionsAsync(CancellationToken ct)
    {
        var regions = await (await ClientAsync(ct).ConfigureAwait(false)).ListRegionsAsync(ct).ConfigureAwait(false);
        return regions.Where(r => !string.IsNullOrEmpty(r.Code)).OrderByDescending(r => r.Default == true).ThenBy(r => r.Code, StringComparer.Ordinal)
            .Select(r => r.Code).ToList();
    }

    /// <summary>Civo's Kubernetes node sizes (type "Kubernetes", selectable); the size list is the same in every region.</summary>
    public async Task<IReadOnlyList<string>> NodeSizesAsync(string? region, CancellationToken ct)
    {
        var sizes = await (await ClientAsync(ct).ConfigureAwait(false)).ListSizesAsync(ct).ConfigureAwait(false);
        return sizes.Where(s => s.Selectable != false && (string.Equals(s.Type, "Kubernetes", StringComparison.OrdinalIgnoreCase) || (s.Type is null && s.Name.Contains(".kube.", StringComparison.Ordinal))))
            .Select(s => s.Name).Distinct(StringComparer.Ordinal).ToList();
    }

    // Self-managed (HA) clusters: Civo makes the machines, the distribution's bootstrap runs on them unchanged.

    private CivoMachines Machines => new(ClientAsync, _logger, _time);

    public bool KeepsMachines => false;

    public IReadOnlyList<PlanStep> MachineSteps(ClusterSpec spec, SelfManagedTopology topology, MachineAccess access) =>
        Machines.CreateSteps(spec, topology, access);

    public IReadOnlyList<PlanStep> MachineDeleteSteps(ClusterState state) => Machines.DeleteSteps(state);

    public IReadOnlyList<PlanStep> RemoveMachineSteps(ClusterState state, IReadOnlyList<NodeState> nodes) =>
        Machines.RemoveSteps(state, nodes.Select(n => n.Key!));

    public Remote.RemoteMachine Connection(ClusterState state, NodeState node) => CloudMachines.CloudMachineKeys.Connection(state, node);

    /// <summary>
    /// Stored credentials (Set-KsctlCredential -Provider Civo), wired by the ClusterManager: asked first, and its key
    /// wins over <see cref="TokenVariable"/>.
    /// </summary>
    internal Func<CancellationToken, Task<string?>>? StoredToken { get; init; }

    /// <summary>The key given for this operation (-Credential, password = API key): it wins over everything else.</summary>
    internal string? ExplicitToken { get; init; }

    /// <summary>The API key: -Credential's, else the stored credential if there is one, else <see cref="TokenVariable"/>.</summary>
    private async Task<string> ResolveTokenAsync(CancellationToken ct)
    {
        var token = ExplicitToken; // null when -Credential was not given
        if (string.IsNullOrWhiteSpace(token)) token = StoredToken is null ? null : await StoredToken(ct).ConfigureAwait(false);
        if (string.IsNullOrWhiteSpace(token)) token = Environment.GetEnvironmentVariable(TokenVariable);
        if (string.IsNullOrWhiteSpace(token))
            throw new KsctlException("KsctlAuthenticationFailed", KsctlErrorCategory.AuthenticationError,
                $"No Civo API key: set the {TokenVariable} environment variable to your Civo API key.", TokenVariable)
            { RecommendedAction = $"Set {TokenVariable} (Civo dashboard → Settings → Profile → Security), then run the command again." };
        return token.Trim();
    }

    private async Task<CivoClient> ClientAsync(CancellationToken ct) => new(await ResolveTokenAsync(ct).ConfigureAwait(false), _logger, _time);
}
