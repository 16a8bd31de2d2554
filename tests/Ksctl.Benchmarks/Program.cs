// Ksctl benchmarks: a small timed harness that prints a Markdown table.
//   dotnet run -c Release --project tests/Ksctl.Benchmarks -- [all|executor|store|reconcile|import|ha|ha-latency|fanout|latency]...
// "all" runs the in-process groups (executor, store); import, ha and fanout start processes or SSH test machines and are
// run by name (as root for ha/fanout: machines prefix ksb, subnet 10.251.210; KSCTL_BENCH_PREFIX/KSCTL_BENCH_SUBNET change them).
// Targets come from the design (shared/design); a missed target is shown as MISSED and the exit code is 1.
using System.Diagnostics;
using Ksctl.Benchmarks;

// A child process of the latency benchmark (ColdConnect): connects once in a fresh process and prints the time.
if (args.Length > 0 && args[0] == ColdConnect.Verb) return ColdConnect.Main(args[1..]);

// One or more group names; "all" (the default) is every in-process group, not import/ha/fanout.
var filters = args.Length == 0 ? ["all"] : args.Select(a => a.ToLowerInvariant()).ToArray();

// Every benchmark the harness knows. Add new ones here (e.g. Import-Module of the built module, group "module").
List<Benchmark> Benchmarks =
[
    new("executor", "Executor: 1,000-step chain, no-op steps", "≤ 100 ms", ExecutorBenchmarks.Chain),
    new("executor", "Executor: 1,000-step fan-out (1 root → 999), no-op steps", "≤ 100 ms", ExecutorBenchmarks.FanOut),
    new("store", "Get-KsctlCluster's listing (Store.ListAllAsync): 10,000 clusters, file store", "≤ 1 s, ≤ 200 MB", StoreBenchmarks.ListTenThousand),
    new("reconcile", "Reconciler: one round over 1,000 opted-in Running clusters, file store", "≤ 10 s", ReconcileBenchmarks.RoundOfThousand),
    new("import", "Import-Module out/Ksctl (fresh process each) vs trivial binary module", "Δ ≤ 150 ms; no third-party assembly", ModuleBenchmarks.Import, Heavy: true),
    new("ha", $"HA K3s create, BareMetal stand-ins, 7 + {string.Join("/", HaBenchmarks.WorkerCounts)} workers", "wall ≤ 1.15× critical path; nearly flat in workers", HaBenchmarks.Create, Heavy: true),
    new("fanout", "SSH fan-out of `true`: 32 machines vs 1, connect included", "≤ 2× one machine", FanOutBenchmarks.RunTrue, Heavy: true),
    new("latency", "SSH fan-out of `sleep 1` (remote latency: 20 ms per SSH round trip through a delay proxy): 32 vs 1, connect included", "≤ 2× one machine; Ksctl CPU per machine reported", FanOutLatencyBenchmarks.SleepWithDelay, Heavy: true),
    new("ha-latency", $"HA K3s create, sleeping agents, 20 ms per SSH round trip, 7 + {string.Join("/", HaBenchmarks.WorkerCounts)} workers", "wall ≤ 1.15× critical path; growth ≤ 1.25×", HaBenchmarks.CreateWithLatency, Heavy: true),
];

var selected = Benchmarks.Where(b => (filters.Contains("all") && !b.Heavy) || filters.Contains(b.Group)).ToList();
if (selected.Count == 0)
{
    Console.Error.WriteLine($"No benchmark in group '{string.Join(' ', filters)}'. Groups: all, {string.Join(", ", Benchmarks.Select(b => b.Group).Distinct())}.");
    return 2;
}

var results = new List<(Benchmark Bench, BenchmarkResult Result)>();
Console.CancelKeyPress += (_, _) => TestMachines.StopIfStarted();
try
{
    // SSH machines once, for the largest need of the selected groups (start N removes machines above N).
    var machines = selected.Max(b => b.Group switch { "ha" or "ha-latency" => HaBenchmarks.MachinesNeeded, "fanout" => FanOutBenchmarks.MachinesNeeded, "latency" => FanOutLatencyBenchmarks.MachinesNeeded, _ => 0 });
    if (machines > 0) TestMachines.Ensure(machines);
    foreach (var b in selected)
    {
        Console.Error.WriteLine($"running: {b.Name}");
        try { results.Add((b, b.Run())); }
        catch (Exception ex) when (b.Heavy) // a broken test bed must not lose the other groups' numbers
        {
            Console.Error.WriteLine($"FAILED: {b.Name}: {ex}");
            results.Add((b, new BenchmarkResult { Median = TimeSpan.Zero, Min = TimeSpan.Zero, Max = TimeSpan.Zero, Runs = 0, Met = false, Notes = $"failed: {ex.GetType().Name}: {ex.Message}" }));
        }
    }
}
finally
{
    TestMachines.StopIfStarted(); // the SSH machines of ha/fanout, when this run started them
}

Console.WriteLine();
var load = File.Exists("/proc/loadavg") ? $", load average {string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3))}" : "";
Console.WriteLine($"Ksctl benchmarks — {DateTime.UtcNow:yyyy-MM-dd HH:mm}Z, {Environment.ProcessorCount} core(s){load}, .NET {Environment.Version}, {(Debugger.IsAttached ? "debugger" : BenchmarkResult.Configuration)}");
Console.WriteLine();
Console.WriteLine("| Benchmark | Median | Min | Max | CPU/run (median) | Runs | Allocated/run | Peak working set | Target | Result |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---|---|");
foreach (var (b, r) in results)
    Console.WriteLine($"| {b.Name} | {Ms(r.Median)} | {Ms(r.Min)} | {Ms(r.Max)} | {Ms(r.Cpu)} | {r.Runs} | {Mb(r.AllocatedBytes)} | {Mb(r.PeakWorkingSet)} | {b.Target} | {(r.Met ? "ok" : "**MISSED**")} |");
foreach (var (b, r) in results.Where(x => x.Result.Notes.Length > 0))
    Console.WriteLine($"\n- {b.Name}: {r.Notes}");
foreach (var (b, r) in results.Where(x => x.Result.Details.Length > 0))
    Console.WriteLine($"\n### {b.Name}\n\n{r.Details}");
return results.All(r => r.Result.Met) ? 0 : 1;

static string Ms(TimeSpan t) => t.TotalMilliseconds < 10 ? $"{t.TotalMilliseconds:0.00} ms" : $"{t.TotalMilliseconds:0} ms";
static string Mb(long bytes) => bytes <= 0 ? "–" : $"{bytes / 1024.0 / 1024.0:0.0} MB";

namespace Ksctl.Benchmarks
{
    /// <param name="Heavy">Starts processes or SSH machines: run only when selected by name, not by "all".</param>
    public sealed record Benchmark(string Group, string Name, string Target, Func<BenchmarkResult> Run, bool Heavy = false);

    public sealed record BenchmarkResult
    {
#if DEBUG
        public const string Configuration = "Debug build (numbers are not representative; use -c Release)";
#else
        public const string Configuration = "Release";
#endif
        public required TimeSpan Median { get; init; }
        public required TimeSpan Min { get; init; }
        public required TimeSpan Max { get; init; }
        /// <summary>Median processor time of a run (all threads): less sensitive than wall time to a busy machine.</summary>
        public TimeSpan Cpu { get; init; }
        public required int Runs { get; init; }
        public long AllocatedBytes { get; init; }
        public long PeakWorkingSet { get; init; }
        public required bool Met { get; init; }
        public string Notes { get; init; } = "";
        /// <summary>Markdown (a table and remarks) printed under the main table.</summary>
        public string Details { get; init; } = "";

        /// <summary>Runs <paramref name="body"/> <paramref name="warmups"/> + <paramref name="runs"/> times; times the measured runs.</summary>
        public static (TimeSpan Median, TimeSpan Min, TimeSpan Max, long AllocatedPerRun, TimeSpan Cpu) Measure(int warmups, int runs, Func<Task> body)
        {
            for (var i = 0; i < warmups; i++) body().GetAwaiter().GetResult();
            var times = new List<TimeSpan>();
            var cpu = new List<TimeSpan>();
            using var self = Process.GetCurrentProcess();
            long allocated = 0;
            for (var i = 0; i < runs; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                var before = GC.GetTotalAllocatedBytes(precise: true);
                self.Refresh();
                var cpuBefore = self.TotalProcessorTime;
                var clock = Stopwatch.StartNew();
                body().GetAwaiter().GetResult();
                times.Add(clock.Elapsed);
                self.Refresh();
                cpu.Add(self.TotalProcessorTime - cpuBefore);
                allocated += GC.GetTotalAllocatedBytes(precise: true) - before;
            }
            times.Sort();
            cpu.Sort();
            return (times[times.Count / 2], times[0], times[^1], allocated / runs, cpu[cpu.Count / 2]);
        }
    }
}
