using System.Diagnostics;
using System.Text;
using Ksctl.Core.Remote;

namespace Ksctl.Benchmarks;

/// <summary>
/// The fan-out with latency instead of computation, so Ksctl's own scaling (executor, SSH client) shows on a host whose
/// cores the test machines share: every machine's SSH connection goes through a <see cref="DelayProxy"/> (10 ms each way,
/// so every SSH round trip waits 20 ms) and the command is <c>sleep 1</c>, a remote step that waits rather than computes.
/// Connect included, parallelism 32. Also reports Ksctl's own CPU per machine per operation (this process's CPU /
/// machines), and, to show where a fan-out serialised before, SSH.NET's own ConnectAsync awaited on the thread pool
/// (what Ksctl did until SshRemoteShell connected on threads of its own).
/// </summary>
public static class FanOutLatencyBenchmarks
{
    private const int Wide = 32;
    private const int Runs = 5;
    private const double Target = 2.0;
    public const int OneWayDelayMs = 10;

    public static int MachinesNeeded => Wide;

    public static BenchmarkResult SleepWithDelay() => RunAsync().GetAwaiter().GetResult();

    private static async Task<BenchmarkResult> RunAsync()
    {
        var inventory = TestMachines.Ensure(Wide).Take(Wide).ToList();
        using var proxy = DelayProxy.Start(inventory, OneWayDelayMs);
        var machines = inventory.Select(m => TestMachines.Remote(m) with { Port = DelayProxy.Port }).ToList();
        var factory = new SshRemoteShellFactory(new RemoteShellOptions { ConnectDeadline = TimeSpan.FromSeconds(60), MaxParallelism = Wide });
        var script = new RemoteScript("bench:sleep", "sleep 1");
        async Task FanOut(IReadOnlyList<RemoteMachine> ms) => (await factory.RunOnAllAsync(ms, script, maxParallelism: Wide)).ThrowIfAnyFailed();
        async Task ConnectOnly(IReadOnlyList<RemoteMachine> ms) => (await RemoteFanOut.ForEachAsync(ms, m => m.DisplayName, async (m, ct) =>
        {
            await using var shell = await factory.ConnectAsync(m, ct);
            return 0;
        }, Wide)).ThrowIfAnyFailed();
        // SSH.NET's ConnectAsync awaited on pool threads: it blocks its thread for the key exchange and authentication.
        var key = new Renci.SshNet.PrivateKeyFile(inventory[0].KeyPath);
        async Task PoolConnect(IReadOnlyList<RemoteMachine> ms) => await Parallel.ForEachAsync(ms, new ParallelOptions { MaxDegreeOfParallelism = Wide }, async (m, ct) =>
        {
            using var client = new Renci.SshNet.SshClient(new Renci.SshNet.ConnectionInfo(m.Address, m.Port, m.User, new Renci.SshNet.PrivateKeyAuthenticationMethod(m.User, key)));
            await client.ConnectAsync(ct);
            client.Disconnect();
        });

        // In fresh processes first (their pools have not grown): Ksctl's connect vs SSH.NET's ConnectAsync on the pool.
        var cold = Enumerable.Range(0, 3).Select(_ => (Ksctl: ColdConnect.Run("ksctl", machines), Pool: ColdConnect.Run("pool", machines))).ToList();
        await FanOut(machines); // warm-up: JIT, crypto, every sshd and proxy
        await FanOut(machines[..1]);
        List<(TimeSpan Wall, TimeSpan Cpu)> one = [], wide = [], connectOne = [], connectWide = [], poolOne = [], poolWide = [];
        for (var i = 0; i < Runs; i++)
        {
            one.Add(await Timed(() => FanOut(machines[..1])));
            wide.Add(await Timed(() => FanOut(machines)));
            connectOne.Add(await Timed(() => ConnectOnly(machines[..1])));
            connectWide.Add(await Timed(() => ConnectOnly(machines)));
            poolOne.Add(await Timed(() => PoolConnect(machines[..1])));
            poolWide.Add(await Timed(() => PoolConnect(machines)));
        }
        var m1 = Median(one.Select(s => s.Wall));
        var mW = Median(wide.Select(s => s.Wall));
        var cpuOne = Median(one.Select(s => s.Cpu));
        var cpuWide = Median(wide.Select(s => s.Cpu));
        var ratio = mW / m1;
        var sorted = wide.Select(s => s.Wall).Order().ToList();

        var sb = new StringBuilder();
        sb.AppendLine($"| Median of {Runs} (parallelism {Wide}, {2 * OneWayDelayMs} ms per SSH round trip) | 1 machine | {Wide} machines | ratio | Ksctl CPU, 1 | Ksctl CPU, {Wide} | Ksctl CPU per machine at {Wide} |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        void Row(string what, List<(TimeSpan Wall, TimeSpan Cpu)> a, List<(TimeSpan Wall, TimeSpan Cpu)> b)
        {
            var (wa, wb, ca, cb) = (Median(a.Select(s => s.Wall)), Median(b.Select(s => s.Wall)), Median(a.Select(s => s.Cpu)), Median(b.Select(s => s.Cpu)));
            sb.AppendLine($"| {what} | {wa.TotalMilliseconds:0} ms | {wb.TotalMilliseconds:0} ms | {wb / wa:0.00}× | {ca.TotalMilliseconds:0} ms | {cb.TotalMilliseconds:0} ms | {cb.TotalMilliseconds / Wide:0.0} ms |");
        }
        Row("connect + `sleep 1` + disconnect (Ksctl: SshRemoteShellFactory + RemoteFanOut)", one, wide);
        Row("connect only (Ksctl)", connectOne, connectWide);
        Row("connect only, SSH.NET ConnectAsync awaited on the thread pool (Ksctl's connect before this change)", poolOne, poolWide);
        var coldKsctl = cold.Select(c => c.Ksctl.Ms).Order().ToList()[1];
        var coldPool = cold.Select(c => c.Pool.Ms).Order().ToList()[1];
        sb.AppendLine($"| {Wide} connects at once in a fresh process (median of 3; pool threads after: Ksctl {cold[1].Ksctl.Threads}, pool path {cold[1].Pool.Threads}) | | Ksctl {coldKsctl:0} ms | pool path {coldPool:0} ms | | | |");
        sb.AppendLine();
        sb.AppendLine($"Thread pool at the end: {ThreadPool.ThreadCount} threads (it starts with {Environment.ProcessorCount}); " +
                      "a connect that blocks a pool thread for its round trips makes a wide fan-out wait for the pool to grow.");

        return new BenchmarkResult
        {
            Median = mW, Min = sorted[0], Max = sorted[^1], Cpu = cpuWide, Runs = Runs, Met = ratio <= Target,
            Notes = $"{Wide} machines {mW.TotalMilliseconds:0} ms vs 1 machine {m1.TotalMilliseconds:0} ms: {ratio:0.00}× (target ≤ {Target}×); " +
                    $"a TCP proxy in each machine's namespace delays every SSH chunk {OneWayDelayMs} ms each way (no sch_netem here), remote command `sleep 1`; " +
                    $"Ksctl's own CPU per machine per operation (connect + run): {cpuWide.TotalMilliseconds / Wide:0.0} ms at {Wide} machines, {cpuOne.TotalMilliseconds:0.0} ms at 1",
            Details = sb.ToString().TrimEnd(),
        };
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
