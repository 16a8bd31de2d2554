using System.Runtime.CompilerServices;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Storage;

namespace Ksctl.Benchmarks;

/// <summary>Executor overhead: scheduling, skip checks, state records, events and checkpoints of no-op steps.</summary>
public static class ExecutorBenchmarks
{
    private const int Steps = 1_000;
    private static readonly TimeSpan Target = TimeSpan.FromMilliseconds(100);

    public static BenchmarkResult Chain() =>
        Run(Enumerable.Range(0, Steps).Select(i => NoOp($"step-{i}", i == 0 ? [] : [$"step-{i - 1}"])).ToList());

    public static BenchmarkResult FanOut() =>
        Run(Enumerable.Range(0, Steps).Select(i => NoOp($"step-{i}", i == 0 ? [] : ["step-0"])).ToList());

    private static PlanStep NoOp(string name, string[] dependsOn) =>
        new(name, (_, _) => Task.CompletedTask) { DependsOn = dependsOn, Description = "no-op" };

    private static BenchmarkResult Run(IReadOnlyList<PlanStep> steps)
    {
        var id = new ClusterId(CloudProvider.Local, ClusterType.Managed, "bench", "LOCAL");
        var plan = new Plan("create", id, steps);
        var store = new MemoryStore();
        var executor = new PlanExecutor(maxParallelism: 8);
        var events = new CountingProgress();
        var (median, min, max, allocated, cpu) = BenchmarkResult.Measure(warmups: 2, runs: 9, async () =>
        {
            var session = new StateSession(new ClusterState { Id = id, Spec = new ClusterSpec { Id = id } }, store);
            var result = await executor.ExecuteAsync(plan, session, events, CancellationToken.None);
            if (!result.Succeeded || result.Completed.Count != Steps) throw new InvalidOperationException("the plan did not complete");
        });
        return new BenchmarkResult
        {
            Median = median, Min = min, Max = max, Cpu = cpu, Runs = 9, AllocatedBytes = allocated,
            Met = median <= Target,
            Notes = $"in-memory store (keeps the live document, no serialisation): {store.Writes / 11} checkpoints per run; events sink counted {events.Count / 11} events per run",
        };
    }

    private sealed class CountingProgress : IProgress<Ksctl.Core.Diagnostics.KsctlEvent>
    {
        public int Count;
        public void Report(Ksctl.Core.Diagnostics.KsctlEvent value) => Interlocked.Increment(ref Count);
    }

    /// <summary>Keeps the last document by reference: measures the executor, not a serialiser or a disk.</summary>
    private sealed class MemoryStore : IStateStore
    {
        private ClusterState? _last;
        public int Writes;
        public string Description => "memory";
        public Task<ClusterState?> ReadAsync(ClusterId id, CancellationToken ct) => Task.FromResult(_last);
        public Task WriteAsync(ClusterState state, CancellationToken ct) { _last = state; Writes++; return Task.CompletedTask; }
        public Task DeleteAsync(ClusterId id, CancellationToken ct) { _last = null; return Task.CompletedTask; }
        public async IAsyncEnumerable<ClusterState> ListAsync(ClusterQuery query, [EnumeratorCancellation] CancellationToken ct)
        {
            if (_last is not null) yield return _last;
            await Task.CompletedTask;
        }
        public Task<IClusterLock> AcquireLockAsync(ClusterId id, string operation, bool breakStale, CancellationToken ct) => throw new NotSupportedException();
    }
}
