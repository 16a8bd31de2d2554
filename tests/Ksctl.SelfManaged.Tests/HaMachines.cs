using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Ksctl.Core.Model;
using Ksctl.Core.Remote;

namespace Ksctl.SelfManaged.Tests;

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
/// Ten real SSH machines (network + mount namespaces) for the HA tests: 1 LB, 3 etcd, 3 control planes, 3 workers.
/// Each gets the systemctl stand-in in its private /usr/local/bin (they have no systemd). An artifact folder holds
/// Debian's etcd and the k3s stand-in, laid out as -ArtifactSource expects.
/// </summary>
public sealed class HaMachinesFixture : IAsyncLifetime
{
    private const string Prefix = "ksh";
    private const string Subnet = "10.251.201";
    public static readonly NodeRole[] Roles =
    [
        NodeRole.LoadBalancer, NodeRole.Datastore, NodeRole.Datastore, NodeRole.Datastore,
        NodeRole.ControlPlane, NodeRole.ControlPlane, NodeRole.ControlPlane, NodeRole.Worker, NodeRole.Worker, NodeRole.Worker,
    ];

    public IReadOnlyList<InventoryMachine> Machines { get; private set; } = [];
    public string ArtifactFolder { get; } = Directory.CreateTempSubdirectory("ksctl-artifacts-").FullName;
    public string RepoRoot { get; } = FindRepoRoot();

    public async Task InitializeAsync()
    {
        var (code, stdout, stderr) = Run("bash", TimeSpan.FromMinutes(3), Script, "start", Roles.Length.ToString(), "--prefix", Prefix, "--subnet", Subnet);
        if (code != 0) throw new InvalidOperationException($"ksctl-testmachines.sh start failed ({code}); the HA tests need root, iproute2 and openssh-server: {stderr} {stdout}");
        Machines = JsonSerializer.Deserialize<List<InventoryMachine>>(stdout) ?? throw new InvalidOperationException("no inventory: " + stdout);

        var standins = Path.Combine(RepoRoot, "tests", "tools", "standins");
        var k3s = Directory.CreateDirectory(Path.Combine(ArtifactFolder, "k3s", "v1.33.1+k3s1")).FullName;
        File.Copy(Path.Combine(standins, "k3s"), Path.Combine(k3s, "k3s"), true);
        var kubeadm = Directory.CreateDirectory(Path.Combine(ArtifactFolder, "kubeadm", "v1.33.1")).FullName;
        foreach (var tool in new[] { "kubeadm", "kubelet", "kubectl" }) File.Copy(Path.Combine(standins, tool), Path.Combine(kubeadm, tool), true);
        var etcd = Directory.CreateDirectory(Path.Combine(ArtifactFolder, "etcd", "v3.5.21")).FullName;
        File.Copy("/usr/bin/etcd", Path.Combine(etcd, "etcd"), true);
        File.Copy("/usr/bin/etcdctl", Path.Combine(etcd, "etcdctl"), true);

        // What an Ubuntu machine has and these namespaces lack: systemd (a shim), a containerd package, and kernel
        // tools that would act on the host's kernel (recorders).
        var systemctl = await File.ReadAllBytesAsync(Path.Combine(standins, "systemctl"));
        var containerd = await File.ReadAllBytesAsync(Path.Combine(standins, "containerd"));
        var nodeTool = await File.ReadAllBytesAsync(Path.Combine(standins, "node-tool"));
        var containerdUnit = "[Unit]\nDescription=containerd stand-in\n\n[Service]\nExecStart=/usr/local/bin/containerd\n"u8.ToArray();
        var factory = new SshRemoteShellFactory(new RemoteShellOptions { ConnectDeadline = TimeSpan.FromSeconds(30) });
        var executable = (UnixFileMode)0b111_101_101;
        await Parallel.ForEachAsync(Machines, async (m, ct) =>
        {
            await using var shell = await factory.ConnectAsync(Remote(m), ct);
            await shell.UploadAsync(systemctl, "/usr/local/bin/systemctl", executable, ct);
            await shell.UploadAsync(containerd, "/usr/local/bin/containerd", executable, ct);
            foreach (var tool in new[] { "swapoff", "modprobe", "sysctl" }) await shell.UploadAsync(nodeTool, $"/usr/local/bin/{tool}", executable, ct);
            await shell.UploadAsync(containerdUnit, "/etc/systemd/system/containerd.service", (UnixFileMode)0b110_100_100, ct);
        });
    }

    public RemoteMachine Remote(InventoryMachine m) => new()
    {
        Name = m.Name, Address = m.Address, Port = m.Port, User = m.User, PrivateKeyPath = m.KeyPath, HostKeyFingerprint = m.HostKey,
    };

    /// <summary>The BareMetal inventory: machine i plays <see cref="Roles"/>[i].</summary>
    public IReadOnlyList<MachineSpec> Inventory(bool pinHostKeys = true) =>
        Machines.Select((m, i) => new MachineSpec
        {
            Address = m.Address, Port = m.Port, User = m.User, KeyPath = m.KeyPath,
            HostKey = pinHostKeys ? m.HostKey : null, Role = Roles[i],
        }).ToArray();

    public async Task<string> RunOnAsync(int machine, string script)
    {
        var factory = new SshRemoteShellFactory(new RemoteShellOptions { ConnectDeadline = TimeSpan.FromSeconds(20) });
        await using var shell = await factory.ConnectAsync(Remote(Machines[machine]));
        var result = await shell.RunAsync(new RemoteScript("test:probe", script));
        return result.StandardOutput;
    }

    public void StopMachine(int index) => Harness("stop-machine", Machines[index].Index.ToString());
    public void StartMachine(int index) => Harness("start-machine", Machines[index].Index.ToString());

    public Task DisposeAsync()
    {
        if (Environment.GetEnvironmentVariable("KSCTL_TESTMACHINES_KEEP") != "1")
            Run("bash", TimeSpan.FromMinutes(1), Script, "stop", "--prefix", Prefix, "--subnet", Subnet);
        try { Directory.Delete(ArtifactFolder, true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    private string Script => Path.Combine(RepoRoot, "tests", "machines", "ksctl-testmachines.sh");

    private void Harness(params string[] args)
    {
        var (code, stdout, stderr) = Run("bash", TimeSpan.FromMinutes(1), [Script, .. args, "--prefix", Prefix, "--subnet", Subnet]);
        if (code != 0) throw new InvalidOperationException($"ksctl-testmachines.sh {string.Join(' ', args)} failed ({code}): {stderr} {stdout}");
    }

    internal static (int ExitCode, string Stdout, string Stderr) Run(string file, TimeSpan timeout, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
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

[CollectionDefinition(Name)]
public sealed class HaMachinesCollection : ICollectionFixture<HaMachinesFixture>
{
    public const string Name = "HA machines";
}
