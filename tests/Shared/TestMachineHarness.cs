using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Ksctl.Core.Remote;

namespace Ksctl.TestSupport;

/// <summary>One machine of the inventory printed by tests/machines/ksctl-testmachines.sh.</summary>
public sealed record InventoryMachine
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("index")] public int Index { get; init; }
    [JsonPropertyName("address")] public required string Address { get; init; }
    /// <summary>The machine's private address (eth1, a segment only the machines share; the test process cannot reach it).</summary>
    [JsonPropertyName("privateAddress")] public string PrivateAddress { get; init; } = "";
    [JsonPropertyName("port")] public int Port { get; init; }
    [JsonPropertyName("user")] public required string User { get; init; }
    /// <summary>A non-root user with passwordless sudo on every machine, when the harness was asked for one.</summary>
    [JsonPropertyName("sudoUser")] public string SudoUser { get; init; } = "";
    [JsonPropertyName("keyPath")] public required string KeyPath { get; init; }
    [JsonPropertyName("rsaKeyPath")] public string RsaKeyPath { get; init; } = "";
    [JsonPropertyName("hostKey")] public required string HostKey { get; init; }

    public RemoteMachine ToRemote(string? hostKey = null, bool pin = true) => new()
    {
        Name = Name, Address = Address, Port = Port, User = User, PrivateKeyPath = KeyPath,
        HostKeyFingerprint = pin ? hostKey ?? HostKey : null,
    };
}

/// <summary>
/// The test-machine harness (tests/machines/ksctl-testmachines.sh) and the stand-ins, shared by every suite that
/// needs SSH machines. Each suite uses a prefix and subnet of its own, so suites running at once never collide.
/// </summary>
public static class TestMachineHarness
{
    public static string RepoRoot { get; } = FindRepoRoot();
    public static string Script => Path.Combine(RepoRoot, "tests", "machines", "ksctl-testmachines.sh");
    public static string StandIns => Path.Combine(RepoRoot, "tests", "tools", "standins");

    /// <summary>
    /// KSCTL_TEST_SLOT (1-9) moves every suite's machines to a prefix and subnet of that slot, so two checkouts (or two
    /// CI runs) on one host never share a bridge, a namespace or an address. Unset or 0: the suites' own defaults.
    /// </summary>
    public static int Slot { get; } =
        int.TryParse(Environment.GetEnvironmentVariable("KSCTL_TEST_SLOT"), out var slot) && slot is >= 0 and <= 9 ? slot : 0;

    /// <summary>A suite's machine-name prefix in this run's slot ("ksc" → "ksc3" in slot 3).</summary>
    public static string ScopedPrefix(string prefix) => Slot == 0 ? prefix : prefix + Slot;

    /// <summary>A suite's /24 (A.B.C) in this run's slot: the second octet moves down by the slot (10.251.203 → 10.248.203).</summary>
    public static string ScopedSubnet(string subnet)
    {
        if (Slot == 0) return subnet;
        var octets = subnet.Split('.');
        return $"{octets[0]}.{int.Parse(octets[1]) - Slot}.{octets[2]}";
    }

    /// <summary>Starts (or keeps) <paramref name="count"/> machines and returns the inventory; fails loudly with the harness's reason.</summary>
    public static IReadOnlyList<InventoryMachine> Start(string prefix, string subnet, int count, params string[] extra)
    {
        var (code, stdout, stderr) = Harness(prefix, subnet, TimeSpan.FromMinutes(3), ["start", count.ToString(), .. extra]);
        if (code != 0)
        {
            Harness(prefix, subnet, TimeSpan.FromMinutes(1), ["stop"]);
            throw new InvalidOperationException($"ksctl-testmachines.sh start failed ({code}); the machines need root, iproute2 and openssh-server: {stderr.Trim()} {stdout.Trim()}");
        }
        var machines = JsonSerializer.Deserialize<List<InventoryMachine>>(stdout) ?? throw new InvalidOperationException("no inventory: " + stdout);
        if (machines.Count != count) throw new InvalidOperationException($"Expected {count} machines, the harness printed {machines.Count}: {stdout}");
        return machines;
    }

    /// <summary>Removes the machines, unless KSCTL_TESTMACHINES_KEEP=1 (to inspect their logs after a failure).</summary>
    public static void Stop(string prefix, string subnet)
    {
        if (Environment.GetEnvironmentVariable("KSCTL_TESTMACHINES_KEEP") == "1") return;
        // Loud, not swallowed: namespaces, veths or a bridge left behind collide with the next run on this host.
        var (code, stdout, stderr) = Harness(prefix, subnet, TimeSpan.FromMinutes(2), ["stop"]);
        if (code != 0) throw new InvalidOperationException($"ksctl-testmachines.sh stop failed ({code}); machines of prefix {prefix} may be left behind: {stderr.Trim()} {stdout.Trim()}");
    }

    /// <summary>A harness command that must succeed (stop-machine I, start-machine I, adopt, reset...); returns its output.</summary>
    public static string Require(string prefix, string subnet, params string[] args)
    {
        var (code, stdout, stderr) = Harness(prefix, subnet, TimeSpan.FromMinutes(1), args);
        if (code != 0) throw new InvalidOperationException($"ksctl-testmachines.sh {string.Join(' ', args)} failed ({code}): {stderr} {stdout}");
        return stdout;
    }

    private static (int ExitCode, string Stdout, string Stderr) Harness(string prefix, string subnet, TimeSpan timeout, string[] args) =>
        Run("bash", timeout, [Script, .. args, "--prefix", prefix, "--subnet", subnet]);

    /// <summary>
    /// What an Ubuntu machine has and these namespaces lack: systemd (a shim), a containerd package, and kernel tools
    /// that would act on the host's kernel (recorders), all in each machine's private /usr/local/bin.
    /// </summary>
    public static async Task ProvisionStandInsAsync(IEnumerable<InventoryMachine> machines)
    {
        var systemctl = await File.ReadAllBytesAsync(Path.Combine(StandIns, "systemctl"));
        var containerd = await File.ReadAllBytesAsync(Path.Combine(StandIns, "containerd"));
        var nodeTool = await File.ReadAllBytesAsync(Path.Combine(StandIns, "node-tool"));
        var containerdUnit = "[Unit]\nDescription=containerd stand-in\n\n[Service]\nExecStart=/usr/local/bin/containerd\n"u8.ToArray();
        var factory = new SshRemoteShellFactory(new RemoteShellOptions { ConnectDeadline = TimeSpan.FromSeconds(30) });
        var executable = (UnixFileMode)0b111_101_101;
        await Parallel.ForEachAsync(machines, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (m, ct) =>
        {
            await using var shell = await factory.ConnectAsync(m.ToRemote(), ct);
            await shell.UploadAsync(systemctl, "/usr/local/bin/systemctl", executable, ct);
            await shell.UploadAsync(containerd, "/usr/local/bin/containerd", executable, ct);
            foreach (var tool in new[] { "swapoff", "modprobe", "sysctl" }) await shell.UploadAsync(nodeTool, $"/usr/local/bin/{tool}", executable, ct);
            await shell.UploadAsync(containerdUnit, "/etc/systemd/system/containerd.service", (UnixFileMode)0b110_100_100, ct);
        });
    }

    /// <summary>Debian's etcd and the k3s/kubeadm stand-ins laid out as -ArtifactSource expects.</summary>
    public static string MakeArtifactFolder()
    {
        var folder = Directory.CreateTempSubdirectory("ksctl-artifacts-").FullName;
        var k3s = Directory.CreateDirectory(Path.Combine(folder, "k3s", "v1.33.1+k3s1")).FullName;
        File.Copy(Path.Combine(StandIns, "k3s"), Path.Combine(k3s, "k3s"), true);
        var kubeadm = Directory.CreateDirectory(Path.Combine(folder, "kubeadm", "v1.33.1")).FullName;
        foreach (var tool in new[] { "kubeadm", "kubelet", "kubectl" }) File.Copy(Path.Combine(StandIns, tool), Path.Combine(kubeadm, tool), true);
        // What the Kubernetes packages would bring: crictl and the CNI plugins (stand-ins that do nothing).
        var criTools = Directory.CreateDirectory(Path.Combine(folder, "cri-tools", "v1.33.0")).FullName;
        File.Copy(Path.Combine(StandIns, "crictl"), Path.Combine(criTools, "crictl"), true);
        var plugins = Directory.CreateTempSubdirectory("ksctl-cni-plugins-").FullName;
        foreach (var plugin in new[] { "bridge", "host-local", "portmap", "loopback" })
            File.WriteAllText(Path.Combine(plugins, plugin), "#!/bin/sh\nexit 0\n");
        var cni = Directory.CreateDirectory(Path.Combine(folder, "cni-plugins", "v1.6.2")).FullName;
        var (code, _, error) = Run("sh", TimeSpan.FromSeconds(30), "-c", "cd \"$1\" && chmod 0755 ./* && tar -czf \"$0\" ./*", Path.Combine(cni, "cni-plugins.tgz"), plugins);
        Directory.Delete(plugins, true);
        if (code != 0) throw new InvalidOperationException("could not pack the CNI plugin stand-ins: " + error);
        var etcd = Directory.CreateDirectory(Path.Combine(folder, "etcd", "v3.5.21")).FullName;
        File.Copy("/usr/bin/etcd", Path.Combine(etcd, "etcd"), true);
        File.Copy("/usr/bin/etcdctl", Path.Combine(etcd, "etcdctl"), true);
        foreach (var dir in new[] { k3s, kubeadm, criTools, cni, etcd }) WriteChecksums(dir);
        return folder;
    }

    /// <summary>The SHA256SUMS (sha256sum's format) that -ArtifactSource requires beside each version's files.</summary>
    public static void WriteChecksums(string dir)
    {
        var lines = Directory.GetFiles(dir).Where(f => Path.GetFileName(f) != "SHA256SUMS").Order(StringComparer.Ordinal)
            .Select(f => $"{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f))).ToLowerInvariant()}  {Path.GetFileName(f)}\n");
        File.WriteAllText(Path.Combine(dir, "SHA256SUMS"), string.Concat(lines));
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
