using System.Text;
using System.Text.RegularExpressions;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Distributions.Artifacts;
using Ksctl.Core.Engine;
using Ksctl.Core.Kube;
using Ksctl.Core.Model;
using Ksctl.Core.Storage.Credentials;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Azure;

/// <summary>
/// Azure: managed AKS clusters, and self-managed HA clusters on Azure VMs (see AzureProvider.Machines.cs). Everything
/// lives in one resource group per cluster, every resource is tagged with the cluster identity, and every resource id
/// is recorded in state before its PUT, so a resumed or repeated create addresses the same resources.
/// </summary>
internal sealed partial class AzureProvider : IManagedClusterProvider, IPreflightProvider, ILiveCatalog
{
    internal static readonly TimeSpan GroupTimeout = TimeSpan.FromMinutes(10);
    internal static readonly TimeSpan ManagedClusterTimeout = TimeSpan.FromMinutes(40);
    internal static readonly TimeSpan ResourceTimeout = TimeSpan.FromMinutes(15);
    private static readonly Regex VmSize = new(@"^(Standard|Basic)_[A-Za-z0-9_]{2,40}$", RegexOptions.CultureInvariant);
    internal static readonly string[] NetworkPlugins = ["azure", "kubenet", "none"];

    private readonly AzureEndpoints _endpoints;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    public AzureProvider(KsctlServices services, AzureEndpoints endpoints)
    {
        _endpoints = endpoints;
        _logger = services.Loggers.CreateLogger<AzureProvider>();
        _time = services.Time;
    }

    /// <summary>The stored credential (Set-KsctlCredential -Provider Azure), asked for lazily.</summary>
    internal Func<CancellationToken, Task<StoredCredential?>>? StoredCredential { get; init; }

    /// <summary>
    /// The credential given for this operation (-Credential/-TenantId/-SubscriptionId): first in the order. Set only on
    /// the per-operation copy the registry makes (ProviderRegistry.Get with a credential).
    /// </summary>
    internal ProviderCredential? ExplicitCredential { get; init; }

    private static readonly string[] VmSizes =
    [
        "Standard_B2s", "Standard_B2ms", "Standard_B4ms",
        "Standard_D2s_v3", "Standard_D4s_v3", "Standard_D8s_v3", "Standard_D2s_v5", "Standard_D4s_v5", "Standard_D8s_v5",
        "Standard_DS2_v2", "Standard_DS3_v2", "Standard_DS4_v2",
        "Standard_E2s_v5", "Standard_E4s_v5",
        "Standard_F2s", "Standard_F4s", "Standard_F8s", "Standard_F2s_v2", "Standard_F4s_v2", "Standard_F8s_v2",
    ];

    public ProviderDescriptor Descriptor { get; } = new()
    {
        Provider = CloudProvider.Azure,
        HasTenantsAndSubscriptions = true,
        SupportedTypes = [ClusterType.Managed, ClusterType.SelfManaged],
        DefaultRegion = "eastus",
        Regions =
        [
            "eastus", "eastus2", "centralus", "northcentralus", "southcentralus", "westcentralus", "westus", "westus2", "westus3",
            "canadacentral", "canadaeast", "brazilsouth", "mexicocentral",
            "northeurope", "westeurope", "uksouth", "ukwest", "francecentral", "germanywestcentral", "italynorth", "polandcentral",
            "spaincentral", "swedencentral", "switzerlandnorth", "norwayeast",
            "uaenorth", "qatarcentral", "israelcentral", "southafricanorth",
            "centralindia", "southindia", "japaneast", "japanwest", "koreacentral", "southeastasia", "eastasia",
            "australiaeast", "australiasoutheast",
        ],
        NodeSizes = VmSizes,
        // The same sizes serve AKS node pools and HA VMs.
        MachineSizes = VmSizes,
        DefaultNodeSize = "Standard_DS2_v2",
        DefaultNodeCount = 1,
        DefaultKubernetesVersion = "1.33",
        ManagedDistributionName = "AKS",
    };

    /// <summary>Self-managed defaults (REFERENCE.md): F2s for every role, F4s for kubeadm workers.</summary>
    internal const string MachineSize = "Standard_F2s";
    internal const string KubeadmWorkerSize = "Standard_F4s";
    internal const string SelfManagedKubernetesVersion = "1.33.1";

    public ClusterSpec Prepare(ClusterSpec spec)
    {
        var region = SpecRules.Region(Descriptor, spec.Id.Region);
        if (spec.Id.Type == ClusterType.Managed)
        {
            SpecRules.NoSelfManagedFields(spec);
            SpecRules.NotApplicable("Application", spec.Applications, "AKS add-ons are not installed by Ksctl in this version; leave -Application out.");
            var cni = (spec.Cni ?? "azure").ToLowerInvariant();
            if (!NetworkPlugins.Contains(cni)) throw new InvalidSpecException("Cni", $"'{spec.Cni}' is not an AKS network plugin; use {string.Join(", ", NetworkPlugins)}.");
            // AKS DNS prefixes are at most 54 characters; cluster names are at most 50, so the name itself always fits.
            return spec with
            {
                Id = spec.Id with { Region = region },
                KubernetesVersion = SpecRules.Version(spec.KubernetesVersion, Descriptor.DefaultKubernetesVersion, requirePatch: false),
                NodeSize = Size("NodeSize", spec.NodeSize ?? Descriptor.DefaultNodeSize!),
                NodeCount = SpecRules.Count("NodeCount", spec.NodeCount, Descriptor.DefaultNodeCount, 1, 100),
                Cni = cni,
            };
        }
        SpecRules.NotApplicable("NodeCount", spec.NodeCount, "applies to Managed clusters; use -ControlPlaneCount, -EtcdCount and -WorkerCount.");
        SpecRules.NotApplicable("NodeSize", spec.NodeSize, "applies to Managed clusters; use -ControlPlaneSize, -EtcdSize, -WorkerSize and -LoadBalancerSize.");
        SpecRules.NotApplicable("Machine", spec.Machines, "Azure creates the machines; -Machine is for BareMetal.");
        SpecRules.NotApplicable("TrustOnFirstUse", spec.TrustOnFirstUse, "Azure VMs get a host key generated by Ksctl and pinned from creation; nothing is trusted on first use.");
        SpecRules.NotApplicable("Application", spec.Applications, "applies to Managed clusters on Civo.");
        ArtifactSource.Parse(spec.ArtifactSource, spec.AllowInsecureArtifactSource);
        var distribution = spec.Distribution ?? DistributionKind.K3s;
        return spec with
        {
            Id = spec.Id with { Region = region },
            KubernetesVersion = SpecRules.Version(spec.KubernetesVersion, SelfManagedKubernetesVersion, requirePatch: true),
            Distribution = distribution,
            EtcdCount = SpecRules.Count("EtcdCount", spec.EtcdCount, 3, 3, 7, odd: true),
            ControlPlaneCount = SpecRules.Count("ControlPlaneCount", spec.ControlPlaneCount, 3, 3, 7, odd: true),
            WorkerCount = SpecRules.Count("WorkerCount", spec.WorkerCount, 1, 0, 100),
            ControlPlaneSize = Size("ControlPlaneSize", spec.ControlPlaneSize ?? MachineSize),
            EtcdSize = Size("EtcdSize", spec.EtcdSize ?? MachineSize),
            LoadBalancerSize = Size("LoadBalancerSize", spec.LoadBalancerSize ?? MachineSize),
            WorkerSize = Size("WorkerSize", spec.WorkerSize ?? (distribution == DistributionKind.Kubeadm ? KubeadmWorkerSize : MachineSize)),
        };
    }

    /// <summary>
    /// A VM size as Azure spells it. Sizes outside the Tab-completion list are accepted when they look like an Azure
    /// size (there are hundreds, and they differ per region): ARM then says verbatim if the region lacks it.
    /// </summary>
    private string Size(string parameter, string size) =>
        Descriptor.NodeSizes.FirstOrDefault(s => string.Equals(s, size, StringComparison.OrdinalIgnoreCase))
        ?? (VmSize.IsMatch(size) ? size : throw new InvalidSpecException(parameter, $"'{size}' is not an Azure VM size; use a name like {Descriptor.DefaultNodeSize} (Tab completes the common ones)."));

    /// <summary>
    /// Signs in and reads the subscription before anything exists: a bad secret, an unknown tenant or a subscription the
    /// credential cannot see fails here with KsctlAuthenticationFailed and nothing is created.
    /// </summary>
    public async Task PreflightAsync(ClusterSpec spec, CancellationToken cancellationToken)
    {
        var (_, subscription) = await ConnectAsync(null, cancellationToken).ConfigureAwait(false);
        _logger.LogInformation("Azure: signed in; using subscription {Subscription}.", subscription);
    }

    /// <summary>
    /// The ARM client and the subscription: the one recorded in the cluster's state (a resumed operation keeps using the
    /// same ids), else the credential's, else AZURE_SUBSCRIPTION_ID, else the single subscription the credential sees.
    /// </summary>
    internal async Task<(ArmRestClient Client, string Subscription)> ConnectAsync(string? recorded, CancellationToken ct)
    {
        var signIn = await AzureCredentials.ResolveAsync(ExplicitCredential, StoredCredential, _endpoints, ct).ConfigureAwait(false);
        _logger.LogDebug("Azure: signing in with the {SignIn}.", signIn.ToString());
        var client = new ArmRestClient(signIn, _endpoints, _logger, _time);
        if (recorded is not null) return (client, recorded);
        if (signIn.SubscriptionId is { } given)
        {
            try
            {
                if (await client.GetAsync($"/subscriptions/{given}", AzureApiVersions.Subscriptions, ct).ConfigureAwait(false) is null)
                    throw NoSubscription($"the subscription {given} does not exist or the credential cannot see it");
            }
            catch (KsctlException e) when (e.ErrorId == "KsctlCloudApiError" && e.Category == KsctlErrorCategory.SecurityError)
            {
                throw NoSubscription($"the credential may not read subscription {given}: {e.Message}");
            }
            return (client, given);
        }
        var visible = await client.ListSubscriptionIdsAsync(ct).ConfigureAwait(false);
        return visible.Count switch
        {
            1 => (client, visible[0]),
            0 => throw NoSubscription("the credential sees no subscription"),
            _ => throw new InvalidSpecException("SubscriptionId",
                $"the credential sees {visible.Count} subscriptions ({string.Join(", ", visible)}); choose one with -SubscriptionId or {AzureCredentials.SubscriptionIdVariable}."),
        };
    }

    // ---- live catalogue (Tab completion) ----

    /// <summary>
    /// The subscription's physical regions (ARM also lists logical ones such as "global" or "europe", which no resource can
    /// be created in), sorted. Empty, with nothing sent, when no credential is at hand without probing or no subscription
    /// is known; a refused credential throws (KsctlAuthenticationFailed), as Civo's catalogue does.
    /// </summary>
    public async Task<IReadOnlyList<string>> RegionsAsync(CancellationToken ct)
    {
        if (await CatalogSessionAsync(ct).ConfigureAwait(false) is not var (client, subscription)) return [];
        var locations = await client.ListAsync($"/subscriptions/{subscription}/locations", AzureApiVersions.Subscriptions, "list locations", ct).ConfigureAwait(false);
        return locations
            .Where(l => string.Equals(l["metadata"]?["regionType"]?.GetValue<string>(), "Physical", StringComparison.OrdinalIgnoreCase))
            .Select(l => l["name"]?.GetValue<string>())
            .OfType<string>()
            .Where(n => n.Length > 0)
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// The VM sizes offered in <paramref name="region"/> (else the default region), sorted; AKS node pools and HA VMs take
    /// the same sizes. Same credential rules as <see cref="RegionsAsync"/>.
    /// </summary>
    public async Task<IReadOnlyList<string>> NodeSizesAsync(string? region, CancellationToken ct)
    {
        var location = string.IsNullOrWhiteSpace(region) ? Descriptor.DefaultRegion! : region.Trim();
        // A location name is letters and digits ("eastus2"); anything else (a half-typed "East US", a path) is no region
        // ARM knows, and must not become part of the request path.
        if (!LocationName.IsMatch(location)) return [];
        if (await CatalogSessionAsync(ct).ConfigureAwait(false) is not var (client, subscription)) return [];
        var sizes = await client.ListAsync($"/subscriptions/{subscription}/providers/Microsoft.Compute/locations/{location.ToLowerInvariant()}/vmSizes",
            AzureApiVersions.Compute, $"list VM sizes in {location}", ct).ConfigureAwait(false);
        return sizes
            .Select(s => s["name"]?.GetValue<string>())
            .OfType<string>()
            .Where(n => n.Length > 0)
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Order(StringComparer.OrdinalIgnoreCase)
            .ToList();
    }

    private static readonly Regex LocationName = new("^[A-Za-z0-9]{1,40}$", RegexOptions.CultureInvariant);

    /// <summary>
    /// The ARM client and subscription for the catalogue, or null when either is missing. Unlike <see cref="ConnectAsync"/>
    /// this never falls back to DefaultAzureCredential (slow probing, possibly a prompt: not for a Tab press) and never
    /// lists subscriptions to guess one (an extra round trip inside the completer's budget); the subscription is the one
    /// given with the credential, the stored credential's, or AZURE_SUBSCRIPTION_ID.
    /// </summary>
    private async Task<(ArmRestClient Client, string Subscription)?> CatalogSessionAsync(CancellationToken ct)
    {
        var signIn = await AzureCredentials.ResolveWithoutProbingAsync(ExplicitCredential, StoredCredential, _endpoints, ct).ConfigureAwait(false);
        if (signIn is null)
        {
            _logger.LogDebug("Azure catalogue: no client secret at hand (stored credential or {Variable} and friends); not asking Azure.", AzureCredentials.ClientSecretVariable);
            return null;
        }
        if (signIn.SubscriptionId is not { } subscription)
        {
            _logger.LogDebug("Azure catalogue: the {SignIn} names no subscription (Set-KsctlCredential -SubscriptionId or {Variable}); not asking Azure.", signIn.ToString(), AzureCredentials.SubscriptionIdVariable);
            return null;
        }
        // The subscription goes into the request path: only a GUID, as ARM names subscriptions.
        if (!Guid.TryParse(subscription, out _)) return null;
        return (new ArmRestClient(signIn, _endpoints, _logger, _time), subscription);
    }

    private static KsctlException NoSubscription(string why) =>
        new("KsctlAuthenticationFailed", KsctlErrorCategory.AuthenticationError, $"Azure sign-in worked but {why}.", "Azure")
        {
            RecommendedAction = $"Give -SubscriptionId (or set {AzureCredentials.SubscriptionIdVariable}) to a subscription where the identity has Contributor rights.",
        };

    /// <summary>The client plus the names/ids of this cluster's resources (subscription recorded on first use).</summary>
    internal async Task<(ArmRestClient Client, AzureNames Names)> SessionAsync(StepContext ctx, CancellationToken ct)
    {
        var recorded = Recorded(ctx, AzureResourceKeys.Subscription);
        var (client, subscription) = await ConnectAsync(recorded, ct).ConfigureAwait(false);
        if (recorded is null)
        {
            // Parallel first steps may race here: the first one recorded wins for all.
            ctx.Mutate(s => s.Resources.TryAdd(AzureResourceKeys.Subscription, subscription));
            await ctx.Session.CheckpointAsync().ConfigureAwait(false);
            subscription = Recorded(ctx, AzureResourceKeys.Subscription)!;
        }
        return (client, new AzureNames(subscription, ctx.State.Id));
    }

    /// <summary>
    /// A value of the state's Resources, read under the session's gate: parallel steps record theirs at the same time,
    /// and a dictionary must not be read while another thread writes it.
    /// </summary>
    internal static string? Recorded(StepContext ctx, string key) => ctx.Session.Read(s => s.Resources.GetValueOrDefault(key));

    /// <summary>Records a resource id before its PUT (checkpointed), so a delete after a crash knows to look for it.</summary>
    internal static async Task RecordAsync(StepContext ctx, string key, string id)
    {
        if (Recorded(ctx, key) == id) return;
        ctx.Mutate(s => s.Resources[key] = id);
        await ctx.Session.CheckpointAsync().ConfigureAwait(false);
    }

    // ---- managed (AKS) ----

    public IReadOnlyList<PlanStep> CreateSteps(ClusterSpec spec)
    {
        var id = spec.Id;
        var group = AzureNames.ResourceGroupName(id);
        return
        [
            GroupStep(id),
            new PlanStep(AzureResourceKeys.ManagedCluster, (ctx, ct) => CreateManagedClusterAsync(ctx, spec, ct))
            {
                DependsOn = [AzureResourceKeys.ResourceGroup],
                Description = $"create AKS cluster '{id.Name}' in {id.Region}: system node pool {spec.NodeCount} × {spec.NodeSize}, Kubernetes {spec.KubernetesVersion}, network plugin {spec.Cni} (waits until provisioned, up to {ManagedClusterTimeout.TotalMinutes:0} minutes)",
                Resources = [$"Microsoft.ContainerService/managedClusters {id.Name} in {group} (node pool '{AzureBodies.SystemPool}': {spec.NodeCount} × {spec.NodeSize}; AKS adds node resource group MC_{group}_{id.Name}_{id.Region})"],
            },
            new PlanStep("kubeconfig", (ctx, ct) => CaptureKubeconfigAsync(ctx, ct))
            {
                DependsOn = [AzureResourceKeys.ManagedCluster],
                Description = $"capture the admin kubeconfig (listClusterAdminCredential) as context {id.DefaultContextName}",
                Resources = [$"context {id.DefaultContextName}"],
            },
        ];
    }

    public IReadOnlyList<PlanStep> DeleteSteps(ClusterState state)
    {
        var id = state.Id;
        return
        [
            new PlanStep(AzureResourceKeys.ManagedCluster, (ctx, ct) => DeleteRecordedAsync(ctx, AzureResourceKeys.ManagedCluster, AzureApiVersions.ContainerService, ManagedClusterTimeout, ct))
            {
                Description = $"delete AKS cluster '{id.Name}' (and with it its node resource group)",
                Resources = [$"Microsoft.ContainerService/managedClusters {id.Name}"],
            },
            DeleteGroupStep(state, [AzureResourceKeys.ManagedCluster]),
        ];
    }

    internal PlanStep GroupStep(ClusterId id) =>
        new(AzureResourceKeys.ResourceGroup, (ctx, ct) => CreateGroupAsync(ctx, ct))
        {
            IsAlreadyDone = (ctx, ct) => ProvisionedAsync(ctx, AzureResourceKeys.ResourceGroup, AzureApiVersions.Resources, ct),
            Description = $"create resource group {AzureNames.ResourceGroupName(id)} in {id.Region}, tagged ksctl-cluster={id.Name}",
            Resources = [$"resource group {AzureNames.ResourceGroupName(id)} ({id.Region})"],
        };

    internal PlanStep DeleteGroupStep(ClusterState state, IReadOnlyList<string> after) =>
        new("azure:delete-resource-group", (ctx, ct) => DeleteRecordedAsync(ctx, AzureResourceKeys.ResourceGroup, AzureApiVersions.Resources, GroupTimeout, ct))
        {
            DependsOn = after,
            Description = $"delete resource group {AzureNames.ResourceGroupName(state.Id)} (last: anything Ksctl left in it goes with it)",
            Resources = [$"resource group {AzureNames.ResourceGroupName(state.Id)}"],
        };

    private async Task CreateGroupAsync(StepContext ctx, CancellationToken ct)
    {
        var (client, names) = await SessionAsync(ctx, ct).ConfigureAwait(false);
        await RecordAsync(ctx, AzureResourceKeys.ResourceGroup, names.ResourceGroupId).ConfigureAwait(false);
        await client.PutAsync(names.ResourceGroupId, AzureApiVersions.Resources, AzureBodies.ResourceGroup(ctx.State.Id), $"resource group {names.ResourceGroup}", GroupTimeout, ct).ConfigureAwait(false);
    }

    private async Task CreateManagedClusterAsync(StepContext ctx, ClusterSpec spec, CancellationToken ct)
    {
        var (client, names) = await SessionAsync(ctx, ct).ConfigureAwait(false);
        await RecordAsync(ctx, AzureResourceKeys.ManagedCluster, names.ManagedClusterId).ConfigureAwait(false);
        _logger.LogInformation("Creating AKS cluster {Name} in {Region} ({Count} × {Size}); this takes several minutes.", spec.Id.Name, spec.Id.Region, spec.NodeCount, spec.NodeSize);
        var cluster = await client.PutAsync(names.ManagedClusterId, AzureApiVersions.ContainerService, AzureBodies.ManagedCluster(spec),
            $"AKS cluster {spec.Id.Name}", ManagedClusterTimeout, ct).ConfigureAwait(false);
        var properties = cluster["properties"];
        var fqdn = properties?["fqdn"]?.GetValue<string>();
        var version = properties?["currentKubernetesVersion"]?.GetValue<string>() ?? properties?["kubernetesVersion"]?.GetValue<string>();
        ctx.Mutate(s =>
        {
            if (fqdn is not null) s.Endpoint = $"https://{fqdn}:443";
            if (version is not null) s.KubernetesVersion = version;
        });
    }

    private async Task CaptureKubeconfigAsync(StepContext ctx, CancellationToken ct)
    {
        var (client, names) = await SessionAsync(ctx, ct).ConfigureAwait(false);
        var result = await client.PostActionAsync(names.ManagedClusterId, "listClusterAdminCredential", AzureApiVersions.ContainerService,
            $"admin credentials of AKS cluster {ctx.State.Id.Name}", ct).ConfigureAwait(false);
        var encoded = result["kubeconfigs"]?.AsArray().FirstOrDefault()?["value"]?.GetValue<string>();
        if (string.IsNullOrWhiteSpace(encoded))
            throw new KsctlException("KsctlKubeconfigMissing", KsctlErrorCategory.InvalidResult, $"Azure returned no admin kubeconfig for AKS cluster '{ctx.State.Id.Name}'.", ctx.State.Id.Name);
        string raw;
        try { raw = Encoding.UTF8.GetString(Convert.FromBase64String(encoded)); }
        catch (FormatException e)
        {
            throw new KsctlException("KsctlKubeconfigMissing", KsctlErrorCategory.InvalidResult, $"Azure's admin kubeconfig for '{ctx.State.Id.Name}' is not base64.", ctx.State.Id.Name, e);
        }
        var context = ctx.State.Id.DefaultContextName;
        var normalized = KubeconfigFile.Normalize(raw, context);
        var server = KubeconfigFile.Parse(normalized, "Azure").Clusters.First().ClusterEndpoint?.Server;
        ctx.Mutate(s =>
        {
            s.Secrets[ClusterState.KubeconfigSecret] = normalized;
            s.ContextName = context;
            if (server is not null) s.Endpoint = server;
        });
    }

    /// <summary>Deletes the resource recorded under <paramref name="key"/> (404: already gone) and forgets it.</summary>
    internal async Task DeleteRecordedAsync(StepContext ctx, string key, string apiVersion, TimeSpan timeout, CancellationToken ct)
    {
        if (Recorded(ctx, key) is not { } id) return;
        var (client, _) = await SessionAsync(ctx, ct).ConfigureAwait(false);
        if (!await client.DeleteAsync(id, apiVersion, $"delete {ArmRestClient.ShortName(id)}", timeout, ct).ConfigureAwait(false))
            _logger.LogInformation("Azure {Resource} was already gone.", ArmRestClient.ShortName(id));
        ctx.Mutate(s => s.Resources.Remove(key));
    }
}
