using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;

namespace Ksctl.SelfManaged.Tests;

/// <summary>
/// The self-managed path end to end on real SSH machines: BareMetal + K3s HA (1 LB, 3 etcd, 3 CP, workers) with
/// Debian's etcd over TLS from our certificates, real HAProxy, and the k3s stand-in that checks tokens and datastore access.
/// </summary>
[Collection(HaMachinesCollection.Name)]
public sealed class HaClusterTests(HaMachinesFixture machines) : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("ksctl-ha-home-").FullName;

    /// <summary>A failed test must not leave its cluster on the shared machines: remove whatever is still in its store.</summary>
    public void Dispose()
    {
        using (var manager = new ClusterManager(KsctlSettings.Load(_home)))
        {
            var left = manager.ListAsync(Ksctl.Core.Storage.ClusterQuery.All, CancellationToken.None).ToBlockingEnumerable().ToList();
            foreach (var cluster in left)
            {
                try { manager.DeleteAsync(cluster.Id, Options with { BreakStaleLock = true }, CancellationToken.None).GetAwaiter().GetResult(); }
                catch (KsctlException) { /* the test already failed; the next fixture start resets the machines */ }
            }
        }
        try { Directory.Delete(_home, true); } catch (IOException) { }
    }

    private ClusterSpec Spec(string name, int workers = 2, DistributionKind distribution = DistributionKind.K3s) => new()
    {
        Id = new ClusterId(CloudProvider.BareMetal, ClusterType.SelfManaged, name, "lab"),
        Distribution = distribution,
        Machines = machines.Inventory(),
        WorkerCount = workers,
        ArtifactSource = machines.ArtifactFolder,
    };

    private static readonly OperationOptions Options = new() { ConnectDeadline = TimeSpan.FromSeconds(20) };

    [Fact]
    public async Task Create_resize_and_remove_a_K3s_HA_cluster()
    {
        using var manager = new ClusterManager(KsctlSettings.Load(_home));
        var state = await manager.CreateAsync(Spec("ha"), Options, CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Equal(1 + 3 + 3 + 2, state.Nodes.Count);
        var lb = machines.Machines[0].Address;
        Assert.Equal($"https://{lb}:6443", state.Endpoint);
        Assert.Equal("ha-lab-selfmanaged-baremetal-ksctl", state.ContextName);
        Assert.Contains($"server: https://{lb}:6443", state.Secrets[ClusterState.KubeconfigSecret]);
        Assert.StartsWith("K10", state.Secrets["k3s:token"]);
        Assert.All(state.Nodes, n => Assert.StartsWith("SHA256:", n.HostKey));

        AssertEtcdHealthy(state);
        Assert.Contains(await PeerCommonNameAsync(lb, 6443), ControlPlaneAddresses.Select(a => $"k3s-standin-{a}"));

        // Every joiner went through the LB's private address with the token CP0 made.
        foreach (var i in new[] { 5, 6 })
            Assert.Contains($"--server=https://{lb}:6443", await machines.RunOnAsync(i, "cat /var/lib/rancher/k3s/server/standin-args"));
        foreach (var i in new[] { 7, 8 })
            Assert.Contains($"--server=https://{lb}:6443", await machines.RunOnAsync(i, "cat /var/lib/rancher/k3s/agent/standin-args"));
        Assert.Contains("--datastore-endpoint=https://", await machines.RunOnAsync(4, "cat /var/lib/rancher/k3s/server/standin-args"));

        // Resize 2 → 3 → 1 workers.
        state = await manager.ResizeAsync(state.Id, 3, Options, CancellationToken.None);
        Assert.Equal(3, state.Nodes.Count(n => n.Role == NodeRole.Worker));
        Assert.Contains("client-kubelet.crt", await machines.RunOnAsync(9, "ls /var/lib/rancher/k3s/agent"));
        state = await manager.ResizeAsync(state.Id, 1, Options, CancellationToken.None);
        Assert.Equal([0], state.Nodes.Where(n => n.Role == NodeRole.Worker).Select(n => n.Index));
        var kubectl = await machines.RunOnAsync(4, "cat /var/lib/rancher/k3s/server/kubectl.log");
        Assert.Equal(2, kubectl.Split('\n').Count(l => l.StartsWith("drain ")));
        Assert.Equal("", (await machines.RunOnAsync(8, "find /var/lib/rancher /etc/systemd/system -mindepth 1 ! -name containerd.service 2>/dev/null; true")).Trim());

        // Remove: nothing of ours is left on any machine, and no unit of ours still runs.
        await manager.DeleteAsync(state.Id, Options, CancellationToken.None);
        Assert.Null(await manager.Store.ReadAsync(state.Id, CancellationToken.None));
        await AssertMachinesCleanAsync();
    }

    [Fact]
    public async Task Create_and_remove_a_Kubeadm_HA_cluster()
    {
        using var manager = new ClusterManager(KsctlSettings.Load(_home));
        var state = await manager.CreateAsync(Spec("kha", distribution: DistributionKind.Kubeadm), Options, CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Equal("Kubeadm", state.Distribution);
        var lb = machines.Machines[0].Address;
        Assert.Contains($"server: https://{lb}:6443", state.Secrets[ClusterState.KubeconfigSecret]);
        Assert.Matches("^[a-z0-9]{6}\\.[a-z0-9]{16}$", state.Secrets["kubeadm:token"]);
        Assert.Matches("^[0-9a-f]{64}$", state.Secrets["kubeadm:ca-hash"]);
        Assert.True(DateTimeOffset.Parse(state.Resources["kubeadm:token-expiry"]) > DateTimeOffset.UtcNow.AddMinutes(100));
        AssertEtcdHealthy(state);
        Assert.Contains(await PeerCommonNameAsync(lb, 6443), ControlPlaneAddresses.Select(a => $"kube-apiserver-{a}"));

        // CP0 was initialised with the external etcd and the LB as control plane endpoint; the others joined through it.
        var init = await machines.RunOnAsync(4, "cat /var/lib/kubeadm-standin/init-config.yaml");
        Assert.Contains($"controlPlaneEndpoint: \"{lb}:6443\"", init);
        Assert.Contains("podSubnet: 10.244.0.0/16", init);
        foreach (var i in new[] { 5, 6 })
            Assert.Equal($"join {lb}:6443 control-plane=true", (await machines.RunOnAsync(i, "cat /var/lib/kubeadm-standin/joined")).Trim());
        foreach (var i in new[] { 7, 8 })
            Assert.Equal($"join {lb}:6443 control-plane=false", (await machines.RunOnAsync(i, "cat /var/lib/kubeadm-standin/joined")).Trim());
        Assert.Contains("SystemdCgroup = true", await machines.RunOnAsync(7, "cat /etc/containerd/config.toml"));
        var tools = await machines.RunOnAsync(7, "cat /var/log/ksctl/node-tools.log");
        Assert.Contains("swapoff -a", tools);
        Assert.Contains("modprobe br_netfilter", tools);

        // Resize 2 → 3 → 1: the new worker joins through the LB; the removed ones are drained and deleted as Nodes first.
        state = await manager.ResizeAsync(state.Id, 3, Options, CancellationToken.None);
        Assert.Equal($"join {lb}:6443 control-plane=false", (await machines.RunOnAsync(9, "cat /var/lib/kubeadm-standin/joined")).Trim());
        state = await manager.ResizeAsync(state.Id, 1, Options, CancellationToken.None);
        Assert.Equal([0], state.Nodes.Where(n => n.Role == NodeRole.Worker).Select(n => n.Index));
        var kubectl = await machines.RunOnAsync(4, "cat /var/log/ksctl/kubectl.log");
        Assert.Contains($"drain {machines.Machines[8].Name} ", kubectl);
        Assert.Contains($"drain {machines.Machines[9].Name} ", kubectl);
        Assert.Equal("", (await machines.RunOnAsync(9, "find /etc/kubernetes /var/lib/kubelet -mindepth 1 2>/dev/null; true")).Trim());

        await manager.DeleteAsync(state.Id, Options, CancellationToken.None);
        await AssertMachinesCleanAsync();
    }

    private IEnumerable<string> ControlPlaneAddresses => machines.Machines.Skip(4).Take(3).Select(m => m.Address);

    /// <summary>The etcd cluster is healthy over TLS with the certificates ksctl generated.</summary>
    private void AssertEtcdHealthy(ClusterState state)
    {
        var pki = Directory.CreateTempSubdirectory("ksctl-etcd-client-").FullName;
        File.WriteAllText(Path.Combine(pki, "ca.crt"), state.Secrets["etcd:ca.crt"]);
        File.WriteAllText(Path.Combine(pki, "client.crt"), state.Secrets["etcd:client.crt"]);
        File.WriteAllText(Path.Combine(pki, "client.key"), state.Secrets["etcd:client.key"]);
        var endpoints = string.Join(',', machines.Machines.Skip(1).Take(3).Select(m => $"https://{m.Address}:2379"));
        var (code, stdout, stderr) = Ksctl.TestSupport.TestMachineHarness.Run("etcdctl", TimeSpan.FromSeconds(30),
            $"--endpoints={endpoints}", $"--cacert={pki}/ca.crt", $"--cert={pki}/client.crt", $"--key={pki}/client.key", "endpoint", "health");
        Directory.Delete(pki, true);
        Assert.True(code == 0, $"etcdctl endpoint health failed: {stdout} {stderr}");
        Assert.Equal(3, (stdout + stderr).Split('\n').Count(l => l.Contains("is healthy")));
    }

    /// <summary>Nothing ksctl installed is left on any machine, and no unit of ours still runs.</summary>
    private async Task AssertMachinesCleanAsync()
    {
        for (var i = 0; i < machines.Machines.Count; i++)
        {
            var left = await machines.RunOnAsync(i,
                "find /etc/systemd/system /var/lib/rancher /etc/rancher /etc/etcd /var/lib/etcd /etc/ksctl /etc/kubernetes /var/lib/kubelet -mindepth 1 ! -name containerd.service 2>/dev/null; " +
                "ls /usr/local/bin/k3s /usr/local/bin/etcd /usr/local/bin/etcdctl /usr/local/bin/kubeadm /usr/local/bin/kubelet /etc/haproxy/ksctl-haproxy.cfg 2>/dev/null; " +
                "for f in /run/ksctl/units/*.pid; do case $f in *containerd*) continue ;; esac; if [ -f \"$f\" ] && kill -0 \"$(cat \"$f\")\" 2>/dev/null; then echo \"running $f\"; fi; done; true");
            Assert.True(left.Trim().Length == 0, $"machine {i} still has: {left}");
        }
    }

    [Fact]
    public async Task Cancelled_create_resumes_without_rerunning_finished_steps()
    {
        var cts = new CancellationTokenSource();
        var firstRun = new EventLog(e => { if (e is { Kind: KsctlEventKind.StepStarted, Step: "k3s:cp-0" }) cts.Cancel(); });
        var spec = Spec("resume", workers: 1);
        using (var manager = new ClusterManager(KsctlSettings.Load(_home), firstRun))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => manager.CreateAsync(spec, Options, cts.Token));
            var stopped = await manager.Store.ReadAsync(spec.Id, CancellationToken.None);
            Assert.Equal(ClusterStatus.CreationFailed, stopped!.Status);
            Assert.Contains(stopped.LastErrors, e => e.Contains("cancelled"));
        }
        var finished = firstRun.Completed();
        Assert.Contains("etcd:health", finished);
        Assert.Contains("lb:haproxy", finished);
        Assert.DoesNotContain("kubeconfig", finished);

        var secondRun = new EventLog(_ => { });
        using (var manager = new ClusterManager(KsctlSettings.Load(_home), secondRun))
        {
            var state = await manager.CreateAsync(spec, Options, CancellationToken.None);
            Assert.Equal(ClusterStatus.Running, state.Status);
            Assert.Empty(secondRun.Started().Intersect(finished));
            Assert.Contains("k3s:cp-0", secondRun.Started());
            await manager.DeleteAsync(spec.Id, Options, CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_machine_whose_sshd_is_down_fails_the_create_naming_it_and_a_rerun_completes()
    {
        var spec = Spec("sshdown", workers: 1);
        var worker = machines.Machines[7];
        machines.StopMachine(7);
        using var manager = new ClusterManager(KsctlSettings.Load(_home));
        try
        {
            var fast = Options with { ConnectDeadline = TimeSpan.FromSeconds(3) };
            var error = await Assert.ThrowsAsync<PlanFailedException>(() => manager.CreateAsync(spec, fast, CancellationToken.None));
            Assert.Equal("KsctlCreationFailed", error.ErrorId);
            Assert.Contains(worker.Address, error.Message);
            Assert.Equal(ClusterStatus.CreationFailed, (await manager.Store.ReadAsync(spec.Id, CancellationToken.None))!.Status);
        }
        finally
        {
            machines.StartMachine(7);
        }
        var state = await manager.CreateAsync(spec, Options, CancellationToken.None);
        Assert.Equal(ClusterStatus.Running, state.Status);
        await manager.DeleteAsync(spec.Id, Options, CancellationToken.None);
    }

    [Fact]
    public async Task A_wrong_host_key_is_refused_and_nothing_runs_on_that_machine()
    {
        var inventory = machines.Inventory().ToArray();
        inventory[2] = inventory[2] with { HostKey = inventory[3].HostKey };
        var spec = Spec("hostkey", workers: 1) with { Machines = inventory };
        using var manager = new ClusterManager(KsctlSettings.Load(_home));
        var error = await Assert.ThrowsAsync<HostKeyMismatchException>(() => manager.CreateAsync(spec, Options, CancellationToken.None));
        Assert.Equal("KsctlHostKeyMismatch", error.ErrorId);
        Assert.Contains("hostkey-vm-db-1", error.Message);
        Assert.Contains(inventory[2].HostKey!, error.Message);
        Assert.Contains(machines.Machines[2].HostKey, error.Message);
        Assert.Equal(ClusterStatus.CreationFailed, (await manager.Store.ReadAsync(spec.Id, CancellationToken.None))!.Status);
        Assert.Equal("", (await machines.RunOnAsync(2, "find /var/lib/etcd /etc/etcd /etc/systemd/system -mindepth 1 ! -name containerd.service 2>/dev/null; ls /usr/local/bin/etcd 2>/dev/null; true")).Trim());
        await manager.DeleteAsync(spec.Id, Options, CancellationToken.None);
        Assert.Null(await manager.Store.ReadAsync(spec.Id, CancellationToken.None));
    }

    private sealed class EventLog(Action<KsctlEvent> onEvent) : IProgress<KsctlEvent>
    {
        private readonly List<KsctlEvent> _events = [];

        public void Report(KsctlEvent value)
        {
            lock (_events) _events.Add(value);
            onEvent(value);
        }

        public IReadOnlyList<string> Completed() => Of(KsctlEventKind.StepCompleted);
        public IReadOnlyList<string> Started() => Of(KsctlEventKind.StepStarted);

        private IReadOnlyList<string> Of(KsctlEventKind kind)
        {
            lock (_events) return _events.Where(e => e.Kind == kind).Select(e => e.Step!).ToList();
        }
    }

    private static async Task<string> PeerCommonNameAsync(string host, int port)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(host, port);
        await using var tls = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = host });
        var cert = new X509Certificate2(tls.RemoteCertificate!);
        return cert.GetNameInfo(X509NameType.SimpleName, false);
    }
}
