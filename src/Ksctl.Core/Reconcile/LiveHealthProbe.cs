using Ksctl.Core.Clusters;
using Ksctl.Core.Model;

namespace Ksctl.Core.Reconcile;

/// <summary>
/// The reconciler's default probe: the same live checks as Test-KsctlCluster (<see cref="ClusterManager.TestAsync(ClusterId, CancellationToken)"/>:
/// API ready through the load balancer, nodes Ready, etcd members, load-balancer backends, certificate expiry, drift
/// against the cloud's inventory), one finding per check.
/// </summary>
public sealed class LiveHealthProbe(ClusterManager manager) : IClusterHealthProbe
{
    public async Task<IReadOnlyList<HealthFinding>> CheckAsync(ClusterState state, CancellationToken cancellationToken)
    {
        var results = await manager.TestAsync(state.Id, cancellationToken).ConfigureAwait(false);
        return results.Select(r => new HealthFinding($"{r.Check} {r.Target}", r.Passed, r.Passed ? null : r.Reason)).ToList();
    }
}
