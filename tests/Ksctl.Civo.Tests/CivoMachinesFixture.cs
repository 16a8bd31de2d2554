using Ksctl.TestSupport;
using Xunit;

namespace Ksctl.Civo.Tests;

/// <summary>
/// Nine real SSH machines (network + mount namespaces, prefix ksc, 10.251.203.0/24) that play Civo instances: the
/// emulator boots an instance on a free one with the instance's script (its sshd then presents only the host key
/// Ksctl generated) and resets it when the instance is deleted. Each booted machine gets the stand-ins for what the
/// namespaces lack (systemd, containerd), like an Ubuntu image has them.
/// </summary>
public sealed class CivoMachinesFixture : IAsyncLifetime
{
    private const string Prefix = "ksc";
    private const string Subnet = "10.251.203";
    private const int Count = 9;
    // pool.Release resets a machine; a Boot running at the same time could pick it mid-reset: one at a time.
    private readonly SemaphoreSlim _gate = new(1, 1);

    public IReadOnlyList<InventoryMachine> Machines { get; private set; } = [];
    public TestMachinePool Pool { get; private set; } = null!;
    public string ArtifactFolder { get; } = TestMachineHarness.MakeArtifactFolder();

    public Task InitializeAsync()
    {
        Machines = TestMachineHarness.Start(Prefix, Subnet, Count);
        Pool = new TestMachinePool(Prefix, Subnet, Machines);
        return Task.CompletedTask;
    }

    /// <summary>Wires an emulator's instance boot and deletion to this pool.</summary>
    public void Attach(CivoEmulator civo)
    {
        civo.BootMachine = async (instance, ct) =>
        {
            InventoryMachine machine;
            await _gate.WaitAsync(ct);
            try { machine = await Task.Run(() => Pool.Boot(instance.Id, instance.Script), ct); }
            finally { _gate.Release(); }
            await TestMachineHarness.ProvisionStandInsAsync([machine]);
            return (machine.Address, machine.Address);
        };
        civo.ReleaseMachine = async instance =>
        {
            await _gate.WaitAsync();
            try { await Task.Run(() => Pool.Release(instance.Id)); }
            finally { _gate.Release(); }
        };
    }

    /// <summary>After a test: every machine a failed test left booted becomes a fresh one.</summary>
    public void ReleaseAll()
    {
        foreach (var vm in Pool.Booted.Keys) Pool.Release(vm);
    }

    public Task DisposeAsync()
    {
        TestMachineHarness.Stop(Prefix, Subnet);
        try { Directory.Delete(ArtifactFolder, true); } catch (IOException) { }
        return Task.CompletedTask;
    }
}

/// <summary>Not parallel with the managed tests: CIVO_API_URL, CIVO_TOKEN and KSCTL_HOME are process-wide.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CivoMachinesCollection : ICollectionFixture<CivoMachinesFixture>
{
    public const string Name = "Civo HA machines";
}
