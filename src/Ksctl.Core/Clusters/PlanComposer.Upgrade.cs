using Ksctl.Core.Distributions;
using Ksctl.Core.Distributions.K3s;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Providers;

namespace Ksctl.Core.Clusters;

/// <summary>The upgrade plan: the managed provider's steps, or the distribution's rolling upgrade of the recorded nodes.</summary>
internal sealed partial class PlanComposer
{
    public PlanBuild Upgrade(ClusterState state, string version, int maxUnavailable, OperationOptions options)
    {
        var provider = providers.Get(state.Id.Provider, options.Credential);
        if (state.Id.Type == ClusterType.Managed)
            return provider is IManagedUpgradeProvider managed
                ? new PlanBuild(new Plan("upgrade", state.Id, managed.UpgradeSteps(state, version)), null)
                : throw new Diagnostics.ProviderNotAvailableException(state.Id.Provider.ToString(), $"Upgrading {state.Id.Type} clusters on {state.Id.Provider} is not available in this version of Ksctl.");
        var (_, distribution, access) = SelfManaged(provider, state.Spec, options);
        var upgrader = Upgrader(distribution.Kind);
        return new PlanBuild(new Plan("upgrade", state.Id, RollingUpgrade.Steps(state, version, maxUnavailable, upgrader, access)), access);
    }

    /// <summary>Whether this build can upgrade the kind of cluster (checked before anything is locked).</summary>
    public bool CanUpgrade(ClusterState state)
    {
        if (state.Id.Type == ClusterType.Managed) return providers.Get(state.Id.Provider) is IManagedUpgradeProvider;
        return UpgraderOrNull(state.Spec.Distribution ?? DistributionKind.K3s) is not null;
    }

    public void CheckManagedVersion(ClusterState state, string version)
    {
        if (providers.Get(state.Id.Provider) is IManagedUpgradeProvider managed) managed.CheckUpgradeVersion(state, version);
    }

    private static IUpgradableDistribution Upgrader(DistributionKind kind) => UpgraderOrNull(kind)
        ?? throw new Diagnostics.ProviderNotAvailableException(kind.ToString(), $"Upgrading {kind} clusters is not available in this version of Ksctl.");

    private static IUpgradableDistribution? UpgraderOrNull(DistributionKind kind) => kind switch
    {
        DistributionKind.K3s => new K3sUpgrade(),
        DistributionKind.Kubeadm => new Distributions.Kubeadm.KubeadmUpgrade(),
        _ => null,
    };
}
