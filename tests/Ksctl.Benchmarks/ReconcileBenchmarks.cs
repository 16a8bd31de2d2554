using System.Diagnostics;
using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Model;
using Ksctl.Core.Reconcile;
using Ksctl.Core.Storage;

namespace Ksctl.Benchmarks;

/// <summary>
/// One reconcile round (ClusterReconciler.RunRoundAsync, what each server replica runs per interval) over 1,000 Running
/// clusters that opted in, on the file store: per cluster the lock taken, the state read, the decision, a health probe
/// (an instant one: the round's own cost, not a cluster's API latency), the findings written, the lock released.
/// </summary>
public static class ReconcileBenchmarks
{
    private const int Clusters = 1_000;
    private static readonly TimeSpan TimeTarget = TimeSpan.FromSeconds(10);

    public static BenchmarkResult RoundOfThousand()
    {
        var home = Path.Combine(Path.GetTempPath(), $"ksctl-bench-reconcile-{Environment.ProcessId}");
        try
        {
            var store = new FileStateStore(Path.Combine(home, "state"));
            for (var i = 0; i < Clusters; i++)
            {
                var id = new ClusterId(CloudProvider.Local, ClusterType.Managed, $"rec-{i:0000}", "LOCAL");
                var state = new ClusterState { Id = id, Spec = new ClusterSpec { Id = id, NodeCount = 2, Reconcile = true }, Status = ClusterStatus.Running, Distribution = "Kind" };
                state.Nodes.Add(new NodeState { Name = $"rec-{i:0000}-control-plane", Role = NodeRole.ControlPlane });
                state.Nodes.Add(new NodeState { Name = $"rec-{i:0000}-worker", Role = NodeRole.Worker, Index = 1 });
                store.WriteAsync(state, CancellationToken.None).GetAwaiter().GetResult();
            }
            using var manager = new ClusterManager(KsctlSettings.Load(home));
            var probe = new DelegateHealthProbe((_, _) => Task.FromResult<IReadOnlyList<HealthFinding>>([new HealthFinding("api", true)]));
            var reconciler = new ClusterReconciler(manager, TimeProvider.System, ReconcilePolicy.Default, probe);
            var handled = 0;
            var (median, min, max, allocated, cpu) = BenchmarkResult.Measure(warmups: 1, runs: 5, async () =>
            {
                var outcomes = await reconciler.RunRoundAsync(CancellationToken.None);
                handled = outcomes.Count(o => o.Result == "Healthy");
            });
            if (handled != Clusters) throw new InvalidOperationException($"{handled} clusters reconciled as Healthy, expected {Clusters}");
            using var self = Process.GetCurrentProcess();
            self.Refresh();
            return new BenchmarkResult
            {
                Median = median, Min = min, Max = max, Cpu = cpu, Runs = 5, AllocatedBytes = allocated, PeakWorkingSet = self.PeakWorkingSet64,
                Met = median <= TimeTarget,
                Notes = $"{Clusters} Running Local clusters, file store in {home}; per cluster: lock, read, decide, probe, write, unlock; 8 clusters at once",
            };
        }
        finally
        {
            try { Directory.Delete(home, recursive: true); } catch (IOException) { }
        }
    }
}
