using Ksctl.Core.Health;
using Ksctl.Core.Model;
using Ksctl.Core.Providers;

namespace Ksctl.Core.Reconcile;

/// <summary>
/// Which recorded workers the cloud no longer has: what a repair replaces. <see cref="Withheld"/> says why none are
/// reported although some look lost (the inventory answer is not trusted to drive a replacement).
/// </summary>
public sealed record LostWorkers(IReadOnlyList<string> Keys, string? Withheld = null)
{
    public static readonly LostWorkers None = new([]);

    /// <summary>
    /// Matches each recorded worker to the cloud's inventory by resource id, else by name (Test-KsctlCluster's drift
    /// check's rule, <see cref="InventoryDrift.Match"/>). A machine that exists but is stopped is not lost (it can be started again); only a gone one is.
    /// The answer drives a machine's replacement, so it is only believed when it still holds the cluster's load
    /// balancer and every control plane: an inventory read from the wrong account or region, or during an outage
    /// that took the whole cluster, would otherwise look like every worker lost.
    /// </summary>
    public static LostWorkers Find(ClusterState state, IReadOnlyList<LiveMachine> live)
    {
        bool Present(NodeState node) => InventoryDrift.Match(node, live) is not null;
        var lost = state.Nodes.Where(n => n.Role == NodeRole.Worker && n.Key is not null && !Present(n))
            .OrderBy(n => n.Index).Select(n => n.Key!).ToList();
        if (lost.Count == 0) return None;
        var missingCore = state.Nodes.Where(n => n.Role is NodeRole.ControlPlane or NodeRole.LoadBalancer && !Present(n)).Select(n => n.Key ?? n.Name).ToList();
        if (state.Nodes.All(n => n.Role == NodeRole.Worker) || missingCore.Count > 0)
            return new([], $"the {state.Id.Provider} inventory lacks {string.Join(", ", lost)} but also {(missingCore.Count > 0 ? string.Join(", ", missingCore) : "every control plane")}; nothing is replaced until the cloud reports the cluster's control planes and load balancer again");
        return new(lost);
    }
}
