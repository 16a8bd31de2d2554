using Ksctl.Core.Model;
using Ksctl.Core.Remote;
using Ksctl.TestSupport;

namespace Ksctl.SelfManaged.Tests;

/// <summary>
/// Ten real SSH machines (network + mount namespaces) for the HA tests: 1 LB, 3 etcd, 3 control planes, 3 workers.
/// Each gets the stand-ins for what these namespaces lack (systemd, containerd); the artifact folder holds Debian's
/// etcd and the k3s/kubeadm stand-ins, laid out as -ArtifactSource expects.
/// </summary>
public sealed class HaMachinesFixture : IAsyncLifetime
{
    private static readonly string Prefix = TestMachineHarness.ScopedPrefix("ksh");
    private static readonly string Subnet = TestMachineHarness.ScopedSubnet("10.251.201");
    public static readonly NodeRole[] Roles =
    [
        NodeRole.LoadBalancer, NodeRole.Datastore, NodeRole.Datastore, NodeRole.Datastore,
        NodeRole.ControlPlane, NodeRole.ControlPlane, NodeRole.ControlPlane, NodeRole.Worker, NodeRole.Worker, NodeRole.Worker,
    ];

    public IReadOnlyList<InventoryMachine> Machines { get; private set; } = [];
    public string ArtifactFolder { get; } = TestMachineHarness.MakeArtifactFolder();

    public async Task InitializeAsync()
    {
        Machines = TestMachineHarness.Start(Prefix, Subnet, Roles.Length);
        await TestMachineHarness.ProvisionStandInsAsync(Machines);
    }

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
        await using var shell = await factory.ConnectAsync(Machines[machine].ToRemote());
        var result = await shell.RunAsync(new RemoteScript("test:probe", script));
        return result.StandardOutput;
    }

    public void StopMachine(int index) => TestMachineHarness.Require(Prefix, Subnet, "stop-machine", Machines[index].Index.ToString());
    public void StartMachine(int index) => TestMachineHarness.Require(Prefix, Subnet, "start-machine", Machines[index].Index.ToString());

    public Task DisposeAsync()
    {
        TestMachineHarness.Stop(Prefix, Subnet);
        try { Directory.Delete(ArtifactFolder, true); } catch (IOException) { }
        return Task.CompletedTask;
    }
}

[CollectionDefinition(Name)]
public sealed class HaMachinesCollection : ICollectionFixture<HaMachinesFixture>
{
    public const string Name = "HA machines";
}
