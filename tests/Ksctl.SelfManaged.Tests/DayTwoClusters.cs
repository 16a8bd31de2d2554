using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Remote;
using Ksctl.TestSupport;

namespace Ksctl.SelfManaged.Tests;

/// <summary>
/// Ten real SSH machines (network + mount namespaces) in the HA layout: 1 LB, 3 etcd, 3 control planes, 3 workers,
/// with the stand-ins and an artifact folder of their own (the upgrade tests add releases to it).
/// </summary>
public sealed class DayTwoMachineSet(string prefix, string subnet)
{
    public static readonly NodeRole[] Roles =
    [
        NodeRole.LoadBalancer, NodeRole.Datastore, NodeRole.Datastore, NodeRole.Datastore,
        NodeRole.ControlPlane, NodeRole.ControlPlane, NodeRole.ControlPlane, NodeRole.Worker, NodeRole.Worker, NodeRole.Worker,
    ];

    public IReadOnlyList<InventoryMachine> Machines { get; private set; } = [];
    public string ArtifactFolder { get; } = TestMachineHarness.MakeArtifactFolder();
    private readonly string _prefix = TestMachineHarness.ScopedPrefix(prefix);
    private readonly string _subnet = TestMachineHarness.ScopedSubnet(subnet);

    public async Task StartAsync()
    {
        Machines = TestMachineHarness.Start(_prefix, _subnet, Roles.Length);
        await TestMachineHarness.ProvisionStandInsAsync(Machines);
    }

    /// <summary>Every machine as new (its private directories, daemons and stand-ins): after a test left a cluster that cannot be deleted.</summary>
    public async Task ResetAsync()
    {
        Machines = Machines.Select(m => System.Text.Json.JsonSerializer.Deserialize<InventoryMachine>(
            TestMachineHarness.Require(_prefix, _subnet, "reset", m.Index.ToString()))!).ToList();
        await TestMachineHarness.ProvisionStandInsAsync(Machines);
    }

    /// <summary>The BareMetal inventory: machine i plays <see cref="Roles"/>[i].</summary>
    public IReadOnlyList<MachineSpec> Inventory() =>
        Machines.Select((m, i) => new MachineSpec
        {
            Address = m.Address, Port = m.Port, User = m.User, KeyPath = m.KeyPath, HostKey = m.HostKey, Role = Roles[i],
        }).ToArray();

    public async Task<string> RunOnAsync(int machine, string script)
    {
        var factory = new SshRemoteShellFactory(new RemoteShellOptions { ConnectDeadline = TimeSpan.FromSeconds(20) });
        await using var shell = await factory.ConnectAsync(Machines[machine].ToRemote());
        var result = await shell.RunAsync(new RemoteScript("test:probe", script));
        return result.StandardOutput;
    }

    public void StopMachine(int index) => TestMachineHarness.Require(_prefix, _subnet, "stop-machine", Machines[index].Index.ToString());
    public void StartMachine(int index) => TestMachineHarness.Require(_prefix, _subnet, "start-machine", Machines[index].Index.ToString());

    public void Stop()
    {
        TestMachineHarness.Stop(_prefix, _subnet);
        try { Directory.Delete(ArtifactFolder, true); } catch (IOException) { }
    }
}

/// <summary>
/// The clusters the day-2 tests share: creating an HA cluster is most of each test's time, and backup, restore,
/// certificate renewal and health leave the cluster as they found it (Running and healthy), so one K3s cluster and one
/// Kubeadm cluster serve them all, each on its own ten machines so that both live at once and the order the tests
/// run in does not matter. The upgrade tests ask for a cluster still at <see cref="FromVersion"/> (they are the only
/// ones that change it). A test that does not report <see cref="Done"/> leaves its cluster marked broken: the next
/// test gets a new one (deleted, or its machines reset when even the deletion fails).
/// </summary>
public sealed class DayTwoClusters : IAsyncLifetime
{
    public const string FromVersion = "1.33.1";
    public const string K3sName = "day2-k3s", KubeadmName = "day2-kubeadm";
    /// <summary>K3s: three workers (the upgrade's batches); Kubeadm: two (health stops the second one's machine).</summary>
    public static int Workers(DistributionKind distribution) => distribution == DistributionKind.K3s ? 3 : 2;

    public string Home { get; } = Directory.CreateTempSubdirectory("ksctl-day2-").FullName;
    public DayTwoMachineSet K3s { get; } = new("ksy", "10.251.209");
    public DayTwoMachineSet Kubeadm { get; } = new("ksz", "10.251.210");
    private static readonly OperationOptions Options = new() { ConnectDeadline = TimeSpan.FromSeconds(20) };
    private readonly Dictionary<DistributionKind, Shared> _clusters = [];
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>How many clusters the fixture created (each test run reports it: the point of sharing).</summary>
    public int Created { get; private set; }

    private sealed class Shared
    {
        public required ClusterId Id { get; init; }
        public bool AtFromVersion { get; set; } = true;
        public bool Broken { get; set; }
    }

    public async Task InitializeAsync()
    {
        // One after the other: the harness's bridge and iptables changes are host-wide, and a parallel start was seen to
        // lose a freshly added bridge under heavy load.
        await K3s.StartAsync();
        await Kubeadm.StartAsync();
    }

    public DayTwoMachineSet Machines(DistributionKind distribution) => distribution == DistributionKind.K3s ? K3s : Kubeadm;

    public ClusterManager Manager(IProgress<KsctlEvent>? events = null) => new(KsctlSettings.Load(Home), events);

    /// <summary>
    /// The shared Running cluster of <paramref name="distribution"/>, created when there is none (or the last user broke
    /// it); with <paramref name="atFromVersion"/> one that still runs <see cref="FromVersion"/>.
    /// </summary>
    public async Task<ClusterState> AcquireAsync(DistributionKind distribution, bool atFromVersion = false)
    {
        await _gate.WaitAsync();
        try
        {
            using var manager = Manager();
            if (_clusters.TryGetValue(distribution, out var shared) && (shared.Broken || (atFromVersion && !shared.AtFromVersion)))
            {
                await DiscardAsync(manager, distribution, shared.Id);
                _clusters.Remove(distribution);
            }
            if (!_clusters.TryGetValue(distribution, out shared))
            {
                var name = distribution == DistributionKind.K3s ? K3sName : KubeadmName;
                var spec = new ClusterSpec
                {
                    Id = new ClusterId(CloudProvider.BareMetal, ClusterType.SelfManaged, name, "lab"),
                    Distribution = distribution,
                    KubernetesVersion = FromVersion,
                    Machines = Machines(distribution).Inventory(),
                    WorkerCount = Workers(distribution),
                    ArtifactSource = Machines(distribution).ArtifactFolder,
                };
                var created = await manager.CreateAsync(spec, Options, CancellationToken.None);
                Assert.Equal(ClusterStatus.Running, created.Status);
                Created++;
                shared = new Shared { Id = spec.Id };
                _clusters[distribution] = shared;
            }
            // Broken until the test says otherwise: a failed assertion leaves a cluster nobody should trust.
            shared.Broken = true;
            return await manager.GetAsync(shared.Id, CancellationToken.None);
        }
        finally { _gate.Release(); }
    }

    /// <summary>The test is over and left the cluster Running and healthy (<paramref name="upgraded"/>: at another version now).</summary>
    public void Done(DistributionKind distribution, bool upgraded = false)
    {
        var shared = _clusters[distribution];
        shared.Broken = false;
        if (upgraded) shared.AtFromVersion = false;
    }

    private async Task DiscardAsync(ClusterManager manager, DistributionKind distribution, ClusterId id)
    {
        try
        {
            await manager.DeleteAsync(id, Options with { BreakStaleLock = true }, CancellationToken.None);
        }
        catch (Exception ex) when (ex is KsctlException or InvalidOperationException)
        {
            // What a failed test left cannot even be deleted: new machines, and the state forgotten.
            await Machines(distribution).ResetAsync();
            await manager.Store.DeleteAsync(id, CancellationToken.None);
        }
    }

    public async Task DisposeAsync()
    {
        using (var manager = Manager())
        {
            foreach (var (distribution, shared) in _clusters)
            {
                try { await manager.DeleteAsync(shared.Id, Options with { BreakStaleLock = true }, CancellationToken.None); }
                catch (KsctlException) { /* the machines go next anyway */ }
            }
        }
        K3s.Stop();
        Kubeadm.Stop();
        try { Directory.Delete(Home, true); } catch (IOException) { }
    }
}

[CollectionDefinition(Name)]
public sealed class DayTwoCollection : ICollectionFixture<DayTwoClusters>
{
    public const string Name = "Day-2 clusters";
}
