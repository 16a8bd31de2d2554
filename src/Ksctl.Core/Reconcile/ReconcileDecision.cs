using Ksctl.Core.Model;

namespace Ksctl.Core.Reconcile;

public enum ReconcileAction { None, ResumeCreate, ResumeDelete, ResumeResize, ResizeToDesired, Wait, GiveUp, CheckHealth, ReplaceWorkers, ResumeReplace }

/// <summary>
/// The reconciler's decision for one cluster, as data and without side effects (so tests and a cmdlet can ask "what
/// would it do"). <see cref="Decide"/> reads only the state, the time and the policy; the caller has made sure no
/// live process holds the cluster's lock (a transitional status then means the operation was killed).
/// </summary>
public sealed record ReconcileDecision(ReconcileAction Action, string Reason, int? WorkerCount = null, IReadOnlyList<string>? Workers = null)
{
    /// <param name="lostWorkers">Workers (node keys) whose machines the cloud no longer has, for a cluster that opted into
    /// repair (<see cref="ClusterSpec.Repair"/>); the caller found them (<see cref="Clusters.ClusterManager.FindLostWorkersAsync"/>).</param>
    public static ReconcileDecision Decide(ClusterState state, DateTimeOffset now, ReconcilePolicy policy, IReadOnlyList<string>? lostWorkers = null)
    {
        var status = StatusRules.IsTransitional(state.Status) ? StatusRules.AfterInterruption(state.Status) : state.Status;
        var record = state.Reconcile;
        var resume = status switch
        {
            ClusterStatus.CreationFailed or ClusterStatus.Fresh => ReconcileAction.ResumeCreate,
            ClusterStatus.DeletionFailed => ReconcileAction.ResumeDelete,
            // A failed repair is finished for the same workers (a resize would not know which machine it was replacing).
            ClusterStatus.ConfiguringFailed when record is { Replacing.Count: > 0 } => ReconcileAction.ResumeReplace,
            ClusterStatus.ConfiguringFailed => ReconcileAction.ResumeResize,
            _ => ReconcileAction.None,
        };
        if (resume != ReconcileAction.None)
        {
            if (record?.State == "GaveUp") return new(ReconcileAction.None, $"gave up after {record.Attempts} attempt(s); set reconciliation again to retry");
            if (record is { Attempts: > 0 } && record.Attempts >= policy.MaxAttempts)
                return new(ReconcileAction.GiveUp, $"{record.Attempts} attempt(s) at resuming {state.Status} failed");
            if (record?.NextAttemptAt is { } next && now < next) return new(ReconcileAction.Wait, $"backing off until {next:O}");
            var interrupted = status != state.Status ? $" (interrupted {state.Status})" : "";
            return resume switch
            {
                ReconcileAction.ResumeResize => new(resume, $"resuming the failed resize{interrupted}", state.Spec.WorkerCount ?? 0),
                ReconcileAction.ResumeReplace => new(resume, $"resuming the replacement of {string.Join(", ", record!.Replacing)}{interrupted}", Workers: record.Replacing.ToList()),
                _ => new(resume, $"resuming {status}{interrupted}"),
            };
        }
        if (status == ClusterStatus.Running && state.Spec.Repair && lostWorkers is { Count: > 0 })
            return new(ReconcileAction.ReplaceWorkers, $"replacing lost worker(s) {string.Join(", ", lostWorkers)} (their machines are gone from {state.Id.Provider})", Workers: lostWorkers.ToList());
        if (status == ClusterStatus.Running && state.Id.Type == ClusterType.SelfManaged && state.Spec.WorkerCount is { } desired)
        {
            var workers = state.Nodes.Count(n => n.Role == NodeRole.Worker);
            if (workers != desired) return new(ReconcileAction.ResizeToDesired, $"{workers} worker(s) recorded, {desired} desired", desired);
        }
        return status == ClusterStatus.Running ? new(ReconcileAction.CheckHealth, "running") : new(ReconcileAction.None, $"status {status}");
    }

    /// <summary>Differences between what the spec wants and what the state records.</summary>
    public static List<string> Drift(ClusterState state)
    {
        var drift = new List<string>();
        if (state.Id.Type == ClusterType.SelfManaged)
        {
            var workers = state.Nodes.Where(n => n.Role == NodeRole.Worker).ToList();
            if (state.Spec.WorkerCount is { } desired && workers.Count != desired) drift.Add($"workers: {workers.Count} recorded, {desired} desired");
            foreach (var node in state.Nodes.Where(n => n.ResourceId is null && state.Id.Provider is not CloudProvider.BareMetal))
                drift.Add($"{node.Key ?? node.Name}: no cloud resource recorded");
        }
        return drift;
    }
}
