using System.Text.RegularExpressions;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Distributions;
using Ksctl.Core.Engine;
using Ksctl.Core.Kube;
using Ksctl.Core.Model;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Civo;

/// <summary>
/// Civo over its REST API v2: managed Civo Kubernetes (K3s) clusters, and the machines of self-managed HA clusters
/// (<see cref="CivoMachines"/>). The cluster id is recorded in state before waiting, so a resumed create finds it
/// (by id, else by name and Ksctl's tag) instead of creating a second one. Every cluster and instance is tagged
/// <c>ksctl</c> and <c>ksctl-cluster-&lt;name&gt;</c> so orphans can be found.
/// </summary>
internal sealed class CivoProvider(KsctlServices services) : IManagedClusterProvider, ISelfManagedProvider, IPreflightProvider, ILiveCatalog
{
    public const string TokenVariable = "CIVO_TOKEN";
    internal const string ClusterResource = "civo:cluster";
    internal const string Tag = "ksctl";
    internal static readonly TimeSpan ActiveTimeout = TimeSpan.FromMinutes(20);
    internal static readonly TimeSpan DeleteTimeout = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan FirstPoll = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MaxPoll = TimeSpan.FromSeconds(10);
    private static readonly Regex CivoVersion = new(@"^\d+\.\d+\.\d+-k3s\d+$", RegexOptions.CultureInvariant);
    private static readonly Regex ApplicationName = new(@"^[A-Za-z0-9][A-Za-z0-9 .:&_+-]{0,99}$", RegexOptions.CultureInvariant);
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
        DefaultKubernetesVersion = "1.30.5-k3s1",
        ManagedDistributionName = "K3s",
    };

    public ClusterSpec Prepare(ClusterSpec spec)
    {
        if (spec.Id.Type == ClusterType.SelfManaged) return CivoHaSpec.Prepare(spec, Descriptor);
        SpecRules.NoSelfManagedFields(spec);
        var size = spec.NodeSize ?? Descriptor.DefaultNodeSize!;
        size = Descriptor.NodeSizes.FirstOrDefault(s => string.Equals(s, size, StringComparison.OrdinalIgnoreCase))
            ?? throw new InvalidSpecException("NodeSize", $"'{size}' is not a Civo Kubernetes node size; use one of {string.Join(", ", Descriptor.NodeSizes)}.");
        var version = spec.KubernetesVersion ?? Descriptor.DefaultKubernetesVersion;
        if (!CivoVersion.IsMatch(version))
            throw new InvalidSpecException("KubernetesVersion", $"'{version}' is not a Civo Kubernetes version; use Civo's form major.minor.patch-k3sN, e.g. {Descriptor.DefaultKubernetesVersion}.");
        var cni = (spec.Cni ?? "flannel").ToLowerInvariant();
        if (!Cnis.Contains(cni)) throw new InvalidSpecException("Cni", $"'{spec.Cni}' is not a CNI Civo offers; use {string.Join(" or ", Cnis)}.");
        foreach (var app in spec.Applications)
            if (!ApplicationName.IsMatch(app))
                throw new InvalidSpecException("Application", $"'{app}' is not a Civo marketplace application name (letters, digits, spaces and . : & _ + -; no commas).");
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

    public IReadOnlyList<PlanStep> CreateSteps(ClusterSpec spec)
    {
        var name = spec.Id.Name;
        var region = spec.Id.Region;
        return
        [
            new PlanStep(ClusterResource, (ctx, ct) => CreateClusterAsync(ctx, spec, ct))
            {
                Description = $"create Civo Kubernetes cluster '{name}' in {region}: {spec.NodeCount} × {spec.NodeSize}, K3s {spec.KubernetesVersion}, CNI {spec.Cni}" +
                              (spec.Applications.Count > 0 ? $", applications {string.Join(", ", spec.Applications)}" : ""),
                Resources = [$"civo kubernetes cluster {name} ({region}, tags {Tag} {NameTag(name)})"],
            },
            new PlanStep("civo:wait-active", (ctx, ct) => WaitActiveAsync(ctx, region, ct))
            {
                DependsOn = [ClusterResource],
                Description = $"wait until cluster '{name}' is ACTIVE (up to {ActiveTimeout.TotalMinutes:0} minutes)",
            },
            new PlanStep("kubeconfig", (ctx, ct) => CaptureKubeconfigAsync(ctx, region, ct))
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
        return
        [
            new PlanStep(ClusterResource, (ctx, ct) => DeleteClusterAsync(ctx, region, ct))
            {
                Description = $"delete Civo Kubernetes cluster '{name}' in {region}",
                Resources = [$"civo kubernetes cluster {name} ({(state.Resources.TryGetValue(ClusterResource, out var id) ? id : "id not recorded")})"],
            },
            new PlanStep("civo:wait-deleted", (ctx, ct) => WaitDeletedAsync(ctx, region, ct))
            {
                DependsOn = [ClusterResource],
                Description = $"wait until Civo no longer lists cluster '{name}'",
            },
        ];
    }

    internal static string NameTag(string name) => $"ksctl-cluster-{name}";

    // Live catalogue (Tab completion with a key present): without a key, resolving it throws before any request.

    public async Task<IReadOnlyList<string>> RegionsAsync(CancellationToken ct)
    {
        var regions = await (await ClientAsync(ct).ConfigureAwait(false)).ListRegionsAsync(ct).ConfigureAwait(false);
        return regions.Where(r => !string.IsNullOrEmpty(r.Code)).OrderByDescending(r => r.Default).ThenBy(r => r.Code, StringComparer.Ordinal)
            .Select(r => r.Code).ToList();
    }

    /// <summary>Civo's Kubernetes node sizes (type "Kubernetes", selectable); the size list is the same in every region.</summary>
    public async Task<IReadOnlyList<string>> NodeSizesAsync(string? region, CancellationToken ct)
    {
        var sizes = await (await ClientAsync(ct).ConfigureAwait(false)).ListSizesAsync(ct).ConfigureAwait(false);
        return sizes.Where(s => s.Selectable && (string.Equals(s.Type, "Kubernetes", StringComparison.OrdinalIgnoreCase) || (s.Type is null && s.Name.Contains(".kube.", StringComparison.Ordinal))))
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

    private async Task<CivoCluster?> FindOursAsync(CivoClient client, ClusterState state, string region, CancellationToken ct)
    {
        if (state.Resources.TryGetValue(ClusterResource, out var id))
        {
            var byId = await client.GetClusterAsync(id, region, ct).ConfigureAwait(false);
            if (byId is not null) return byId;
            _logger.LogWarning("Civo cluster {Id} recorded for {Name} no longer exists.", id, state.Id.Name);
        }
        var named = (await client.ListClustersAsync(region, ct).ConfigureAwait(false)).Where(c => c.Name == state.Id.Name).ToList();
        if (named.Count == 0) return null;
        var ours = named.FirstOrDefault(c => c.Tags?.Contains(NameTag(state.Id.Name)) == true);
        return ours ?? throw new KsctlException("KsctlResourceExists", KsctlErrorCategory.ResourceExists,
            $"A Civo Kubernetes cluster named '{state.Id.Name}' already exists in {region} and was not created by Ksctl (id {named[0].Id}). Choose another -Name or delete it in Civo.",
            state.Id.Name);
    }

    private async Task CreateClusterAsync(StepContext ctx, ClusterSpec spec, CancellationToken ct)
    {
        var client = await ClientAsync(ct).ConfigureAwait(false);
        var region = spec.Id.Region;
        var request = new CivoClusterRequest
        {
            Name = spec.Id.Name,
            Region = region,
            NumTargetNodes = spec.NodeCount!.Value,
            TargetNodesSize = spec.NodeSize!,
            KubernetesVersion = spec.KubernetesVersion!,
            CniPlugin = spec.Cni!,
            Applications = spec.Applications.Count > 0 ? string.Join(",", spec.Applications) : null,
            Tags = $"{Tag} {NameTag(spec.Id.Name)}",
        };
        for (var attempt = 1; ; attempt++)
        {
            // Check first: an earlier attempt (or a POST whose answer was lost) may already have made it.
            var existing = await FindOursAsync(client, ctx.State, region, ct).ConfigureAwait(false);
            if (existing is not null)
            {
                _logger.LogInformation("Civo cluster {Name} already exists ({Id}); adopting it.", spec.Id.Name, existing.Id);
                await RecordAsync(ctx, existing.Id).ConfigureAwait(false);
                return;
            }
            try
            {
                _logger.LogInformation("Creating Civo cluster {Name} in {Region} ({Nodes} × {Size}).", spec.Id.Name, region, spec.NodeCount, spec.NodeSize);
                var created = await client.CreateClusterAsync(request, ct).ConfigureAwait(false);
                await RecordAsync(ctx, created.Id).ConfigureAwait(false);
                return;
            }
            catch (CivoTransientException e) when (attempt < 6)
            {
                // The POST may or may not have been applied: look again before retrying.
                var wait = CivoClient.Backoff(attempt);
                _logger.LogWarning("Creating Civo cluster {Name}: {Error}; checking again in {Delay} ms.", spec.Id.Name, e.Message, (int)wait.TotalMilliseconds);
                await Task.Delay(wait, _time, ct).ConfigureAwait(false);
            }
            catch (CivoTransientException e)
            {
                throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ResourceUnavailable, e.Message, "Civo", e);
            }
        }
    }

    private static async Task RecordAsync(StepContext ctx, string id)
    {
        ctx.Mutate(s => s.Resources[ClusterResource] = id);
        await ctx.Session.CheckpointAsync().ConfigureAwait(false);
    }

    private async Task<CivoCluster> WaitActiveAsync(StepContext ctx, string region, CancellationToken ct)
    {
        var client = await ClientAsync(ct).ConfigureAwait(false);
        var id = RecordedId(ctx);
        var deadline = _time.GetUtcNow() + ActiveTimeout;
        var delay = FirstPoll;
        string? last = null;
        while (true)
        {
            var cluster = await client.GetClusterAsync(id, region, ct).ConfigureAwait(false)
                ?? throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ObjectNotFound,
                    $"Civo cluster {id} ('{ctx.State.Id.Name}') disappeared while Ksctl waited for it to become ACTIVE.", ctx.State.Id.Name);
            if (string.Equals(cluster.Status, "ACTIVE", StringComparison.OrdinalIgnoreCase)) return cluster;
            if (cluster.Status?.Contains("ERROR", StringComparison.OrdinalIgnoreCase) == true || cluster.Status?.Contains("FAIL", StringComparison.OrdinalIgnoreCase) == true)
                throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult,
                    $"Civo reports cluster '{ctx.State.Id.Name}' ({id}) as {cluster.Status}.", ctx.State.Id.Name);
            if (cluster.Status != last)
            {
                _logger.LogInformation("Civo cluster {Name} is {Status}; waiting for ACTIVE.", ctx.State.Id.Name, cluster.Status ?? "(no status)");
                last = cluster.Status;
            }
            if (_time.GetUtcNow() + delay > deadline)
                throw new KsctlException("KsctlOperationTimeout", KsctlErrorCategory.OperationTimeout,
                    $"Civo cluster '{ctx.State.Id.Name}' ({id}) was still {cluster.Status} after {ActiveTimeout.TotalMinutes:0} minutes. Re-run to keep waiting.", ctx.State.Id.Name);
            await Task.Delay(delay, _time, ct).ConfigureAwait(false);
            delay = TimeSpan.FromMilliseconds(Math.Min(MaxPoll.TotalMilliseconds, delay.TotalMilliseconds * 1.5));
        }
    }

    private async Task CaptureKubeconfigAsync(StepContext ctx, string region, CancellationToken ct)
    {
        var id = RecordedId(ctx);
        var cluster = await (await ClientAsync(ct).ConfigureAwait(false)).GetClusterAsync(id, region, ct).ConfigureAwait(false)
            ?? throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ObjectNotFound, $"Civo cluster {id} ('{ctx.State.Id.Name}') no longer exists.", ctx.State.Id.Name);
        if (string.IsNullOrWhiteSpace(cluster.Kubeconfig))
            throw new KsctlException("KsctlKubeconfigMissing", KsctlErrorCategory.InvalidResult, $"Civo returned no kubeconfig for cluster '{ctx.State.Id.Name}' ({id}).", ctx.State.Id.Name);
        var context = ctx.State.Id.DefaultContextName;
        var normalized = KubeconfigFile.Normalize(cluster.Kubeconfig, context);
        var server = KubeconfigFile.Parse(normalized, "Civo").Clusters.First().ClusterEndpoint?.Server ?? cluster.ApiEndpoint;
        ctx.Mutate(s =>
        {
            s.Secrets[ClusterState.KubeconfigSecret] = normalized;
            s.ContextName = context;
            s.Endpoint = server;
            if (!string.IsNullOrEmpty(cluster.MasterIp)) s.Resources["civo:master-ip"] = cluster.MasterIp;
            if (!string.IsNullOrEmpty(cluster.KubernetesVersion)) s.KubernetesVersion = cluster.KubernetesVersion;
            s.Nodes = (cluster.Instances ?? [])
                .Select((n, i) => new NodeState
                {
                    Name = n.Hostname ?? n.Id ?? $"node-{i}",
                    Index = i,
                    Role = NodeRole.Worker,
                    ResourceId = n.Id,
                    Hostname = n.Hostname,
                    Size = n.Size ?? s.Spec.NodeSize,
                    PublicIP = n.PublicIp,
                    PrivateIP = n.PrivateIp,
                })
                .ToList();
        });
    }

    private async Task DeleteClusterAsync(StepContext ctx, string region, CancellationToken ct)
    {
        var client = await ClientAsync(ct).ConfigureAwait(false);
        CivoCluster? cluster;
        try
        {
            cluster = await FindOursAsync(client, ctx.State, region, ct).ConfigureAwait(false);
        }
        catch (KsctlException e) when (e.ErrorId == "KsctlResourceExists")
        {
            // A same-named cluster that is not ours: never delete it.
            _logger.LogWarning("{Message} It is left alone.", e.Message);
            cluster = null;
        }
        if (cluster is null)
        {
            _logger.LogInformation("Civo cluster {Name} is already gone.", ctx.State.Id.Name);
            return;
        }
        ctx.Mutate(s => s.Resources[ClusterResource] = cluster.Id);
        if (!await client.DeleteClusterAsync(cluster.Id, region, ct).ConfigureAwait(false))
            _logger.LogInformation("Civo cluster {Id} was already gone.", cluster.Id);
    }

    private async Task WaitDeletedAsync(StepContext ctx, string region, CancellationToken ct)
    {
        if (!ctx.State.Resources.TryGetValue(ClusterResource, out var id)) return;
        var client = await ClientAsync(ct).ConfigureAwait(false);
        var deadline = _time.GetUtcNow() + DeleteTimeout;
        var delay = FirstPoll;
        while (await client.GetClusterAsync(id, region, ct).ConfigureAwait(false) is { } cluster)
        {
            if (_time.GetUtcNow() + delay > deadline)
                throw new KsctlException("KsctlOperationTimeout", KsctlErrorCategory.OperationTimeout,
                    $"Civo cluster '{ctx.State.Id.Name}' ({id}) was still {cluster.Status} {DeleteTimeout.TotalMinutes:0} minutes after its deletion. Re-run to keep waiting.", ctx.State.Id.Name);
            await Task.Delay(delay, _time, ct).ConfigureAwait(false);
            delay = TimeSpan.FromMilliseconds(Math.Min(MaxPoll.TotalMilliseconds, delay.TotalMilliseconds * 1.5));
        }
        ctx.Mutate(s =>
        {
            s.Resources.Remove(ClusterResource);
            s.Resources.Remove("civo:master-ip");
        });
    }

    private static string RecordedId(StepContext ctx) =>
        ctx.State.Resources.TryGetValue(ClusterResource, out var id) ? id
            : throw new KsctlException("KsctlStateInconsistent", KsctlErrorCategory.InvalidData,
                $"No Civo cluster id is recorded for '{ctx.State.Id.Name}'; re-run the create to find or create it.", ctx.State.Id.Name);
}
