using System.Collections.Concurrent;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;

namespace Ksctl.Core.Tests.Engine;

public class PlanExecutorTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    /// <summary>Counts how often each step's body ran, across executions.</summary>
    private sealed class Counter
    {
        private readonly ConcurrentDictionary<string, int> _runs = new();
        public int this[string step] => _runs.TryGetValue(step, out var n) ? n : 0;
        public int Hit(string step) => _runs.AddOrUpdate(step, 1, (_, n) => n + 1);
        public int Total => _runs.Values.Sum();
    }

    private static (StateSession Session, RecordingStore Store) NewSession()
    {
        var store = new RecordingStore();
        return (new StateSession(Samples.State(), store), store);
    }

    private static PlanStep Step(string name, Counter counter, Func<CancellationToken, Task>? body = null, params string[] dependsOn) =>
        new(name, async (_, ct) =>
        {
            counter.Hit(name);
            if (body is not null) await body(ct);
        })
        { DependsOn = dependsOn };

    private static Plan NewPlan(params PlanStep[] steps) => new("create", Samples.LocalId(), steps);

    [Fact]
    public async Task Independent_steps_really_run_concurrently()
    {
        const int n = 6;
        var arrived = 0;
        var everyoneHere = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var counter = new Counter();
        // Each step waits until all n are inside their bodies at once: only possible if they run concurrently.
        var steps = Enumerable.Range(0, n).Select(i => Step($"vm:{i}", counter, async ct =>
        {
            if (Interlocked.Increment(ref arrived) == n) everyoneHere.TrySetResult();
            await everyoneHere.Task.WaitAsync(Patience, ct);
        })).ToArray();
        var (session, _) = NewSession();

        var result = await new PlanExecutor(maxParallelism: n).ExecuteAsync(NewPlan(steps), session, null, CancellationToken.None);

        Assert.True(result.Succeeded, string.Join("; ", result.Failed));
        Assert.Equal(n, result.Completed.Count);
        Assert.All(steps, s => Assert.Equal(StepOutcome.Done, session.State.Steps[$"create/{s.Name}"].Outcome));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task The_parallelism_bound_is_respected(int bound)
    {
        var current = 0;
        var peak = 0;
        var counter = new Counter();
        // A gate instead of a sleep: the first steps hold until `bound` of them run at once, so the overlap does not
        // depend on how fast a loaded machine schedules them (an executor that never reaches the bound times out).
        var full = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var steps = Enumerable.Range(0, 12).Select(i => Step($"s{i}", counter, async ct =>
        {
            var now = Interlocked.Increment(ref current);
            int seen;
            while ((seen = Volatile.Read(ref peak)) < now && Interlocked.CompareExchange(ref peak, now, seen) != seen) { }
            if (now >= bound) full.TrySetResult();
            await full.Task.WaitAsync(Patience, ct);
            await Task.Yield();
            Interlocked.Decrement(ref current);
        })).ToArray();
        var (session, _) = NewSession();

        var result = await new PlanExecutor(bound).ExecuteAsync(NewPlan(steps), session, null, CancellationToken.None);

        Assert.True(result.Succeeded);
        Assert.Equal(12, counter.Total);
        Assert.True(peak <= bound, $"peak {peak} exceeded the bound {bound}");
        Assert.Equal(bound, peak); // and the bound was used: steps overlapped up to it
    }

    [Fact]
    public async Task A_failed_step_leaves_dependents_not_run_and_a_rerun_resumes_without_repeating_done_steps()
    {
        var counter = new Counter();
        var failNext = true;
        var plan = NewPlan(
            Step("network", counter),
            Step("vm:cp-0", counter, _ => failNext ? Task.FromException(new InvalidOperationException("quota exceeded")) : Task.CompletedTask, "network"),
            Step("vm:worker-0", counter, null, "network"),
            Step("k3s:cp-0", counter, null, "vm:cp-0"),
            Step("kubeconfig", counter, null, "k3s:cp-0", "vm:worker-0"));
        var (session, _) = NewSession();

        var first = await new PlanExecutor(4).ExecuteAsync(plan, session, null, CancellationToken.None);

        Assert.False(first.Succeeded);
        var failure = Assert.Single(first.Failed);
        Assert.Equal("vm:cp-0", failure.Step);
        Assert.Equal("quota exceeded", failure.Error.Message);
        Assert.Equal(["k3s:cp-0", "kubeconfig"], first.NotRun.OrderBy(x => x, StringComparer.Ordinal));
        Assert.Equal(StepOutcome.Failed, session.State.Steps["create/vm:cp-0"].Outcome);
        Assert.Equal("quota exceeded", session.State.Steps["create/vm:cp-0"].Error);
        Assert.False(session.State.Steps.ContainsKey("create/k3s:cp-0"));

        failNext = false;
        var second = await new PlanExecutor(4).ExecuteAsync(plan, session, null, CancellationToken.None);

        Assert.True(second.Succeeded);
        Assert.Equal(["network", "vm:worker-0"], second.Skipped.OrderBy(x => x, StringComparer.Ordinal));
        Assert.Equal(1, counter["network"]);
        Assert.Equal(2, counter["vm:cp-0"]);
        Assert.Equal(1, counter["vm:worker-0"]);
        Assert.Equal(1, counter["k3s:cp-0"]);
        Assert.Equal(1, counter["kubeconfig"]);
        Assert.Equal(2, session.State.Steps["create/vm:cp-0"].Attempts);
        Assert.All(session.State.Steps.Values, r => Assert.Equal(StepOutcome.Done, r.Outcome));
    }

    [Fact]
    public async Task Running_siblings_finish_after_a_failure_and_nothing_new_is_scheduled()
    {
        var counter = new Counter();
        var failing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var plan = NewPlan(
            Step("boom", counter, async _ =>
            {
                await Task.Yield();
                failing.TrySetResult();
                throw new InvalidOperationException("boom");
            }),
            Step("slow", counter, async ct =>
            {
                await failing.Task.WaitAsync(Patience, ct); // still running when the failure is seen
                await Task.Delay(100, ct);
            }),
            Step("later", counter)); // would be schedulable, but a bound of 2 keeps it waiting until after the failure
        var (session, _) = NewSession();

        var result = await new PlanExecutor(2).ExecuteAsync(plan, session, null, CancellationToken.None);

        Assert.Equal("boom", Assert.Single(result.Failed).Step);
        Assert.Equal(["slow"], result.Completed);
        Assert.Equal(["later"], result.NotRun);
        Assert.Equal(StepOutcome.Done, session.State.Steps["create/slow"].Outcome);
        Assert.Equal(0, counter["later"]);
    }

    [Fact]
    public async Task Cancellation_stops_scheduling_keeps_done_records_and_a_rerun_runs_only_the_rest()
    {
        var counter = new Counter();
        using var cts = new CancellationTokenSource();
        var cancelNow = true;
        var plan = NewPlan(
            Step("network", counter),
            Step("firewall", counter, null, "network"),
            Step("vm:cp-0", counter, async ct =>
            {
                if (!cancelNow) return;
                cts.Cancel();                                 // Ctrl+C while this step is busy...
                await Task.Delay(Timeout.Infinite, ct);       // ...and the step honours the token
            }, "network"),
            Step("vm:worker-0", counter, null, "firewall", "vm:cp-0"),
            Step("kubeconfig", counter, null, "vm:worker-0"));
        var (session, store) = NewSession();

        var executor = new PlanExecutor(1); // deterministic order: network, firewall, vm:cp-0
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => executor.ExecuteAsync(plan, session, null, cts.Token));

        Assert.Equal(StepOutcome.Done, session.State.Steps["create/network"].Outcome);
        Assert.Equal(StepOutcome.Done, session.State.Steps["create/firewall"].Outcome);
        Assert.Equal(StepOutcome.Failed, session.State.Steps["create/vm:cp-0"].Outcome);
        Assert.False(session.State.Steps.ContainsKey("create/vm:worker-0"));
        // The persisted document (last checkpoint) says the same.
        var persisted = store.Snapshots[^1];
        Assert.Equal(StepOutcome.Done, persisted.Steps["create/firewall"].Outcome);
        Assert.Equal(StepOutcome.Failed, persisted.Steps["create/vm:cp-0"].Outcome);

        cancelNow = false;
        var resumed = await executor.ExecuteAsync(plan, new StateSession(persisted, store), null, CancellationToken.None);

        Assert.True(resumed.Succeeded);
        Assert.Equal(["network", "firewall"], resumed.Skipped);
        Assert.Equal(["vm:cp-0", "vm:worker-0", "kubeconfig"], resumed.Completed);
        Assert.Equal(1, counter["network"]);
        Assert.Equal(1, counter["firewall"]);
        Assert.Equal(2, counter["vm:cp-0"]);
        Assert.Equal(1, counter["vm:worker-0"]);
        Assert.Equal(1, counter["kubeconfig"]);
    }

    [Fact]
    public async Task A_step_already_done_by_its_own_check_is_recorded_done_without_running()
    {
        var counter = new Counter();
        var checkedIt = 0;
        var plan = NewPlan(
            new PlanStep("network", (_, _) => { counter.Hit("network"); return Task.CompletedTask; })
            {
                IsAlreadyDone = (ctx, _) => { Interlocked.Increment(ref checkedIt); return Task.FromResult(true); },
            },
            Step("vm", counter, null, "network"));
        var (session, store) = NewSession();
        var events = new EventSink();

        var result = await new PlanExecutor().ExecuteAsync(plan, session, events, CancellationToken.None);

        Assert.True(result.Succeeded);
        Assert.Equal(["network"], result.Skipped);
        Assert.Equal(["vm"], result.Completed);
        Assert.Equal(0, counter["network"]);
        Assert.Equal(1, checkedIt);
        var record = session.State.Steps["create/network"];
        Assert.Equal(StepOutcome.Done, record.Outcome);
        Assert.Equal(0, record.Attempts);
        Assert.Equal(StepOutcome.Done, store.Snapshots[0].Steps["create/network"].Outcome);
        Assert.Contains(events.Events, e => e.Kind == KsctlEventKind.StepSkipped && e.Step == "network");
        Assert.DoesNotContain(events.Events, e => e.Kind == KsctlEventKind.StepStarted && e.Step == "network");
    }

    [Fact]
    public async Task Every_step_is_checkpointed_as_soon_as_it_finishes()
    {
        var store = new RecordingStore();
        var session = new StateSession(Samples.State(), store);
        var seenBefore = new ConcurrentDictionary<string, (int Writes, bool PreviousDone)>();
        string[] chain = ["network", "vm", "k3s", "kubeconfig"];
        var steps = chain.Select((name, i) => new PlanStep(name, (ctx, _) =>
        {
            ctx.Mutate(s => s.Resources[name] = $"id-{name}");
            var last = store.Snapshots.LastOrDefault();
            seenBefore[name] = (store.Writes, i == 0 || (last?.Steps.TryGetValue($"create/{chain[i - 1]}", out var r) == true && r.Outcome == StepOutcome.Done));
            return Task.CompletedTask;
        }) { DependsOn = i == 0 ? [] : [chain[i - 1]] }).ToArray();

        var result = await new PlanExecutor().ExecuteAsync(NewPlan(steps), session, null, CancellationToken.None);

        Assert.True(result.Succeeded);
        Assert.Equal(chain.Length, store.Writes);
        for (var i = 0; i < chain.Length; i++)
        {
            Assert.Equal(i, seenBefore[chain[i]].Writes);
            Assert.True(seenBefore[chain[i]].PreviousDone, $"{chain[i]} started before its predecessor's checkpoint was written");
            var snapshot = store.Snapshots[i];
            Assert.Equal(StepOutcome.Done, snapshot.Steps[$"create/{chain[i]}"].Outcome);
            Assert.Equal($"id-{chain[i]}", snapshot.Resources[chain[i]]);           // the step's own changes are in its checkpoint
            if (i + 1 < chain.Length) Assert.False(snapshot.Steps.ContainsKey($"create/{chain[i + 1]}"));
        }
    }

    [Fact]
    public async Task Progress_events_report_started_and_completed_steps_with_rising_percent()
    {
        var counter = new Counter();
        var plan = NewPlan(Step("a", counter), Step("b", counter, null, "a"), Step("c", counter, null, "b"), Step("d", counter, null, "c"));
        var (session, _) = NewSession();
        var events = new EventSink();

        await new PlanExecutor().ExecuteAsync(plan, session, events, CancellationToken.None);

        var completed = events.Events.Where(e => e.Kind == KsctlEventKind.StepCompleted).ToList();
        Assert.Equal(["a", "b", "c", "d"], completed.Select(e => e.Step));
        Assert.Equal([25, 50, 75, 100], completed.Select(e => e.Percent ?? -1));
        Assert.Equal(4, events.Events.Count(e => e.Kind == KsctlEventKind.StepStarted));
        Assert.All(events.Events, e => Assert.Equal("demo (Local/Managed, LOCAL)", e.Cluster));
    }

    /// <summary>A store whose writes start failing (disk full, permissions) after some successful ones.</summary>
    private sealed class FailingStore(int goodWrites) : Ksctl.Core.Storage.IStateStore
    {
        private int _writes;
        public string Description => "failing";
        public Task<ClusterState?> ReadAsync(ClusterId id, CancellationToken ct) => Task.FromResult<ClusterState?>(null);
        public Task WriteAsync(ClusterState state, CancellationToken ct) =>
            Interlocked.Increment(ref _writes) > goodWrites ? Task.FromException(new IOException("No space left on device")) : Task.CompletedTask;
        public Task DeleteAsync(ClusterId id, CancellationToken ct) => Task.CompletedTask;
        public IAsyncEnumerable<ClusterState> ListAsync(Ksctl.Core.Storage.ClusterQuery q, CancellationToken ct) => throw new NotSupportedException();
        public Task<Ksctl.Core.Storage.IClusterLock> AcquireLockAsync(ClusterId id, string op, bool b, CancellationToken ct) => throw new NotSupportedException();
    }

    [Fact]
    public async Task A_failing_checkpoint_fails_the_step_and_still_lets_running_siblings_finish_before_returning()
    {
        var counter = new Counter();
        var slowStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var slowFinished = false;
        var plan = NewPlan(
            Step("fast", counter, async ct => await slowStarted.Task.WaitAsync(Patience, ct)),
            Step("slow", counter, async ct =>
            {
                slowStarted.TrySetResult();
                await Task.Delay(300, ct);
                Volatile.Write(ref slowFinished, true);
            }),
            Step("after", counter, null, "fast"));
        var session = new StateSession(Samples.State(), new FailingStore(goodWrites: 0));

        PlanResult? result = null;
        Exception? thrown = null;
        try { result = await new PlanExecutor(2).ExecuteAsync(plan, session, null, CancellationToken.None); }
        catch (Exception ex) { thrown = ex; }

        // Whatever the executor reports, it must not return while a step it started is still running
        // (the caller releases the cluster lock right after).
        Assert.True(Volatile.Read(ref slowFinished), $"returned while 'slow' was still running ({thrown?.GetType().Name}: {thrown?.Message})");
        Assert.Null(thrown);
        Assert.Contains(result!.Failed, f => f.Step == "fast" && f.Error is IOException);
        Assert.Equal(0, counter["after"]);
        Assert.Contains("after", result.NotRun);
    }

    /// <summary>
    /// Property: over random DAGs, random bounds and random failures, re-running until success runs every step
    /// successfully exactly once, never starts a step before its dependencies are done, and retries only the failed.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Random_plans_with_random_failures_never_run_a_step_twice(bool withCancellations)
    {
        for (var seed = 1; seed <= 150; seed++)
        {
            CancellationTokenSource? cts = null;
            var cancelProbability = withCancellations ? 0.1 : 0;
            var random = new Random(seed);
            var n = random.Next(1, 16);
            var names = Enumerable.Range(0, n).Select(i => $"s{i}").ToArray();
            var deps = names.Select((_, i) => names.Take(i).Where(_ => random.NextDouble() < 0.25).ToArray()).ToArray();
            var successes = new ConcurrentDictionary<string, int>();
            var attempts = new ConcurrentDictionary<string, int>();
            var violations = new ConcurrentQueue<string>();
            var failProbability = random.NextDouble() * 0.4;
            var gate = new object();

            var steps = names.Select((name, i) => new PlanStep(name, async (_, ct) =>
            {
                foreach (var d in deps[i])
                    if (successes.GetValueOrDefault(d) != 1) violations.Enqueue($"{name} started before {d} was done");
                if (successes.GetValueOrDefault(name) != 0) violations.Enqueue($"{name} ran again after it succeeded");
                var attempt = attempts.AddOrUpdate(name, 1, (_, a) => a + 1);
                bool fail, cancel, honour;
                lock (gate)
                {
                    fail = attempt <= 3 && random.NextDouble() < failProbability;
                    cancel = attempt <= 3 && random.NextDouble() < cancelProbability;
                    honour = random.Next(2) == 0;
                }
                if (random.Next(3) == 0) await Task.Yield();
                if (cancel)
                {
                    cts!.Cancel();                                   // Ctrl+C during this step...
                    if (honour) ct.ThrowIfCancellationRequested();   // ...which stops it, or finishes regardless
                }
                if (fail) throw new InvalidOperationException($"{name} attempt {attempt} failed");
                successes.AddOrUpdate(name, 1, (_, s) => s + 1);
            }) { DependsOn = deps[i] }).ToArray();
            var plan = NewPlan(steps);
            var store = new RecordingStore { KeepSnapshots = false };
            var state = Samples.State();
            var executor = new PlanExecutor(random.Next(1, 5));

            var runs = 0;
            PlanResult result;
            do
            {
                // Each run starts from the persisted document, as a new process would.
                var session = new StateSession(runs == 0 ? state : (await store.ReadAsync(state.Id, CancellationToken.None))!, store);
                using (cts = new CancellationTokenSource())
                {
                    try
                    {
                        result = await executor.ExecuteAsync(plan, session, null, cts.Token);
                        Assert.Empty(result.Completed.Intersect(result.Skipped));
                    }
                    catch (OperationCanceledException)
                    {
                        Assert.True(withCancellations, $"seed {seed}: cancelled without a cancellation");
                        result = null!;
                    }
                }
                Assert.True(++runs < 30, $"seed {seed}: no convergence");
            } while (result is null || !result.Succeeded);

            Assert.True(violations.IsEmpty, $"seed {seed}: {string.Join("; ", violations)}");
            Assert.All(names, s => Assert.Equal(1, successes.GetValueOrDefault(s)));
            var failures = attempts.Values.Sum() - n;
            if (!withCancellations) Assert.True(failures >= runs - 1, $"seed {seed}: {runs} runs but only {failures} failures");
            var final = (await store.ReadAsync(state.Id, CancellationToken.None))!;
            Assert.All(names, s => Assert.Equal(attempts[s], final.Steps[$"create/{s}"].Attempts));
        }
    }
}
