using Ksctl.Core.Diagnostics;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Clusters;

/// <summary>The use cases that change an existing cluster: delete it, resize its workers (each with its -WhatIf plan).</summary>
public sealed partial class ClusterManager
{
    public async Task<Plan> PlanDeleteAsync(ClusterId id, CancellationToken cancellationToken)
    {
        var state = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        await EnsureAllowedAsync(state, ClusterOperation.Delete, lockHeld: false, cancellationToken).ConfigureAwait(false);
        await using var build = _composer.Delete(state, OperationOptions.Default);
        return build.Plan;
    }

    public async Task DeleteAsync(ClusterId id, OperationOptions options, CancellationToken cancellationToken)
    {
        // A -Credential/-TenantId/-SubscriptionId the provider cannot take is refused before anything is locked or changed.
        _providers.Get(id.Provider, options.Credential);
        await using var clusterLock = await Store.AcquireLockAsync(id, "delete", options.BreakStaleLock, cancellationToken).ConfigureAwait(false);
        var state = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        var resuming = await EnsureAllowedAsync(state, ClusterOperation.Delete, lockHeld: true, cancellationToken).ConfigureAwait(false) == ClusterStatus.DeletionFailed;
        var session = new StateSession(state, Store);
        session.Mutate(s =>
        {
            // A fresh delete starts from scratch; a failed one resumes from its checkpoints.
            if (!resuming) foreach (var key in s.Steps.Keys.Where(k => k.StartsWith("delete/", StringComparison.Ordinal)).ToList()) s.Steps.Remove(key);
            s.Status = ClusterStatus.Deleting;
            s.LastErrors.Clear();
        });
        await session.CheckpointAsync().ConfigureAwait(false);
        await using var build = _composer.Delete(state, options);
        var plan = build.Plan;
        _logger.LogInformation("Deleting {Cluster}: {Steps} step(s).", id, plan.Steps.Count);
        await RunAsync(plan, session, options, ClusterStatus.Deleting, ClusterStatus.DeletionFailed, "KsctlDeletionFailed", cancellationToken).ConfigureAwait(false);
        // The state goes last: until here a failure leaves a record to resume from.
        await Store.DeleteAsync(id, CancellationToken.None).ConfigureAwait(false);
        _logger.LogInformation("Cluster {Cluster} deleted.", id);
        if (!options.KeepKubeconfigEntries) await RemoveMergedKubeconfigEntriesAsync(id).ConfigureAwait(false);
    }

    /// <summary>The resize plan for -WhatIf (validated, nothing touched).</summary>
    public async Task<Plan> PlanResizeAsync(ClusterId id, int workerCount, CancellationToken cancellationToken)
    {
        var state = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        await EnsureAllowedAsync(state, ClusterOperation.Resize, lockHeld: false, cancellationToken).ConfigureAwait(false);
        var resized = PrepareResize(state, workerCount);
        await using var build = _composer.Resize(state, resized, OperationOptions.Default);
        return build.Plan;
    }

    /// <summary>
    /// Sets the number of workers of a self-managed cluster: new highest indices are joined; the highest ones are
    /// drained, their Nodes deleted and then uninstalled (or their machines deleted).
    /// </summary>
    public async Task<ClusterState> ResizeAsync(ClusterId id, int workerCount, OperationOptions options, CancellationToken cancellationToken)
    {
        _providers.Get(id.Provider, options.Credential);
        await using var clusterLock = await Store.AcquireLockAsync(id, "resize", options.BreakStaleLock, cancellationToken).ConfigureAwait(false);
        var state = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        var resuming = await EnsureAllowedAsync(state, ClusterOperation.Resize, lockHeld: true, cancellationToken).ConfigureAwait(false) == ClusterStatus.ConfiguringFailed;
        var resized = PrepareResize(state, workerCount);
        var session = new StateSession(state, Store);
        session.Mutate(s =>
        {
            if (!resuming) foreach (var key in s.Steps.Keys.Where(k => k.StartsWith("resize/", StringComparison.Ordinal)).ToList()) s.Steps.Remove(key);
            s.Status = ClusterStatus.Configuring;
            s.LastErrors.Clear();
        });
        await session.CheckpointAsync().ConfigureAwait(false);
        await using var build = _composer.Resize(state, resized, options);
        _logger.LogInformation("Resizing {Cluster} to {Workers} worker(s): {Steps} step(s).", id, workerCount, build.Plan.Steps.Count);
        await RunAsync(build.Plan, session, options, ClusterStatus.Running, ClusterStatus.ConfiguringFailed, "KsctlResizeFailed", cancellationToken).ConfigureAwait(false);
        session.Mutate(s => s.Spec = resized);
        await session.CheckpointAsync().ConfigureAwait(false);
        return state;
    }

    private ClusterSpec PrepareResize(ClusterState state, int workerCount)
    {
        if (state.Id.Type != ClusterType.SelfManaged)
            throw new OperationNotAllowedException(state.Id.ToString(), "resize", $"{state.Status} ({state.Id.Type} clusters are resized by their cloud's node pool, not by Ksctl in this version)");
        if (workerCount < 0) throw new InvalidSpecException("WorkerCount", $"{workerCount} is negative; give the total number of workers wanted (0 or more).");
        RefuseJoinDuringUpgrade(state, workerCount);
        // A failed shrink may have drained workers (their Nodes deleted) that are still recorded: keeping them would
        // report Running with workers out of the cluster, so the shrink is finished first.
        if (state.Status is ClusterStatus.ConfiguringFailed or ClusterStatus.Configuring)
        {
            var drained = state.Nodes
                .Where(n => n.Role == NodeRole.Worker && n.Index < workerCount && state.Steps.ContainsKey($"resize/drain:{n.Key}"))
                .OrderBy(n => n.Index).ToList();
            if (drained.Count > 0)
                throw new InvalidSpecException("WorkerCount", $"{workerCount} keeps {string.Join(", ", drained.Select(n => n.Key))}, which the resize that failed already drained; finish it with -WorkerCount {drained[0].Index} or fewer, then resize up again.");
        }
        return _providers.Get(state.Id.Provider).Prepare(state.Spec with { WorkerCount = workerCount });
    }
}
