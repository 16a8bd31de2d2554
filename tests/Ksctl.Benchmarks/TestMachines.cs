using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Ksctl.Core.Remote;

namespace Ksctl.Benchmarks;

public sealed record InventoryMachine
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("index")] public int Index { get; init; }
    [JsonPropertyName("address")] public required string Address { get; init; }
    [JsonPropertyName("port")] public int Port { get; init; }
    [JsonPropertyName("user")] public required string User { get; init; }
    [JsonPropertyName("keyPath")] public required string KeyPath { get; init; }
    [JsonPropertyName("hostKey")] public required string HostKey { get; init; }
}

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

    public static string RepoRoot { get; } = FindRepoRoot();
    private static string Script => Path.Combine(RepoRoot, "tests", "machines", "ksctl-testmachines.sh");

    /// <summary>At least <paramref name="count"/> machines (starting more if fewer run).</summary>
    public static IReadOnlyList<InventoryMachine> Ensure(int count)
    {
        if (_machines.Count >= count) return _machines;
        _started = true;
        var (code, stdout, stderr) = Run("bash", TimeSpan.FromMinutes(3), Script, "start", count.ToString(), "--prefix", Prefix, "--subnet", Subnet);
        if (code != 0) throw new InvalidOperationException($"ksctl-testmachines.sh start failed ({code}); needs root, iproute2 and openssh-server: {stderr} {stdout}");
        _machines = JsonSerializer.Deserialize<List<InventoryMachine>>(stdout) ?? throw new InvalidOperationException("no inventory: " + stdout);
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

    public static RemoteMachine Remote(InventoryMachine m) => new()
    {
        Name = m.Name, Address = m.Address, Port = m.Port, User = m.User, PrivateKeyPath = m.KeyPath, HostKeyFingerprint = m.HostKey,
    };

    /// <summary>As HaMachines.cs does: the systemctl shim, the containerd stand-in and node-tool recorders in each machine.</summary>
    public static async Task ProvisionStandInsAsync(IReadOnlyList<InventoryMachine> machines)
    {
        var standins = Path.Combine(RepoRoot, "tests", "tools", "standins");
        var systemctl = await File.ReadAllBytesAsync(Path.Combine(standins, "systemctl"));
        var containerd = await File.ReadAllBytesAsync(Path.Combine(standins, "containerd"));
        var nodeTool = await File.ReadAllBytesAsync(Path.Combine(standins, "node-tool"));
        var containerdUnit = "[Unit]\nDescription=containerd stand-in\n\n[Service]\nExecStart=/usr/local/bin/containerd\n"u8.ToArray();
        var factory = new SshRemoteShellFactory(new RemoteShellOptions { ConnectDeadline = TimeSpan.FromSeconds(30) });
        var executable = (UnixFileMode)0b111_101_101;
        var todo = machines.Where(m => !Provisioned.Contains(m.Name)).ToList();
        await Parallel.ForEachAsync(todo, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (m, ct) =>
        {
            await using var shell = await factory.ConnectAsync(Remote(m), ct);
            await shell.UploadAsync(systemctl, "/usr/local/bin/systemctl", executable, ct);
            await shell.UploadAsync(containerd, "/usr/local/bin/containerd", executable, ct);
            foreach (var tool in new[] { "swapoff", "modprobe", "sysctl" }) await shell.UploadAsync(nodeTool, $"/usr/local/bin/{tool}", executable, ct);
            await shell.UploadAsync(containerdUnit, "/etc/systemd/system/containerd.service", (UnixFileMode)0b110_100_100, ct);
        });
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

    /// <summary>Debian's etcd and the k3s/kubeadm stand-ins laid out as ArtifactSource expects.</summary>
    public static string MakeArtifactFolder()
    {
        var folder = Directory.CreateTempSubdirectory("ksctl-bench-artifacts-").FullName;
        var standins = Path.Combine(RepoRoot, "tests", "tools", "standins");
        var k3s = Directory.CreateDirectory(Path.Combine(folder, "k3s", "v1.33.1+k3s1")).FullName;
        File.Copy(Path.Combine(standins, "k3s"), Path.Combine(k3s, "k3s"), true);
        var kubeadm = Directory.CreateDirectory(Path.Combine(folder, "kubeadm", "v1.33.1")).FullName;
        foreach (var tool in new[] { "kubeadm", "kubelet", "kubectl" }) File.Copy(Path.Combine(standins, tool), Path.Combine(kubeadm, tool), true);
        var etcd = Directory.CreateDirectory(Path.Combine(folder, "etcd", "v3.5.21")).FullName;
        File.Copy("/usr/bin/etcd", Path.Combine(etcd, "etcd"), true);
        File.Copy("/usr/bin/etcdctl", Path.Combine(etcd, "etcdctl"), true);
        return folder;
    }

    public static (int ExitCode, string Stdout, string Stderr) Run(string file, TimeSpan timeout, params string[] args) =>
        Run(file, timeout, null, args);

    public static (int ExitCode, string Stdout, string Stderr) Run(string file, TimeSpan timeout, IDictionary<string, string>? env, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start " + file);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {timeout}");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Ksctl.PowerShell.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("Ksctl.PowerShell.sln not found above " + AppContext.BaseDirectory);
    }
}
