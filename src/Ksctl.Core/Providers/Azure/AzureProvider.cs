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
/// is recorded in state before its PUT, so a resumed or repeated create addresses the same resources, and checked
/// against the id Ksctl computes before any request (<see cref="AzureRecordedIds"/>). Split by responsibility:
/// AzureProvider.Session.cs (sign-in, recorded ids), .Managed.cs (AKS), .Machines.cs (VMs), .Catalog.cs (Tab lists).
/// </summary>
internal sealed partial class AzureProvider : IManagedClusterProvider, IPreflightProvider, ILiveCatalog
{
    internal static readonly TimeSpan GroupTimeout = TimeSpan.FromMinutes(10);
    internal static readonly TimeSpan ManagedClusterTimeout = TimeSpan.FromMinutes(40);
    internal static readonly TimeSpan ResourceTimeout = TimeSpan.FromMinutes(15);
    private static readonly Regex VmSize = new(@"^(Standard|Basic)_[A-Za-z0-9][A-Za-z0-9_\-]{1,40}\z", RegexOptions.CultureInvariant);
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
        // AKS: the region's default from ARM's kubernetesVersions list at create time (no pinned minor that ages out).
        DefaultKubernetesVersion = AksDefaultVersion,
        ManagedDistributionName = "AKS",
    };

    /// <summary>Self-managed defaults (REFERENCE.md): F2s for every role, F4s for kubeadm workers.</summary>
    internal const string MachineSize = "Standard_F2s";
    internal const string KubeadmWorkerSize = "Standard_F4s";
    internal const string SelfManagedKubernetesVersion = "1.33.1";
    /// <summary>What the descriptor shows for AKS: the version is read from ARM when the cluster is created.</summary>
    internal const string AksDefaultVersion = "AKS default";

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
                // Null: the region's default, read from ARM's kubernetesVersions list when the cluster is created.
                KubernetesVersion = spec.KubernetesVersion is null ? null : SpecRules.Version(spec.KubernetesVersion, spec.KubernetesVersion, requirePatch: false),
                NodeSize = Size("NodeSize", spec.NodeSize ?? Descriptor.DefaultNodeSize!),
                NodeCount = SpecRules.Count("NodeCount", spec.NodeCount, Descriptor.DefaultNodeCount, 1, 100),
                Cni = cni,
            };
        }
        return SpecRules.CloudSelfManaged(spec with { Id = spec.Id with { Region = region } }, "Azure", "VMs", SelfManagedKubernetesVersion, MachineSize, KubeadmWorkerSize, Size);
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
}
