using Ksctl.Core.Diagnostics;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Providers;
using Ksctl.Core.Reconcile;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Clusters;

/// <summary>
/// Repair: finding the workers whose machines the cloud lost, and replacing them (the reconciler's repair, for clusters
/// that opted in with <see cref="ClusterSpec.Repair"/>). A replacement is a plan like a resize, under the same lock.
/// </summary>
public sealed partial class ClusterManager
{
    /// <summary>The recorded workers the cloud's inventory no longer has (read only; nothing is changed).</summary>
    public async Task<LostWorkers> FindLostWorkersAsync(ClusterState state, CancellationToken cancellationToken)
    {
        if (state.Id.Type != ClusterType.SelfManaged || _providers.Get(state.Id.Provider) is not IInventoryProvider inventory) return LostWorkers.None;
        var live = await inventory.LiveMachinesAsync(state, cancellationToken).ConfigureAwait(false);
        return LostWorkers.Find(state, live);
    }

    /// <summary>
    /// Replaces the given workers of a self-managed cluster: each one's Node is deleted (no drain: its kubelet is gone
    /// and would never confirm an eviction), what is left of its machine is removed and the node dropped from the
    /// state, then a new machine is made and joined under the same name. The workers are recorded in
    /// <see cref="ReconcileStatus.Replacing"/> until it succeeds, so a failed replacement (ConfiguringFailed) is resumed
    /// for the same workers, its finished steps skipped.
    /// </summary>
    public async Task<ClusterState> ReplaceWorkersAsync(ClusterId id, IReadOnlyList<string> workers, OperationOptions options, CancellationToken cancellationToken)
    {
        var provider = _providers.Get(id.Provider, options.Credential);
        if (id.Type != ClusterType.SelfManaged || provider is not ISelfManagedProvider { KeepsMachines: false })
            throw new OperationNotAllowedException(id.ToString(), "repair", $"{id.Provider} {id.Type} (only self-managed clusters whose machines a cloud makes can have a machine replaced)");
        await using var clusterLock = await Store.AcquireLockAsync(id, "repair", options.BreakStaleLock, cancellationToken).ConfigureAwait(false);
        var state = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        var resuming = await EnsureAllowedAsync(state, ClusterOperation.Resize, lockHeld: true, cancellationToken).ConfigureAwait(false) == ClusterStatus.ConfiguringFailed
            && state.Reconcile is { Replacing.Count: > 0 };
        var keys = CheckWorkers(state, workers, resuming);
        var session = new StateSession(state, Store);
        session.Mutate(s =>
        {
            if (!resuming) foreach (var key in s.Steps.Keys.Where(k => k.StartsWith("repair/", StringComparison.Ordinal)).ToList()) s.Steps.Remove(key);
            (s.Reconcile ??= new ReconcileStatus()).Replacing = keys.ToList();
            s.Status = ClusterStatus.Configuring;
            s.LastErrors.Clear();
        });
        await session.CheckpointAsync().ConfigureAwait(false);
        await using var build = _composer.Repair(state, keys, options);
        _logger.LogInformation("Replacing worker(s) {Workers} of {Cluster}: {Steps} step(s).", string.Join(", ", keys), id, build.Plan.Steps.Count);
        await RunAsync(build.Plan, session, options, ClusterStatus.Running, ClusterStatus.ConfiguringFailed, "KsctlRepairFailed", cancellationToken).ConfigureAwait(false);
        session.Mutate(s => s.Reconcile!.Replacing.Clear());
        await session.CheckpointAsync().ConfigureAwait(false);
        return state;
    }

    /// <summary>
    /// The workers to replace must be recorded workers of this cluster (a name read back from anywhere is not trusted to
    /// pick what is deleted); a resumed replacement takes the ones it started with, which may already be off the state.
    /// </summary>
    private static IReadOnlyList<string> CheckWorkers(ClusterState state, IReadOnlyList<string> workers, bool resuming)
    {
        if (workers.Count == 0) throw new InvalidSpecException("Workers", "name at least one worker to replace.");
        var allowed = state.Nodes.Where(n => n.Role == NodeRole.Worker && n.Key is not null).Select(n => n.Key!).ToHashSet(StringComparer.Ordinal);
        if (resuming) allowed.UnionWith(state.Reconcile!.Replacing);
        var unknown = workers.Where(w => !allowed.Contains(w)).ToList();
        if (unknown.Count > 0)
            throw new InvalidSpecException("Workers", $"{string.Join(", ", unknown)} {(unknown.Count == 1 ? "is" : "are")} not a recorded worker of {state.Id}; workers: {string.Join(", ", allowed.Order(StringComparer.Ordinal))}.");
        if (resuming && !workers.ToHashSet(StringComparer.Ordinal).SetEquals(state.Reconcile!.Replacing))
            throw new InvalidSpecException("Workers", $"a replacement of {string.Join(", ", state.Reconcile.Replacing)} failed; finish it first (the same workers).");
        return workers.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
    }
}
