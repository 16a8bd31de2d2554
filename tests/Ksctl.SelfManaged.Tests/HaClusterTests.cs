using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;

namespace Ksctl.SelfManaged.Tests;

/// <summary>
/// The self-managed path's failures on real SSH machines: BareMetal + K3s HA (1 LB, 3 etcd, 3 CP, workers) with
/// Debian's etcd over TLS from our certificates, real HAProxy, and the k3s stand-in that checks tokens and datastore
/// access: a cancelled create resumes, a machine that is down and a wrong host key fail naming the machine. The happy
/// K3s and Kubeadm paths (create, resize, remove) are SharedClusters/K3sSharedClusterTests and KubeadmSharedClusterTests.
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
}
