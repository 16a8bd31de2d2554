using Ksctl.Core.Clusters;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Storage;

namespace Ksctl.Core.Reconcile;

/// <summary>What one cluster's reconciliation did in a round.</summary>
/// <summary>What one cluster's reconciliation did in a round (<see cref="Round"/>: the round's number when rounds have a length).</summary>
public sealed record ReconcileOutcome(ClusterId Cluster, ReconcileAction Action, string Result, string Detail, long? Round = null);

/// <summary>
/// One reconcile round over the clusters that opted in: for each one not locked by someone else, decide
/// (<see cref="ReconcileDecision"/>) and act through the same ClusterManager use cases the cmdlets run (so the plan,
/// checkpoints and per-cluster lock are the same), then record the findings in the state (<see cref="ReconcileStatus"/>).
/// Several replicas may run rounds on one store: whoever takes a cluster's lock handles it, the others skip it (a
/// ClusterLockedException is "someone else has it", never a failure).
/// </summary>
public sealed class ClusterReconciler(ClusterManager manager, TimeProvider time, ReconcilePolicy? policy = null, IClusterHealthProbe? health = null,
    IReconcileOperations? operations = null)
{
    private readonly ReconcilePolicy _policy = policy ?? ReconcilePolicy.Default;
    private readonly IReconcileOperations _operations = operations ?? new DirectOperations(manager);

    public IStateStore Store => manager.Store;

    /// <summary>Clusters reconciled at once in a round.</summary>
    public int MaxParallel { get; init; } = 8;

    /// <summary>
    /// The length of a round shared by every replica on the store: time is cut into rounds of this length (round n is
    /// [n·length, (n+1)·length) in UTC ticks), and a cluster whose last reconciliation (<see cref="ReconcileStatus.LastRoundAt"/>,
    /// read under its lock) falls in the current round is left alone. With several replicas running rounds on their
    /// own schedules, each cluster is then reconciled once per round, not once per replica. Null: every call reconciles.
    /// </summary>
    public TimeSpan? RoundLength { get; init; }

    private long? RoundOf(DateTimeOffset at) => RoundLength is { Ticks: > 0 } length ? at.UtcTicks / length.Ticks : null;

    /// <summary>Every opted-in cluster once.</summary>
    public async Task<IReadOnlyList<ReconcileOutcome>> RunRoundAsync(CancellationToken cancellationToken)
    {
        var ids = new List<ClusterId>();
        await foreach (var state in Store.ListAsync(ClusterQuery.All, cancellationToken).ConfigureAwait(false))
            if (state.Spec.Reconcile) ids.Add(state.Id);
        // Each cluster's work is mostly waiting on the store (lock, read, write): a few at once, each under its own lock.
        var outcomes = new ReconcileOutcome[ids.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, ids.Count), new ParallelOptions { MaxDegreeOfParallelism = MaxParallel, CancellationToken = cancellationToken },
            async (i, ct) => outcomes[i] = await ReconcileAsync(ids[i], ct).ConfigureAwait(false)).ConfigureAwait(false);
        return outcomes;
    }

    public async Task<ReconcileOutcome> ReconcileAsync(ClusterId id, CancellationToken cancellationToken)
    {
        // The round is the one the cluster was looked at in (under its lock), not the one the work ended in.
        var round = new System.Runtime.CompilerServices.StrongBox<long?>();
        var outcome = await ReconcileOnceAsync(id, round, cancellationToken).ConfigureAwait(false);
        return outcome with { Round = outcome.Round ?? round.Value };
    }

    private async Task<ReconcileOutcome> ReconcileOnceAsync(ClusterId id, System.Runtime.CompilerServices.StrongBox<long?> lookedAt, CancellationToken cancellationToken)
    {
        ReconcileDecision decision;
        ClusterState? state;
        // The decision and the health check happen under the cluster's lock, so one replica handles a cluster per round.
        try
        {
            await using var held = await Store.AcquireLockAsync(id, "reconcile", breakStale: false, cancellationToken).ConfigureAwait(false);
            state = await Store.ReadAsync(id, cancellationToken).ConfigureAwait(false);
            if (state is null) return new(id, ReconcileAction.None, "Gone", "the cluster has no state any more");
            if (!state.Spec.Reconcile) return new(id, ReconcileAction.None, "Skipped", "not opted in");
            var now = time.GetUtcNow();
            lookedAt.Value = RoundOf(now);
            if (lookedAt.Value is { } round && state.Reconcile?.LastRoundAt is { } last && RoundOf(last) == round)
                return new(id, ReconcileAction.None, "Skipped", $"already reconciled in round {round} (at {last:O})", round);
            var lost = await FindLostAsync(state, cancellationToken).ConfigureAwait(false);
            decision = ReconcileDecision.Decide(state, now, _policy, lost.Keys);
            var record = state.Reconcile ??= new ReconcileStatus();
            record.LastRoundAt = now;
            record.Drift = ReconcileDecision.Drift(state);
            record.Drift.AddRange(lost.Keys.Select(k => $"{k}: its machine is gone from {state.Id.Provider}"));
            if (lost.Withheld is { } withheld) record.Drift.Add($"repair withheld: {withheld}");
            switch (decision.Action)
            {
                case ReconcileAction.CheckHealth:
                    await CheckHealthAsync(state, record, cancellationToken).ConfigureAwait(false);
                    record.Attempts = 0;
                    record.NextAttemptAt = null;
                    await Store.WriteAsync(state, cancellationToken).ConfigureAwait(false);
                    return new(id, decision.Action, record.State, string.Join("; ", record.HealthReasons));
                case ReconcileAction.GiveUp:
                    record.State = "GaveUp";
                    record.LastAction = "gave up";
                    var message = $"The reconciler gave up after {record.Attempts} failed attempt(s) at resuming the {state.Status} cluster; fix the cause, then set reconciliation again (or run the operation yourself).";
                    record.Append(now, message);
                    state.LastErrors.Add(message);
                    await Store.WriteAsync(state, cancellationToken).ConfigureAwait(false);
                    return new(id, decision.Action, "GaveUp", message);
                case ReconcileAction.Wait or ReconcileAction.None:
                    if (decision.Action == ReconcileAction.Wait) record.State = "Waiting";
                    await Store.WriteAsync(state, cancellationToken).ConfigureAwait(false);
                    return new(id, decision.Action, decision.Action == ReconcileAction.Wait ? "Waiting" : "Nothing", decision.Reason);
            }
            record.LastAction = decision.Reason;
            record.Append(now, decision.Reason);
            await Store.WriteAsync(state, cancellationToken).ConfigureAwait(false);
        }
        catch (ClusterLockedException ex)
        {
            return new(id, ReconcileAction.None, "Locked", ex.Holder);
        }

        // The operation takes the lock itself (as a cmdlet's would): another replica may have it by now, which is fine.
        string? failure = null;
        try
        {
            var spec = state.Spec;
            var task = decision.Action switch
            {
                ReconcileAction.ResumeCreate => _operations.RunAsync("create", id, (m, ct) => m.CreateAsync(spec, OperationOptions.Default, ct), cancellationToken),
                ReconcileAction.ResumeDelete => _operations.RunAsync("delete", id, (m, ct) => m.DeleteAsync(id, OperationOptions.Default with { KeepKubeconfigEntries = true }, ct), cancellationToken),
                ReconcileAction.ResumeResize or ReconcileAction.ResizeToDesired =>
                    _operations.RunAsync("resize", id, (m, ct) => m.ResizeAsync(id, decision.WorkerCount ?? 0, OperationOptions.Default, ct), cancellationToken),
                ReconcileAction.ReplaceWorkers or ReconcileAction.ResumeReplace =>
                    _operations.RunAsync("repair", id, (m, ct) => m.ReplaceWorkersAsync(id, decision.Workers ?? [], OperationOptions.Default, ct), cancellationToken),
                _ => Task.CompletedTask,
            };
            await task.ConfigureAwait(false);
        }
        catch (ClusterLockedException ex) { return new(id, decision.Action, "Locked", ex.Holder); }
        catch (KsctlException ex) { failure = $"{ex.ErrorId}: {ex.Message}"; }
        if (decision.Action == ReconcileAction.ResumeDelete && failure is null) return new(id, decision.Action, "Done", "deleted");
        await RecordResultAsync(id, failure, cancellationToken).ConfigureAwait(false);
        return new(id, decision.Action, failure is null ? "Done" : "Failed", failure ?? decision.Reason);
    }

    /// <summary>Lost workers of a running cluster that opted into repair; an inventory that cannot be read replaces nothing.</summary>
    private async Task<LostWorkers> FindLostAsync(ClusterState state, CancellationToken cancellationToken)
    {
        if (!state.Spec.Repair || state.Status != ClusterStatus.Running || state.Id.Type != ClusterType.SelfManaged) return LostWorkers.None;
        try { return await manager.FindLostWorkersAsync(state, cancellationToken).ConfigureAwait(false); }
        catch (Exception ex) when (ex is not OperationCanceledException) { return new([], $"the {state.Id.Provider} inventory could not be read: {ex.Message}"); }
    }

    /// <summary>Without a host's operation records: the reconciler's own manager runs the use case.</summary>
    private sealed class DirectOperations(ClusterManager manager) : IReconcileOperations
    {
        public Task RunAsync(string kind, ClusterId cluster, Func<ClusterManager, CancellationToken, Task> work, CancellationToken cancellationToken) =>
            work(manager, cancellationToken);
    }

    private async Task RecordResultAsync(ClusterId id, string? failure, CancellationToken cancellationToken)
    {
        try
        {
            await using var held = await Store.AcquireLockAsync(id, "reconcile", breakStale: false, cancellationToken).ConfigureAwait(false);
            var state = await Store.ReadAsync(id, cancellationToken).ConfigureAwait(false);
            if (state is null) return;
            var record = state.Reconcile ??= new ReconcileStatus();
            var now = time.GetUtcNow();
            if (failure is null)
            {
                record.Attempts = 0;
                record.NextAttemptAt = null;
                record.State = "Idle";
                record.Append(now, "succeeded");
            }
            else
            {
                record.Attempts++;
                record.NextAttemptAt = now + _policy.BackoffAfter(record.Attempts);
                record.State = "Waiting";
                record.Append(now, $"attempt {record.Attempts} failed ({failure}); next after {record.NextAttemptAt:O}");
            }
            await Store.WriteAsync(state, cancellationToken).ConfigureAwait(false);
        }
        catch (ClusterLockedException) { /* someone else took it over; they record their own result */ }
    }

    private async Task CheckHealthAsync(ClusterState state, ReconcileStatus record, CancellationToken cancellationToken)
    {
        if (health is null)
        {
            record.State = record.Drift.Count == 0 ? "Idle" : "Degraded";
            record.HealthReasons = record.Drift.ToList();
            return;
        }
        IReadOnlyList<HealthFinding> findings;
        try { findings = await health.CheckAsync(state, cancellationToken).ConfigureAwait(false); }
        catch (Exception ex) when (ex is not OperationCanceledException) { findings = [new HealthFinding("probe", false, ex.Message)]; }
        record.HealthReasons = findings.Where(f => !f.Healthy).Select(f => $"{f.Check}: {f.Reason ?? "failed"}").Concat(record.Drift).ToList();
        record.State = record.HealthReasons.Count == 0 ? "Healthy" : "Degraded";
    }
}
