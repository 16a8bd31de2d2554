using Ksctl.Core.Model;

namespace Ksctl.Core.Providers;

/// <summary>What a provider offers and its defaults: feeds validation, Tab completion and help.</summary>
public sealed record ProviderDescriptor
{
    public required CloudProvider Provider { get; init; }
    public required IReadOnlyList<ClusterType> SupportedTypes { get; init; }
    public required string DefaultRegion { get; init; }
    /// <summary>Known regions (static list; a provider may refresh it live).</summary>
    public required IReadOnlyList<string> Regions { get; init; }
    /// <summary>True where the region is a free-form label (BareMetal) rather than one of <see cref="Regions"/>.</summary>
    public bool RegionIsLabel { get; init; }
    public IReadOnlyList<string> NodeSizes { get; init; } = Array.Empty<string>();
    public string? DefaultNodeSize { get; init; }
    /// <summary>Sizes of the machines of self-managed clusters (-ControlPlaneSize, -WorkerSize, -EtcdSize, -LoadBalancerSize).</summary>
    public IReadOnlyList<string> MachineSizes { get; init; } = Array.Empty<string>();
    public int DefaultNodeCount { get; init; } = 1;
    public required string DefaultKubernetesVersion { get; init; }
    /// <summary>Whether a credential names a tenant and a subscription (-TenantId, -SubscriptionId): Azure's do.</summary>
    public bool HasTenantsAndSubscriptions { get; init; }
    /// <summary>The name shown as Distribution for managed clusters ("Kind", "AKS", "K3s").</summary>
    public string? ManagedDistributionName { get; init; }
}
