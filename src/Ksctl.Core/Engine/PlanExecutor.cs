using System.Diagnostics;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ksctl.Core.Engine;

/// <summary>
/// Runs a plan: every step whose dependencies are done, in parallel up to a bound; skips steps already done;
/// checkpoints after every step; on failure lets running siblings finish and schedules nothing new; on
/// cancellation stops scheduling, waits for running steps, checkpoints and throws.
/// </summary>
public sealed class PlanExecutor
{
    private readonly int _maxParallelism;
    private readonly ILogger _logger;

    public PlanExecutor(int maxParallelism = 8) : this(maxParallelism, NullLogger.Instance) { }

    internal PlanExecutor(int maxParallelism, ILogger logger)
    {
        if (maxParallelism < 1) throw new ArgumentOutOfRangeException(nameof(maxParallelism), "At least one step must be able to run.");
        _maxParallelism = maxParallelism;
        _logger = logger;
    }

    public int MaxParallelism => _maxParallelism;

    public async Task<PlanResult> ExecuteAsync(Plan plan, StateSession session, IProgress<KsctlEvent>? events, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var cluster = plan.Cluster.ToString();
        var total = plan.Steps.Count;
        var done = new HashSet<string>(StringComparer.Ordinal);
        var completed = new List<string>();
        var skipped = new List<string>();
        var failed = new List<StepFailure>();
        var durations = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        var started = new HashSet<string>(StringComparer.Ordinal);
        var running = new Dictionary<Task<StepOutcomeReport>, PlanStep>();

        session.Read(s =>
        {
            foreach (var step in plan.Steps)
                if (s.Steps.TryGetValue(plan.RecordKey(step), out var r) && r.Outcome == StepOutcome.Done)
                    done.Add(step.Name);
            return 0;
        });
        foreach (var name in plan.TopologicalOrder().Select(s => s.Name).Where(done.Contains))
        {
            skipped.Add(name);
            started.Add(name);
            Emit(events, KsctlEventKind.StepSkipped, KsctlLogLevel.Debug, $"Step {name} was already done; skipping.", cluster, name, Percent(done.Count, total));
            _logger.LogDebug("Step {Step} was already done (checkpoint); skipping", name);
        }

        // Ready steps by topological position (lowest first). A step can only become ready when one of its
        // dependencies finishes, so only that step's dependents are checked then (rescanning the whole plan after
        // every step made long plans quadratic).
        var order = plan.TopologicalOrder();
        var position = new Dictionary<string, int>(order.Count, StringComparer.Ordinal);
        for (var i = 0; i < order.Count; i++) position[order[i].Name] = i;
        var dependents = plan.Steps.SelectMany(s => s.DependsOn.Select(d => (Dependency: d, Step: s))).ToLookup(p => p.Dependency, p => p.Step, StringComparer.Ordinal);
        var ready = new SortedSet<int>(Enumerable.Range(0, order.Count).Where(i => !started.Contains(order[i].Name) && DependenciesDone(order[i], done)));
        void Unblock(string finishedStep)
        {
            foreach (var d in dependents[finishedStep])
                if (!started.Contains(d.Name) && DependenciesDone(d, done)) ready.Add(position[d.Name]);
        }
        var stopScheduling = false;
        while (true)
        {
            if (!stopScheduling && !cancellationToken.IsCancellationRequested)
            {
                while (ready.Count > 0 && running.Count < _maxParallelism)
                {
                    var step = order[ready.Min];
                    ready.Remove(ready.Min);
                    started.Add(step.Name);
                    running.Add(RunStepAsync(plan, step, session, events, cluster, () => Percent(done.Count, total), cancellationToken), step);
                }
            }
            if (running.Count == 0) break;

            var finished = await Task.WhenAny(running.Keys).ConfigureAwait(false);
            StepOutcomeReport report;
            try { report = await finished.ConfigureAwait(false); }
            catch (Exception ex)
            {
                // Only a failing checkpoint gets here (the store threw while recording the step's failure). Treat it
                // as that step's failure rather than leaving with siblings still running outside the cluster's lock.
                report = new StepOutcomeReport(running[finished].Name, ReportKind.Failed, TimeSpan.Zero, ex);
            }
            running.Remove(finished);
            switch (report.Kind)
            {
                case ReportKind.Completed:
                    done.Add(report.Step);
                    Unblock(report.Step);
                    completed.Add(report.Step);
                    durations[report.Step] = report.Duration;
                    Emit(events, KsctlEventKind.StepCompleted, KsctlLogLevel.Information, $"Step {report.Step} done in {report.Duration.TotalSeconds:0.0}s.", cluster, report.Step, Percent(done.Count, total));
                    break;
                case ReportKind.Skipped:
                    done.Add(report.Step);
                    Unblock(report.Step);
                    skipped.Add(report.Step);
                    Emit(events, KsctlEventKind.StepSkipped, KsctlLogLevel.Debug, $"Step {report.Step} found already done; skipping.", cluster, report.Step, Percent(done.Count, total));
                    _logger.LogInformation("Step {Step} found already done; skipping", report.Step);
                    break;
                case ReportKind.Cancelled:
                    stopScheduling = true;
                    break;
                default:
                    durations[report.Step] = report.Duration;
                    failed.Add(new StepFailure(report.Step, report.Error!));
                    stopScheduling = true;
                    Emit(events, KsctlEventKind.StepFailed, KsctlLogLevel.Error, $"Step {report.Step} failed: {report.Error!.Message}", cluster, report.Step, Percent(done.Count, total));
                    break;
            }
        }

        var notRun = plan.Steps.Select(s => s.Name).Where(n => !done.Contains(n) && !failed.Any(f => f.Step == n)).ToList();
        var result = new PlanResult
        {
            Completed = completed,
            Skipped = skipped,
            Failed = failed,
            NotRun = notRun,
            Cancelled = cancellationToken.IsCancellationRequested && notRun.Count > 0,
            Durations = durations,
            Elapsed = clock.Elapsed,
        };
        if (result.Cancelled)
        {
            _logger.LogWarning("Plan {Operation} for {Cluster} cancelled; {Remaining} step(s) left to resume.", plan.Operation, cluster, notRun.Count);
            throw new OperationCanceledException($"{plan.Operation} of {cluster} was cancelled; re-run to resume.", cancellationToken);
        }
        return result;
    }

    private async Task<StepOutcomeReport> RunStepAsync(Plan plan, PlanStep step, StateSession session, IProgress<KsctlEvent>? events,
        string cluster, Func<int> percent, CancellationToken cancellationToken)
    {
        // Yield first so that scheduling a batch of steps never runs one of them inline on the scheduler.
        await Task.Yield();
        using var scope = _logger.BeginScope(new Dictionary<string, object> { ["Cluster"] = cluster, ["Step"] = step.Name });
        var context = new StepContext(session, step, _logger);
        var key = plan.RecordKey(step);
        var startedAt = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        try
        {
            if (step.IsAlreadyDone is not null && await step.IsAlreadyDone(context, cancellationToken).ConfigureAwait(false))
            {
                session.Mutate(s => s.Steps[key] = new StepRecord { Outcome = StepOutcome.Done, StartedAt = startedAt, FinishedAt = DateTimeOffset.UtcNow, Attempts = PreviousAttempts(s, key) });
                await session.CheckpointAsync().ConfigureAwait(false);
                return new StepOutcomeReport(step.Name, ReportKind.Skipped, clock.Elapsed, null);
            }
            Emit(events, KsctlEventKind.StepStarted, KsctlLogLevel.Information, $"Step {step.Name}: {(step.Description.Length > 0 ? step.Description : "running")}.", cluster, step.Name, percent());
            _logger.LogInformation("Step {Step} started: {Description}", step.Name, step.Description.Length > 0 ? step.Description : "running");
            await step.Run(context, cancellationToken).ConfigureAwait(false);
            var elapsed = clock.Elapsed;
            session.Mutate(s => s.Steps[key] = new StepRecord { Outcome = StepOutcome.Done, StartedAt = startedAt, FinishedAt = DateTimeOffset.UtcNow, Attempts = PreviousAttempts(s, key) + 1 });
            await session.CheckpointAsync().ConfigureAwait(false);
            _logger.LogInformation("Step {Step} done in {Seconds:0.00}s", step.Name, elapsed.TotalSeconds);
            return new StepOutcomeReport(step.Name, ReportKind.Completed, elapsed, null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            session.Mutate(s => s.Steps[key] = new StepRecord { Outcome = StepOutcome.Failed, StartedAt = startedAt, FinishedAt = DateTimeOffset.UtcNow, Attempts = PreviousAttempts(s, key) + 1, Error = "cancelled" });
            await session.CheckpointAsync().ConfigureAwait(false);
            return new StepOutcomeReport(step.Name, ReportKind.Cancelled, clock.Elapsed, null);
        }
        catch (Exception ex)
        {
            session.Mutate(s => s.Steps[key] = new StepRecord { Outcome = StepOutcome.Failed, StartedAt = startedAt, FinishedAt = DateTimeOffset.UtcNow, Attempts = PreviousAttempts(s, key) + 1, Error = ex.Message });
            await session.CheckpointAsync().ConfigureAwait(false);
            _logger.LogError(ex, "Step {Step} failed", step.Name);
            return new StepOutcomeReport(step.Name, ReportKind.Failed, clock.Elapsed, ex);
        }
    }

    private static bool DependenciesDone(PlanStep step, HashSet<string> done)
    {
        // Indexed, not foreach: enumerating an IReadOnlyList allocates an enumerator on every check.
        var dependsOn = step.DependsOn;
        for (var i = 0; i < dependsOn.Count; i++)
            if (!done.Contains(dependsOn[i])) return false;
        return true;
    }

    private static int PreviousAttempts(ClusterState s, string key) => s.Steps.TryGetValue(key, out var r) ? r.Attempts : 0;

    private static int Percent(int done, int total) => total == 0 ? 100 : (int)(done * 100L / total);

    private static void Emit(IProgress<KsctlEvent>? events, KsctlEventKind kind, KsctlLogLevel level, string message, string cluster, string step, int percent)
        => events?.Report(new KsctlEvent { Kind = kind, Level = level, Component = "engine", Message = message, Cluster = cluster, Step = step, Percent = percent });

    private enum ReportKind { Completed, Skipped, Failed, Cancelled }

    private sealed record StepOutcomeReport(string Step, ReportKind Kind, TimeSpan Duration, Exception? Error);
}
