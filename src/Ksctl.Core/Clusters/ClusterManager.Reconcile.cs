using Ksctl.Core.Model;

namespace Ksctl.Core.Clusters;

/// <summary>Turning a cluster's reconciliation on or off (New-KsctlCluster -Reconcile, the spec's 'reconcile', the API).</summary>
public sealed partial class ClusterManager
{
    /// <summary>Sets <see cref="ClusterSpec.Reconcile"/> under the cluster's lock; turning it on clears a give-up so the reconciler tries again.</summary>
    public async Task<ClusterState> SetReconcileAsync(ClusterId id, bool enabled, CancellationToken cancellationToken)
    {
        await using var clusterLock = await Store.AcquireLockAsync(id, "set-reconcile", breakStale: false, cancellationToken).ConfigureAwait(false);
        var state = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        state.Spec = state.Spec with { Reconcile = enabled };
        if (enabled) state.Reconcile = new ReconcileStatus { Log = state.Reconcile?.Log ?? new(), Replacing = state.Reconcile?.Replacing ?? new() };
        state.Reconcile?.Append(_services.Time.GetUtcNow(), enabled ? "reconciliation turned on" : "reconciliation turned off");
        state.UpdatedAt = _services.Time.GetUtcNow();
        await Store.WriteAsync(state, cancellationToken).ConfigureAwait(false);
        return state;
    }
}
