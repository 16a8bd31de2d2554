using System.Diagnostics;
using System.Text;
using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;

using Ksctl.TestSupport;

namespace Ksctl.Benchmarks;

/// <summary>
/// HA create (BareMetal, K3s, stand-ins as in HaMachines.cs) with 1 LB + 3 etcd + 3 CP + W workers on the test machines:
/// wall time of CreateAsync against the plan's critical path (longest dependency chain, each step weighted by its measured
/// duration from state.Steps), and how wall time grows with W. Each cluster is deleted after it is measured.
/// </summary>
public static class HaBenchmarks
{
    private const double RatioTarget = 1.15;
    private const double GrowthTarget = 1.25; // "nearly flat": wall at the most workers ≤ 1.25× wall at the fewest
    private static readonly NodeRole[] Fixed =
        [NodeRole.LoadBalancer, NodeRole.Datastore, NodeRole.Datastore, NodeRole.Datastore, NodeRole.ControlPlane, NodeRole.ControlPlane, NodeRole.ControlPlane];

    public static int[] WorkerCounts =>
        Environment.GetEnvironmentVariable("KSCTL_BENCH_HA_WORKERS") is { Length: > 0 } w ? w.Split(',').Select(int.Parse).ToArray() : [1, 4, 16];
    public static int MachinesNeeded => Fixed.Length + WorkerCounts.Max();

    private sealed record Measured(int Workers, int Steps, TimeSpan Wall, TimeSpan Span, TimeSpan CriticalPath, IReadOnlyList<string> Chain,
        TimeSpan ChainWaits, int MaxConcurrent, TimeSpan Delete, string WorkerSteps, string Longest, TimeSpan OurCpu, TimeSpan RemoteCpu);

    public static BenchmarkResult Create() => CreateAsync(latency: false).GetAwaiter().GetResult();

    /// <summary>
    /// The same creates where the remote work is latency: every SSH connection goes through a <see cref="DelayProxy"/>
    /// (20 ms per round trip) and the k3s agents sleep instead of computing (<see cref="SleepingAgents"/>), so the
    /// executor's and the SSH client's own scaling shows although the test machines share this host's cores.
    /// </summary>
    public static BenchmarkResult CreateWithLatency() => CreateAsync(latency: true).GetAwaiter().GetResult();

    private static async Task<BenchmarkResult> CreateAsync(bool latency)
    {
        var machines = TestMachines.Ensure(MachinesNeeded).Take(MachinesNeeded).ToList();
        await TestMachines.ProvisionStandInsAsync(machines);
        var artifacts = TestMachines.MakeArtifactFolder();
        if (latency) SleepingAgents.Install(artifacts);
        var options = new OperationOptions { MaxParallelism = 32, ConnectDeadline = TimeSpan.FromSeconds(30) };
        var results = new List<Measured>();
        using var proxy = latency ? DelayProxy.Start(machines, FanOutLatencyBenchmarks.OneWayDelayMs) : null;
        try
        {
            foreach (var workers in WorkerCounts)
            {
                Console.Error.WriteLine($"  HA create with {workers} worker(s){(latency ? ", latency" : "")}");
                results.Add(await MeasureAsync(machines, workers, artifacts, options, latency ? DelayProxy.Port : null));
            }
        }
        finally
        {
            try { Directory.Delete(artifacts, true); } catch (IOException) { }
        }

        var sb = new StringBuilder();
        sb.AppendLine("| Workers | Machines | Steps | Wall (CreateAsync) | Executor span | Critical path | Wall / CP | Waits on CP chain | Max concurrent steps | Worker steps (min/median/max) | ksctl CPU | Machines' CPU | CPU / wall | Delete |");
        sb.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|");
        foreach (var r in results)
            sb.AppendLine($"| {r.Workers} | {Fixed.Length + r.Workers} | {r.Steps} | {S(r.Wall)} | {S(r.Span)} | {S(r.CriticalPath)} | {Ratio(r):0.00}× | {S(r.ChainWaits)} | {r.MaxConcurrent} | {r.WorkerSteps} | {S(r.OurCpu)} | {S(r.RemoteCpu)} | {(r.OurCpu + r.RemoteCpu) / r.Wall:0.00} cores | {S(r.Delete)} |");
        var first = results[0];
        var last = results[^1];
        var growth = last.Wall / first.Wall;
        sb.AppendLine();
        sb.AppendLine($"Growth of wall time {first.Workers} → {last.Workers} workers: {growth:0.00}× (target ≤ {GrowthTarget:0.00}×, nearly flat); " +
                      $"critical path {first.CriticalPath / last.CriticalPath:0.00}⁻¹ → {last.CriticalPath / first.CriticalPath:0.00}×.");
        if (last.Workers > first.Workers)
        {
            var added = last.Workers - first.Workers;
            sb.AppendLine($"Per added worker: +{S((last.Wall - first.Wall) / added)} wall, +{S((last.RemoteCpu - first.RemoteCpu) / added)} CPU in the test machines, " +
                          $"+{S((last.OurCpu - first.OurCpu) / added)} CPU in ksctl. The test machines share this host's {Environment.ProcessorCount} cores " +
                          "(real machines would each spend their own), so when wall grows by about the machines' CPU growth divided by the cores " +
                          "this run got (CPU / wall column), the growth is the test bed's, not the executor's: check the Wall / CP and Waits columns for that.");
        }
        foreach (var r in results)
            sb.AppendLine($"\n- {r.Workers} worker(s): critical chain {string.Join(" → ", r.Chain)}; longest steps: {r.Longest}");

        var walls = results.Select(r => r.Wall).Order().ToList();
        return new BenchmarkResult
        {
            Median = last.Wall, Min = walls[0], Max = walls[^1], Runs = results.Count,
            Met = results.All(r => Ratio(r) <= RatioTarget) && growth <= GrowthTarget,
            Notes = $"Median = wall at {last.Workers} workers; wall/critical path {string.Join(", ", results.Select(r => $"{r.Workers}w {Ratio(r):0.00}×"))} " +
                    $"(target ≤ {RatioTarget}×); growth {first.Workers}→{last.Workers} workers {growth:0.00}× (target ≤ {GrowthTarget}×); MaxParallelism {options.MaxParallelism}",
            Details = sb.ToString().TrimEnd(),
        };
    }

    private static double Ratio(Measured r) => r.Wall / r.CriticalPath;

    private static async Task<Measured> MeasureAsync(IReadOnlyList<InventoryMachine> all, int workers, string artifacts, OperationOptions options, int? sshPort)
    {
        var home = Directory.CreateTempSubdirectory("ksctl-bench-ha-home-").FullName;
        try
        {
            using var manager = new ClusterManager(KsctlSettings.Load(home));
            var used = all.Take(Fixed.Length + workers).ToList();
            var spec = new ClusterSpec
            {
                Id = new ClusterId(CloudProvider.BareMetal, ClusterType.SelfManaged, $"bench{workers}{(sshPort is null ? "" : "l")}", "lab"),
                Distribution = DistributionKind.K3s,
                Machines = used.Select((m, i) => new MachineSpec
                {
                    Address = m.Address, Port = sshPort ?? m.Port, User = m.User, KeyPath = m.KeyPath, HostKey = m.HostKey,
                    Role = i < Fixed.Length ? Fixed[i] : NodeRole.Worker,
                }).ToArray(),
                WorkerCount = workers,
                ArtifactSource = artifacts,
            };
            var (plan, _) = await manager.PlanCreateAsync(spec, CancellationToken.None);
            using var self = Process.GetCurrentProcess();
            var cpu0 = self.TotalProcessorTime;
            var remote0 = TestMachines.MachinesCpu();
            var clock = Stopwatch.StartNew();
            var state = await manager.CreateAsync(spec, options, CancellationToken.None);
            var wall = clock.Elapsed;
            var remoteCpu = TestMachines.MachinesCpu() - remote0;
            self.Refresh();
            var ourCpu = self.TotalProcessorTime - cpu0;
            if (state.Status != ClusterStatus.Running) throw new InvalidOperationException($"cluster is {state.Status}");

            var records = plan.Steps.ToDictionary(s => s.Name, s => state.Steps.GetValueOrDefault(plan.RecordKey(s)));
            TimeSpan Dur(PlanStep s) => records[s.Name] is { } r ? r.FinishedAt - r.StartedAt : TimeSpan.Zero;

            // Longest chain with measured weights.
            var finish = new Dictionary<string, TimeSpan>();
            var via = new Dictionary<string, string?>();
            foreach (var s in plan.TopologicalOrder())
            {
                var best = TimeSpan.Zero;
                string? from = null;
                foreach (var d in s.DependsOn)
                    if (finish[d] >= best) { best = finish[d]; from = d; }
                finish[s.Name] = best + Dur(s);
                via[s.Name] = from;
            }
            var end = finish.MaxBy(p => p.Value).Key;
            var chain = new List<string>();
            for (string? n = end; n is not null; n = via[n]) chain.Add(n);
            chain.Reverse();

            // Waiting along that chain: each step's start minus the latest finish of its dependencies (executor latency).
            var waits = TimeSpan.Zero;
            foreach (var n in chain)
            {
                var s = plan[n];
                if (records[n] is not { } r || s.DependsOn.Count == 0) continue;
                var ready = s.DependsOn.Select(d => records[d]?.FinishedAt ?? DateTimeOffset.MinValue).Max();
                if (ready > DateTimeOffset.MinValue) waits += r.StartedAt - ready;
            }

            var recs = records.Values.OfType<StepRecord>().ToList();
            var span = recs.Max(r => r.FinishedAt) - recs.Min(r => r.StartedAt);
            var events = recs.SelectMany(r => new[] { (r.StartedAt, +1), (r.FinishedAt, -1) }).OrderBy(e => e.Item1).ThenBy(e => e.Item2);
            int cur = 0, maxConcurrent = 0;
            foreach (var e in events) maxConcurrent = Math.Max(maxConcurrent, cur += e.Item2);

            var workerKeys = state.Nodes.Where(n => n.Role == NodeRole.Worker).Select(n => n.Key).ToHashSet();
            var workerDurations = plan.Steps.Where(s => s.Name.Split(':') is [_, var key] && workerKeys.Contains(key))
                .GroupBy(s => s.Name.Split(':')[0])
                .Select(g =>
                {
                    var d = g.Select(Dur).Order().ToList();
                    return $"{g.Key}×{d.Count} {S(d[0])}/{S(d[d.Count / 2])}/{S(d[^1])}";
                });
            var longest = string.Join(", ", plan.Steps.OrderByDescending(Dur).Take(4).Select(s => $"{s.Name} {S(Dur(s))}"));

            clock.Restart();
            await manager.DeleteAsync(state.Id, options, CancellationToken.None);
            var delete = clock.Elapsed;
            return new Measured(workers, plan.Steps.Count, wall, span, finish[end], chain, waits, maxConcurrent, delete,
                string.Join("; ", workerDurations), longest, ourCpu, remoteCpu);
        }
        finally
        {
            try { Directory.Delete(home, true); } catch (IOException) { }
        }
    }

    private static string S(TimeSpan t) => t.TotalSeconds < 10 ? $"{t.TotalSeconds:0.00} s" : $"{t.TotalSeconds:0.0} s";
}
