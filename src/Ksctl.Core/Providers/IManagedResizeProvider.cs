using Ksctl.Core.Engine;
using Ksctl.Core.Model;

namespace Ksctl.Core.Providers;

/// <summary>A managed-cluster provider whose node pool Ksctl can resize (Resize-KsctlCluster -NodeCount).</summary>
public interface IManagedResizeProvider : IManagedClusterProvider
{
    /// <summary>
    /// Steps that bring the cluster's node pool to <paramref name="resized"/>'s NodeCount (validated by Prepare) and wait
    /// until it is ready; safe to run again after a failure.
    /// </summary>
    IReadOnlyList<PlanStep> ResizeSteps(ClusterState state, ClusterSpec resized);
}
