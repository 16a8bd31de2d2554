using System.Diagnostics;
using System.Text.Json;
using Ksctl.Core.Remote;
using Ksctl.TestSupport;

namespace Ksctl.Benchmarks;

/// <summary>
/// The SSH test machines of tests/machines/ksctl-testmachines.sh for the `ha` and `fanout` benchmarks, started once with
/// the largest count any selected benchmark needs, under a prefix and subnet of the benchmarks' own (KSCTL_BENCH_PREFIX,
/// KSCTL_BENCH_SUBNET; default ksb / 10.251.210), and stopped when the harness ends.
/// </summary>
public static class TestMachines
{
    public static string Prefix => Environment.GetEnvironmentVariable("KSCTL_BENCH_PREFIX") is { Length: > 0 } p ? p : "ksb";
    public static string Subnet => Environment.GetEnvironmentVariable("KSCTL_BENCH_SUBNET") is { Length: > 0 } s ? s : "10.251.210";

    private static List<InventoryMachine> _machines = [];
    private static bool _started;
    private static readonly HashSet<string> Provisioned = [];

    public static string RepoRoot => TestMachineHarness.RepoRoot;
    private static string Script => TestMachineHarness.Script;

    /// <summary>At least <paramref name="count"/> machines (starting more if fewer run).</summary>
    public static IReadOnlyList<InventoryMachine> Ensure(int count)
    {
        if (_machines.Count >= count) return _machines;
        _started = true;
        _machines = TestMachineHarness.Start(Prefix, Subnet, count).ToList();
        return _machines;
    }

    public static void StopIfStarted()
    {
        if (!_started || Environment.GetEnvironmentVariable("KSCTL_TESTMACHINES_KEEP") == "1") return;
        _started = false;
        try
        {
            var (code, _, stderr) = Run("bash", TimeSpan.FromMinutes(5), Script, "stop", "--prefix", Prefix, "--subnet", Subnet);
            if (code != 0) Console.Error.WriteLine($"warning: ksctl-testmachines.sh stop --prefix {Prefix} failed ({code}): {stderr}");
        }
        catch (TimeoutException ex)
        {
            Console.Error.WriteLine($"warning: {ex.Message}; run: bash tests/machines/ksctl-testmachines.sh stop --prefix {Prefix} --subnet {Subnet}");
        }
    }

    public static RemoteMachine Remote(InventoryMachine m) => m.ToRemote();

    /// <summary>The stand-ins of the HA tests, once per machine.</summary>
    public static async Task ProvisionStandInsAsync(IReadOnlyList<InventoryMachine> machines)
    {
        var todo = machines.Where(m => !Provisioned.Contains(m.Name)).ToList();
        await TestMachineHarness.ProvisionStandInsAsync(todo);
        lock (Provisioned) foreach (var m in todo) Provisioned.Add(m.Name);
    }

    /// <summary>
    /// CPU time so far of every process in this run's machines (their network namespaces): user + system of the live ones
    /// plus what their exited children left in cutime/cstime (sshd reaps its sessions, the wrappers their commands). The
    /// difference over an operation is the remote side's CPU, which real machines would spend on their own cores but the
    /// test machines spend on this host's.
    /// </summary>
    public static TimeSpan MachinesCpu()
    {
        if (_namespaces is null || _namespacesFor != _machines.Count)
        {
            _namespaces = _machines.Select(m => $"/run/netns/{Prefix}-m{m.Index}").Where(File.Exists).Select(Inode).Where(i => i.Length > 0).ToHashSet();
            _namespacesFor = _machines.Count;
        }
        var namespaces = _namespaces;
        long ticks = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            var pid = Path.GetFileName(dir);
            if (!pid.All(char.IsAsciiDigit)) continue;
            try
            {
                var ns = new FileInfo(Path.Combine(dir, "ns", "net")).LinkTarget; // "net:[4026532...]"
                if (ns is null || !namespaces.Contains(ns[5..^1])) continue;
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                ticks += long.Parse(f[11]) + long.Parse(f[12]) + long.Parse(f[13]) + long.Parse(f[14]); // utime stime cutime cstime
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { }
        }
        return TimeSpan.FromSeconds(ticks / 100.0); // USER_HZ
    }

    private static HashSet<string>? _namespaces;
    private static int _namespacesFor;

    private static string Inode(string path)
    {
        var (code, stdout, _) = Run("stat", TimeSpan.FromSeconds(10), "-L", "-c", "%i", path);
        return code == 0 ? stdout.Trim() : "";
    }

    public static string MakeArtifactFolder() => TestMachineHarness.MakeArtifactFolder();

    public static (int ExitCode, string Stdout, string Stderr) Run(string file, TimeSpan timeout, params string[] args) =>
        TestMachineHarness.Run(file, timeout, args);

    public static (int ExitCode, string Stdout, string Stderr) Run(string file, TimeSpan timeout, IDictionary<string, string>? env, params string[] args) =>
        TestMachineHarness.Run(file, timeout, env, args);
}
