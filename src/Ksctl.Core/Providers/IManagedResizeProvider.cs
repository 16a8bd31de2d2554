using Ksctl.Core.Engine;
using Ksctl.Core.Model;

namespace Ksctl.Core.Providers;

/// <summary>A managed-cluster provider whose node pool Ksctl can resize (Resize-KsctlCluster -NodeCount).</summary>
public interface IManagedResizeProvider : IManagedClusterProvider
{
    /// <summary>Steps that set the node pool to <paramref name="nodeCount"/> nodes (per zone where the cloud counts so); safe to re-run.</summary>
    IReadOnlyList<PlanStep> ResizeSteps(ClusterState state, int nodeCount);
}
