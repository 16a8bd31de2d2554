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

    /// <summary>
    /// Runs <paramref name="script"/> as root on machine <paramref name="machine"/> and returns its standard output; a
    /// non-zero exit throws. One connection per machine serves every probe of the collection (the tests make hundreds,
    /// and a new SSH connection each cost a key exchange and an sshd start-up each time); a dropped one is replaced.
    /// </summary>
    public async Task<string> RunOnAsync(int machine, string script)
    {
        for (var attempt = 1; ; attempt++)
        {
            var connecting = _shells.GetOrAdd(machine, i => ProbeShells.ConnectAsync(Machines[i].ToRemote()));
            IRemoteShell shell;
            try { shell = await connecting; }
            catch
            {
                _shells.TryRemove(new KeyValuePair<int, Task<IRemoteShell>>(machine, connecting));
                throw;
            }
            try
            {
                return (await shell.RunAsync(new RemoteScript("test:probe", script))).StandardOutput;
            }
            catch (Ksctl.Core.Diagnostics.RemoteScriptException ex) when (ex.ExitCode is null && !ex.TimedOut && attempt == 1)
            {
                // The connection was lost (not the script's failure): once more on a new one.
                await ForgetAsync(machine);
            }
        }
    }

    private static readonly SshRemoteShellFactory ProbeShells = new(new RemoteShellOptions { ConnectDeadline = TimeSpan.FromSeconds(20) });
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, Task<IRemoteShell>> _shells = new();

    private async Task ForgetAsync(int machine)
    {
        if (!_shells.TryRemove(machine, out var connecting)) return;
        try { await (await connecting).DisposeAsync(); }
        catch (Exception ex) when (ex is Ksctl.Core.Diagnostics.KsctlException or IOException or ObjectDisposedException) { /* it was already broken */ }
    }

    public void StopMachine(int index)
    {
        ForgetAsync(index).GetAwaiter().GetResult();
        TestMachineHarness.Require(Prefix, Subnet, "stop-machine", Machines[index].Index.ToString());
    }

    public void StartMachine(int index)
    {
        ForgetAsync(index).GetAwaiter().GetResult();
        TestMachineHarness.Require(Prefix, Subnet, "start-machine", Machines[index].Index.ToString());
    }

    public async Task DisposeAsync()
    {
        foreach (var machine in _shells.Keys.ToList()) await ForgetAsync(machine);
        TestMachineHarness.Stop(Prefix, Subnet);
        try { Directory.Delete(ArtifactFolder, true); } catch (IOException) { }
    }
}

[CollectionDefinition(Name)]
public sealed class HaMachinesCollection : ICollectionFixture<HaMachinesFixture>
{
    public const string Name = "HA machines";
}
