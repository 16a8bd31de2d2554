using System.Diagnostics;
using System.Text.Json;
using Ksctl.Core.Remote;

namespace Ksctl.Benchmarks;

/// <summary>
/// A fan-out's connects in a fresh process, whose thread pool has not grown yet (as in a cmdlet's first fan-out): one
/// machine first (JIT, crypto), then all at once. Run as a child process by <see cref="FanOutLatencyBenchmarks"/>, once
/// with Ksctl's connect (threads of its own) and once with SSH.NET's ConnectAsync awaited on the pool (Ksctl before).
/// </summary>
public static class ColdConnect
{
    public const string Verb = "--cold-connect";

    /// <summary>Child side: args = mode ("ksctl"|"pool") and a JSON file of machines; prints the wall ms of the wide connect.</summary>
    public static int Main(string[] args)
    {
        var machines = JsonSerializer.Deserialize<List<RemoteMachine>>(File.ReadAllText(args[1]))!;
        Func<RemoteMachine, CancellationToken, Task> connect = args[0] == "pool" ? PoolAsync : KsctlAsync;
        connect(machines[0], CancellationToken.None).GetAwaiter().GetResult();
        var clock = Stopwatch.StartNew();
        Parallel.ForEachAsync(machines, new ParallelOptions { MaxDegreeOfParallelism = machines.Count }, async (m, ct) => await connect(m, ct)).GetAwaiter().GetResult();
        Console.WriteLine($"{clock.Elapsed.TotalMilliseconds:0} {ThreadPool.ThreadCount}");
        return 0;
    }

    private static readonly SshRemoteShellFactory Factory = new(new RemoteShellOptions { ConnectDeadline = TimeSpan.FromSeconds(60) });

    private static async Task KsctlAsync(RemoteMachine m, CancellationToken ct)
    {
        await using var shell = await Factory.ConnectAsync(m, ct);
    }

    private static async Task PoolAsync(RemoteMachine m, CancellationToken ct)
    {
        using var key = new Renci.SshNet.PrivateKeyFile(m.PrivateKeyPath!);
        using var client = new Renci.SshNet.SshClient(new Renci.SshNet.ConnectionInfo(m.Address, m.Port, m.User, new Renci.SshNet.PrivateKeyAuthenticationMethod(m.User, key)));
        await client.ConnectAsync(ct);
        client.Disconnect();
    }

    /// <summary>Parent side: the child's wall ms and final pool size.</summary>
    public static (double Ms, int Threads) Run(string mode, IReadOnlyList<RemoteMachine> machines)
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, JsonSerializer.Serialize(machines));
            var self = Environment.ProcessPath!;
            var dll = typeof(ColdConnect).Assembly.Location;
            string[] prefix = Path.GetFileNameWithoutExtension(self) == "dotnet" ? [dll] : [];
            var (code, stdout, stderr) = TestMachines.Run(self, TimeSpan.FromMinutes(5), [.. prefix, Verb, mode, file]);
            if (code != 0) throw new InvalidOperationException($"cold connect ({mode}) failed: {stderr}");
            var parts = stdout.Trim().Split(' ');
            return (double.Parse(parts[0]), int.Parse(parts[1]));
        }
        finally { File.Delete(file); }
    }
}
