using System.Diagnostics;
using Ksctl.Core.Remote;

namespace Ksctl.Benchmarks;

/// <summary>
/// SSH fan-out of one command (`true`) to 32 machines vs 1 machine, connect included (SshRemoteShellFactory +
/// RemoteFanOut.RunOnAllAsync, parallelism 32). Also times connect alone and the machine-wide CPU a fan-out costs, so
/// that a missed target can be told apart: handshake CPU (ours + 32 sshd) vs waiting.
/// </summary>
public static class FanOutBenchmarks
{
    private const int Wide = 32;
    private const int Runs = 7;
    private const double Target = 2.0;

    public static int MachinesNeeded => Wide;

    public static BenchmarkResult RunTrue() => RunAsync().GetAwaiter().GetResult();

    private sealed record Sample(TimeSpan Wall, TimeSpan OurCpu, TimeSpan MachineBusy, TimeSpan RemoteCpu);

    private static async Task<BenchmarkResult> RunAsync()
    {
        var machines = TestMachines.Ensure(Wide).Take(Wide).Select(TestMachines.Remote).ToList();
        var factory = new SshRemoteShellFactory(new RemoteShellOptions { ConnectDeadline = TimeSpan.FromSeconds(30), MaxParallelism = Wide });
        var script = new RemoteScript("bench:true", "true");

        Task FanOut(IReadOnlyList<RemoteMachine> ms) => Run(async () =>
            (await factory.RunOnAllAsync(ms, script, maxParallelism: Wide)).ThrowIfAnyFailed());
        Task ConnectOnly(IReadOnlyList<RemoteMachine> ms) => Run(async () =>
            (await RemoteFanOut.ForEachAsync(ms, m => m.DisplayName, async (m, ct) =>
            {
                await using var shell = await factory.ConnectAsync(m, ct);
                return 0;
            }, Wide)).ThrowIfAnyFailed());

        // The same connect with SSH.NET directly, key exchange limited to curve25519-sha256 (the fix to compare with: SSH.NET
        // prefers sntrup761x25519-sha512, which OpenSSH 8.5+ accepts and which costs ~90 ms of managed CPU per connect).
        var key = new Renci.SshNet.PrivateKeyFile(TestMachines.Ensure(Wide)[0].KeyPath);
        Task RawConnect(IReadOnlyList<RemoteMachine> ms) => Parallel.ForEachAsync(ms, new ParallelOptions { MaxDegreeOfParallelism = Wide }, async (m, ct) =>
        {
            var info = new Renci.SshNet.ConnectionInfo(m.Address, m.Port, m.User, new Renci.SshNet.PrivateKeyAuthenticationMethod(m.User, key));
            foreach (var k in info.KeyExchangeAlgorithms.Keys.Where(k => k != "curve25519-sha256").ToList()) info.KeyExchangeAlgorithms.Remove(k);
            using var client = new Renci.SshNet.SshClient(info);
            await client.ConnectAsync(ct);
            client.Disconnect();
        });
        await RawConnect(machines);

        // Running only, on connections already open: ksctl's script wrapper (temp file, byte count, setsid, pid file) vs a bare exec.
        var shells = (await RemoteFanOut.ForEachAsync(machines, m => m.DisplayName, (m, ct) => factory.ConnectAsync(m, ct), Wide)).ThrowIfAnyFailed();
        var raws = machines.Select(m =>
        {
            var info = new Renci.SshNet.ConnectionInfo(m.Address, m.Port, m.User, new Renci.SshNet.PrivateKeyAuthenticationMethod(m.User, key));
            var c = new Renci.SshNet.SshClient(info);
            c.Connect();
            return c;
        }).ToList();
        Task RunOnly() => Run(async () => (await RemoteFanOut.RunOnAllAsync(shells, script, Wide)).ThrowIfAnyFailed());
        Task RawExec() => Parallel.ForEachAsync(raws, new ParallelOptions { MaxDegreeOfParallelism = Wide }, async (c, ct) =>
        {
            using var cmd = c.CreateCommand("true");
            await cmd.ExecuteAsync(ct);
        });
        await RunOnly();
        await RawExec();

        // Warm up: JIT, SSH.NET's crypto, sshd's page cache, on every machine.
        await FanOut(machines);
        await FanOut(machines[..1]);

        List<Sample> one = [], wide = [], connectOne = [], connectWide = [], rawOne = [], rawWide = [], runWide = [], execWide = [];
        for (var i = 0; i < Runs; i++) // interleaved: a load change on the shared machine hits both alike
        {
            one.Add(await Timed(() => FanOut(machines[..1])));
            wide.Add(await Timed(() => FanOut(machines)));
            connectOne.Add(await Timed(() => ConnectOnly(machines[..1])));
            connectWide.Add(await Timed(() => ConnectOnly(machines)));
            rawOne.Add(await Timed(() => RawConnect(machines[..1])));
            rawWide.Add(await Timed(() => RawConnect(machines)));
            runWide.Add(await Timed(RunOnly));
            execWide.Add(await Timed(RawExec));
        }

        var (m1, mW) = (Median(one, s => s.Wall), Median(wide, s => s.Wall));
        var ratio = mW / m1;
        string Row(string what, List<Sample> a) =>
            $"| {what} | {Ms(Median(a, s => s.Wall))} | {Ms(Median(a, s => s.OurCpu))} | {Ms(Median(a, s => s.RemoteCpu))} | {Ms(Median(a, s => s.MachineBusy))} |";
        static string R(TimeSpan b, TimeSpan a) => a > TimeSpan.Zero ? $"{b / a:0.0}×" : "–"; // CPU below the 10 ms tick reads as 0
        string RatioRow(string what, List<Sample> a, List<Sample> b) =>
            $"| {what} | **{Median(b, s => s.Wall) / Median(a, s => s.Wall):0.00}×** | {R(Median(b, s => s.OurCpu), Median(a, s => s.OurCpu))} | {R(Median(b, s => s.RemoteCpu), Median(a, s => s.RemoteCpu))} | {R(Median(b, s => s.MachineBusy), Median(a, s => s.MachineBusy))} |";
        var details = string.Join('\n',
            $"| Median of {Runs} (parallelism {Wide}) | Wall | ksctl process CPU | Test machines' CPU (sshd + sessions) | Host busy CPU (all processes, {Environment.ProcessorCount} cores) |",
            "|---|---:|---:|---:|---:|",
            Row("`true` on 1 machine (connect + run)", one),
            Row($"`true` on {Wide} machines (connect + run)", wide),
            RatioRow($"ratio {Wide}/1 (target ≤ {Target:0}×)", one, wide),
            Row("connect only, 1 machine (ksctl factory)", connectOne),
            Row($"connect only, {Wide} machines (ksctl factory)", connectWide),
            RatioRow($"ratio {Wide}/1", connectOne, connectWide),
            Row("connect only, 1 machine, SSH.NET with curve25519-sha256 only", rawOne),
            Row($"connect only, {Wide} machines, SSH.NET with curve25519-sha256 only", rawWide),
            RatioRow($"ratio {Wide}/1", rawOne, rawWide),
            Row($"run only on {Wide} open connections: ksctl RunAsync (script wrapper)", runWide),
            Row($"run only on {Wide} open connections: bare exec of `true`", execWide));
        foreach (var sh in shells) await sh.DisposeAsync();
        foreach (var c in raws) c.Dispose();
        var sorted = wide.Select(s => s.Wall).Order().ToList();
        return new BenchmarkResult
        {
            Median = mW, Min = sorted[0], Max = sorted[^1], Cpu = Median(wide, s => s.OurCpu), Runs = Runs,
            Met = ratio <= Target,
            Notes = $"32 machines {Ms(mW)} vs 1 machine {Ms(m1)}: {ratio:0.00}× (target ≤ {Target}×); a fan-out's machine-wide busy CPU / wall = " +
                    $"{Median(wide, s => s.MachineBusy) / mW:0.00} cores of {Environment.ProcessorCount}",
            Details = details,
        };
    }

    private static async Task Run(Func<Task> body) => await body();

    private static async Task<Sample> Timed(Func<Task> body)
    {
        using var self = Process.GetCurrentProcess();
        var cpu0 = self.TotalProcessorTime;
        var busy0 = MachineBusy();
        var remote0 = TestMachines.MachinesCpu();
        var clock = Stopwatch.StartNew();
        await body();
        var wall = clock.Elapsed;
        self.Refresh();
        return new Sample(wall, self.TotalProcessorTime - cpu0, MachineBusy() - busy0, TestMachines.MachinesCpu() - remote0);
    }

    /// <summary>Busy CPU time of the whole machine so far (/proc/stat: all but idle and iowait), or zero elsewhere.</summary>
    private static TimeSpan MachineBusy()
    {
        if (!File.Exists("/proc/stat")) return TimeSpan.Zero;
        var f = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();
        var busy = f.Sum() - f[3] - f[4] - (f.Length > 8 ? f[8] + (f.Length > 9 ? f[9] : 0) : 0); // minus idle, iowait, guest (already in user)
        return TimeSpan.FromSeconds(busy / 100.0); // USER_HZ
    }

    private static TimeSpan Median(List<Sample> samples, Func<Sample, TimeSpan> pick)
    {
        var v = samples.Select(pick).Order().ToList();
        return v[v.Count / 2];
    }

    private static string Ms(TimeSpan t) => $"{t.TotalMilliseconds:0} ms";
}
