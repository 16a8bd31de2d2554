using Ksctl.Core.Engine;
using Ksctl.Core.Model;

namespace Ksctl.Core.Distributions;

/// <summary>
/// Turns machines into Kubernetes (K3s, Kubeadm). The load balancer and the etcd datastore are shared components
/// the ClusterManager adds before; the distribution's control plane 0 depends on the steps named in <c>ready</c>.
/// </summary>
internal interface IDistribution
{
    DistributionKind Kind { get; }

    /// <summary>CP0 alone (after <paramref name="ready"/>), then the other control planes ∥ workers, then the kubeconfig step.</summary>
    IReadOnlyList<PlanStep> CreateSteps(ClusterSpec spec, SelfManagedTopology topology, MachineAccess access, IReadOnlyList<string> ready);

    /// <summary>Join the given workers (resize up), each after its machine step.</summary>
    IReadOnlyList<PlanStep> JoinWorkerSteps(ClusterSpec spec, IReadOnlyList<TopologyNode> workers, MachineAccess access);

    /// <summary>Remove what the distribution installed on the given nodes (machines that are kept, or workers scaled down).</summary>
    IReadOnlyList<PlanStep> UninstallSteps(IReadOnlyList<NodeState> nodes, MachineAccess access);

    /// <summary>Drain each node and delete its Kubernetes Node object (through control plane 0) before it is removed.</summary>
    IReadOnlyList<PlanStep> RemoveNodeSteps(ClusterState state, IReadOnlyList<NodeState> nodes, MachineAccess access);
}
