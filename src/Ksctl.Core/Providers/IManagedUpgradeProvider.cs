using Ksctl.Core.Engine;
using Ksctl.Core.Model;

namespace Ksctl.Core.Providers;

/// <summary>A managed-cluster provider whose cloud upgrades the cluster's Kubernetes version in place.</summary>
public interface IManagedUpgradeProvider : IManagedClusterProvider
{
    /// <summary>
    /// Checks <paramref name="version"/> is written as this cloud writes versions (no cloud call); throws
    /// <see cref="Diagnostics.InvalidSpecException"/> naming KubernetesVersion otherwise.
    /// </summary>
    void CheckUpgradeVersion(ClusterState state, string version);

    /// <summary>
    /// Steps that take the cluster to <paramref name="version"/>: the control plane first, then its node pools, each
    /// waited on; each step finds what is already done (the cloud reports the version) so a re-run resumes.
    /// </summary>
    IReadOnlyList<PlanStep> UpgradeSteps(ClusterState state, string version);
}
