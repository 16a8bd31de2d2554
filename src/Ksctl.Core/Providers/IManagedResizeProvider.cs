using Ksctl.Core.Engine;
using Ksctl.Core.Model;

namespace Ksctl.Core.Providers;

/// <summary>A managed-cluster provider whose node pool Ksctl can scale (Resize-KsctlCluster -NodeCount).</summary>
public interface IManagedResizeProvider : IManagedClusterProvider
{
    /// <summary>
    /// Steps that set the cluster's node pool to <paramref name="nodeCount"/> nodes and wait until the cloud reports it
    /// done. Each is safe to run again (a resumed resize sets the same count). The count has been validated already.
    /// </summary>
    IReadOnlyList<PlanStep> ResizeSteps(ClusterState state, int nodeCount);
}
