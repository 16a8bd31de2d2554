using Ksctl.Core.Health;
using Ksctl.Core.Model;

namespace Ksctl.Core.Clusters;

/// <summary>Live health: Test-KsctlCluster, Get-KsctlCluster -Refresh, and the server's reconciler call these.</summary>
public sealed partial class ClusterManager
{
    /// <summary>
    /// Every live check of the cluster (see <see cref="HealthChecks"/>), one result each. Read only and lock free: it
    /// may run while another operation holds the cluster. Throws only when the cluster is not found or its state is invalid.
    /// </summary>
    public async Task<IReadOnlyList<HealthCheckResult>> TestAsync(ClusterId id, CancellationToken cancellationToken)
    {
        var state = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        return await TestAsync(state, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The same for the one cluster <paramref name="cluster"/> names (<see cref="ResolveAsync"/>: ambiguity is an error).</summary>
    public async Task<IReadOnlyList<HealthCheckResult>> TestAsync(string cluster, CancellationToken cancellationToken)
    {
        var state = await ResolveAsync(cluster, null, null, null, cancellationToken).ConfigureAwait(false);
        return await TestAsync(state, cancellationToken).ConfigureAwait(false);
    }

    private Task<IReadOnlyList<HealthCheckResult>> TestAsync(ClusterState state, CancellationToken cancellationToken)
    {
        var checker = new ClusterHealthChecker(_providers.Get(state.Id.Provider), _services.RemoteShells, _services.Time);
        return checker.CheckAsync(state, cancellationToken);
    }

    /// <summary>
    /// What Get-KsctlCluster -Refresh shows for one listed cluster: a Running cluster whose checks fail is returned as
    /// <see cref="ClusterStatus.Degraded"/> with one reason per failed check in <see cref="ClusterState.LastErrors"/>.
    /// Only the copy returned changes: the stored status stays Running (Degraded is an observation, not a step of the
    /// status machine), so every operation Running allows stays allowed.
    /// </summary>
    public async Task<ClusterState> RefreshAsync(ClusterId id, CancellationToken cancellationToken)
    {
        var state = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (state.Status != ClusterStatus.Running) return state;
        var failed = (await TestAsync(state, cancellationToken).ConfigureAwait(false)).Where(r => !r.Passed).ToList();
        if (failed.Count == 0) return state;
        state.Status = ClusterStatus.Degraded;
        state.LastErrors.Clear();
        state.LastErrors.AddRange(failed.Select(f => $"{f.Check} {f.Target}: {f.Reason}"));
        return state;
    }
}
