using System.Diagnostics;
using Ksctl.Core.Remote;

namespace Ksctl.Benchmarks;

/// <summary>
/// The fan-out with latency instead of computation, so Ksctl's own scaling (executor, SSH client) shows on a host whose
/// cores the test machines share: every machine's network gets a fixed delay (tc netem on its eth0, so each SSH round
/// trip waits) and the command is <c>sleep 1</c>, a remote step that waits rather than computes. Connect included,
/// parallelism 32. Also reports Ksctl's own CPU per machine per operation (this process's CPU / machines).
/// </summary>
public static class FanOutLatencyBenchmarks
{
    private const int Wide = 32;
    private const int Runs = 5;
    private const double Target = 2.0;
    private const int DelayMs = 20;

    public static int MachinesNeeded => Wide;

    public static BenchmarkResult SleepWithDelay() => RunAsync().GetAwaiter().GetResult();

    private static async Task<BenchmarkResult> RunAsync()
    {
        var inventory = TestMachines.Ensure(Wide).Take(Wide).ToList();
        var machines = inventory.Select(TestMachines.Remote).ToList();
        // The kernel may lack sch_netem (a container's host): then the latency is the remote command's alone, and the notes say so.
        var delayed = inventory.All(m => Netem(m.Index, $"add dev eth0 root netem delay {DelayMs}ms"));
        try
        {
            var factory = new SshRemoteShellFactory(new RemoteShellOptions { ConnectDeadline = TimeSpan.FromSeconds(60), MaxParallelism = Wide });
            var script = new RemoteScript("bench:sleep", "sleep 1");
            async Task FanOut(IReadOnlyList<RemoteMachine> ms) => (await factory.RunOnAllAsync(ms, script, maxParallelism: Wide)).ThrowIfAnyFailed();

            await FanOut(machines); // warm-up: JIT, crypto, every sshd
            await FanOut(machines[..1]);
            List<(TimeSpan Wall, TimeSpan Cpu)> one = [], wide = [];
            for (var i = 0; i < Runs; i++)
            {
                one.Add(await Timed(() => FanOut(machines[..1])));
                wide.Add(await Timed(() => FanOut(machines)));
            }
            var m1 = Median(one.Select(s => s.Wall));
            var mW = Median(wide.Select(s => s.Wall));
            var cpuOne = Median(one.Select(s => s.Cpu));
            var cpuWide = Median(wide.Select(s => s.Cpu));
            var ratio = mW / m1;
            var sorted = wide.Select(s => s.Wall).Order().ToList();
            return new BenchmarkResult
            {
                Median = mW, Min = sorted[0], Max = sorted[^1], Cpu = cpuWide, Runs = Runs, Met = ratio <= Target,
                Notes = $"{Wide} machines {mW.TotalMilliseconds:0} ms vs 1 machine {m1.TotalMilliseconds:0} ms: {ratio:0.00}× (target ≤ {Target}×); " +
                        (delayed ? $"netem {DelayMs} ms on every machine" : "no network delay (this kernel has no sch_netem: `tc qdisc add … netem` is refused)") +
                        $", remote command `sleep 1`; Ksctl's own CPU per machine per operation (connect + run): " +
                        $"{cpuWide.TotalMilliseconds / Wide:0.0} ms at {Wide} machines, {cpuOne.TotalMilliseconds:0.0} ms at 1",
            };
        }
        finally
        {
            if (delayed) foreach (var m in inventory) Netem(m.Index, "del dev eth0 root");
        }
    }

    private static bool Netem(int index, string args)
    {
        var (code, _, stderr) = TestMachines.Run("ip", TimeSpan.FromSeconds(20), ["netns", "exec", $"{TestMachines.Prefix}-m{index}", "tc", "qdisc", .. args.Split(' ')]);
        if (code != 0) Console.Error.WriteLine($"tc qdisc {args} in machine {index}: {stderr.Trim()}");
        return code == 0;
    }

    private static async Task<(TimeSpan Wall, TimeSpan Cpu)> Timed(Func<Task> body)
    {
        using var self = Process.GetCurrentProcess();
        var cpu0 = self.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        await body();
        var wall = clock.Elapsed;
        self.Refresh();
        return (wall, self.TotalProcessorTime - cpu0);
    }

    private static TimeSpan Median(IEnumerable<TimeSpan> values)
    {
        var v = values.Order().ToList();
        return v[v.Count / 2];
    }
}
