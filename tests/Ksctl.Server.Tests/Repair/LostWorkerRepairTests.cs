using Ksctl.Civo.Tests;
using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Health;
using Ksctl.Core.Model;
using Ksctl.Core.Providers.Civo;
using Ksctl.Core.Reconcile;
using Ksctl.Core.Remote;
using Ksctl.Server.Tests.Harness;
using Xunit;

namespace Ksctl.Server.Tests.Repair;

/// <summary>
/// Repair end to end: a self-managed K3s cluster on Civo instances (the Civo emulator, whose instances boot as real SSH
/// machines running Debian's etcd, HAProxy and the k3s stand-in) loses a worker's instance behind Ksctl's back; the
/// reconciler's next round replaces it through the repair plan, and the round after that finds nothing to do.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class LostWorkerRepairTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _home = Directory.CreateTempSubdirectory("ksctl-repair-").FullName;
    private RepairMachines _machines = null!;
    private CivoEmulator _civo = null!;
    private CivoTestEnvironment _env = null!;

    private static readonly ClusterId Id = new(CloudProvider.Civo, ClusterType.SelfManaged, "rep", "LON1");
    private static readonly OperationOptions Options = new() { ConnectDeadline = TimeSpan.FromSeconds(30) };

    public async Task InitializeAsync()
    {
        // 1 load balancer, 3 etcd members, 3 control planes, 1 worker, and one spare for the replacement.
        _machines = await Task.Run(() => RepairMachines.Start(9));
        _civo = await CivoEmulator.StartAsync("good-key");
        _civo.PollsToGone = 1;
        _machines.Attach(_civo);
        _env = new CivoTestEnvironment(_home, _civo.BaseUrl);
        // The create merges the cluster's kubeconfig: into this test's file, never the host's ~/.kube/config.
        _env.Set("KUBECONFIG", Path.Combine(_home, "kube", "config"));
    }

    public async Task DisposeAsync()
    {
        _env.Dispose();
        await _civo.DisposeAsync();
        await _machines.DisposeAsync();
        try { Directory.Delete(_home, recursive: true); } catch (IOException) { }
    }

    /// <summary>Records which operations the reconciler ran, as the server's registry would (then runs them).</summary>
    private sealed class Recorded(ClusterManager manager) : IReconcileOperations
    {
        public List<string> Kinds { get; } = [];

        public Task RunAsync(string kind, ClusterId cluster, Func<ClusterManager, CancellationToken, Task> work, CancellationToken cancellationToken)
        {
            lock (Kinds) Kinds.Add($"{kind} {cluster.Name}");
            return work(manager, cancellationToken);
        }
    }

    private int InstanceCreates() => _civo.Requests.Count(r => r.Method == "POST" && r.Path.Split('?')[0] == "/v2/instances");

    [Fact]
    public async Task A_worker_whose_instance_disappeared_is_replaced_by_the_next_round_and_the_round_after_does_nothing()
    {
        // Civo's polls in milliseconds, not seconds: the emulator's instances are ACTIVE as soon as their machine booted.
        using var fast = CivoTimings.Use(CivoTimings.Default with { FirstPoll = TimeSpan.FromMilliseconds(20), MaxPoll = TimeSpan.FromMilliseconds(200) });
        using var manager = new ClusterManager(KsctlSettings.Load(_home));
        var spec = new ClusterSpec { Id = Id, WorkerCount = 1, ArtifactSource = _machines.ArtifactFolder, Reconcile = true, Repair = true };
        var created = await manager.CreateAsync(spec, Options, CancellationToken.None);
        Assert.Equal(ClusterStatus.Running, created.Status);
        var lostWorker = created.Nodes.Single(n => n.Role == NodeRole.Worker);
        Assert.Equal(8, InstanceCreates());

        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var operations = new Recorded(manager);
        var reconciler = new ClusterReconciler(manager, clock, ReconcilePolicy.Default, operations: operations);

        // Nothing is lost: the round only looks.
        var quiet = Assert.Single(await reconciler.RunRoundAsync(CancellationToken.None));
        Assert.Equal(ReconcileAction.CheckHealth, quiet.Action);
        Assert.Empty(operations.Kinds);

        _civo.DeleteInstanceOutOfBand("rep-vm-wp-0");
        await _civo.SettleAsync();
        clock.Advance(TimeSpan.FromMinutes(1));
        var repair = Assert.Single(await reconciler.RunRoundAsync(CancellationToken.None));
        output.WriteLine($"{repair.Action} {repair.Result}: {repair.Detail}");
        Assert.Equal((ReconcileAction.ReplaceWorkers, "Done"), (repair.Action, repair.Result));
        Assert.Equal(["repair rep"], operations.Kinds);

        var state = (await manager.Store.ReadAsync(Id, CancellationToken.None))!;
        Assert.Equal(ClusterStatus.Running, state.Status);
        var worker = Assert.Single(state.Nodes, n => n.Role == NodeRole.Worker);
        Assert.Equal(("wp-0", "rep-vm-wp-0"), (worker.Key, worker.Name));
        Assert.NotEqual(lostWorker.ResourceId, worker.ResourceId);
        Assert.Equal(worker.ResourceId, Assert.Single(_civo.Instances, i => i.Hostname == "rep-vm-wp-0").Id);
        Assert.Empty(state.Reconcile!.Replacing);
        Assert.Equal(9, InstanceCreates());
        Assert.Contains(state.Reconcile.Log, l => l.Contains("replacing lost worker(s) wp-0", StringComparison.Ordinal));

        // Test-KsctlCluster's inventory check: every recorded machine is in Civo's inventory again, and nothing else.
        var inventory = (await manager.TestAsync(Id, CancellationToken.None)).Where(c => c.Check == HealthChecks.Inventory).ToList();
        Assert.Equal(8, inventory.Count);
        Assert.All(inventory, c => Assert.True(c.Passed, c.Reason));
        // The cluster's API (the stand-in's Nodes in etcd, through k3s kubectl on cp-0): four Nodes again, the worker's
        // registered by the new machine; the old Node was deleted once, and never drained.
        // (Node names are the machines' hostnames.)
        var expected = state.Nodes.Where(n => n.Role is NodeRole.ControlPlane or NodeRole.Worker).Select(n => n.Hostname!).Order(StringComparer.Ordinal).ToList();
        Assert.Contains(worker.Hostname, expected);
        Assert.Equal(expected, (await RunOnAsync(state, "cp-0", "k3s kubectl get nodes --no-headers | awk '{print $1}' | LC_ALL=C sort")).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("--server=https://", await RunOnAsync(state, "wp-0", "cat /var/lib/rancher/k3s/agent/standin-args"));
        var kubectl = await RunOnAsync(state, "cp-0", "cat /var/lib/rancher/k3s/server/kubectl.log");
        Assert.Single(kubectl.Split('\n'), l => l.StartsWith($"delete node {lostWorker.Hostname} ", StringComparison.Ordinal));
        Assert.DoesNotContain("drain", kubectl, StringComparison.Ordinal);

        // The next round finds nothing lost: no second replacement, no new instance.
        clock.Advance(TimeSpan.FromMinutes(1));
        var after = Assert.Single(await reconciler.RunRoundAsync(CancellationToken.None));
        Assert.Equal(ReconcileAction.CheckHealth, after.Action);
        Assert.Equal(["repair rep"], operations.Kinds);
        Assert.Equal(9, InstanceCreates());
        Assert.Equal(8, _civo.Instances.Count);
        Assert.Empty(_civo.BootErrors);
    }

    private static async Task<string> RunOnAsync(ClusterState state, string key, string script)
    {
        var node = state.Nodes.Single(n => n.Key == key);
        var factory = new SshRemoteShellFactory(new RemoteShellOptions { ConnectDeadline = TimeSpan.FromSeconds(20) });
        await using var shell = await factory.ConnectAsync(new RemoteMachine
        {
            Name = node.Name, Address = node.PublicIP!, Port = node.SshPort, User = node.SshUser!,
            PrivateKeyPem = state.Secrets["ssh-login-key"], HostKeyFingerprint = node.HostKey!,
        });
        return (await shell.RunAsync(new RemoteScript("test:probe", script))).StandardOutput;
    }
}
