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
    // pool.Release frees a machine before resetting it, so a Boot at the same time could pick it mid-reset: boots run
    // together and resets run together (each takes seconds), but never a boot during a reset.
    private readonly GroupGate _gate = new();

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
            using (await _gate.EnterAsync("boot"))
                machine = await Task.Run(() => Pool.Boot(instance.Id, instance.Script), ct);
            await TestMachineHarness.ProvisionStandInsAsync([machine]);
            return (machine.Address, machine.Address);
        };
        civo.ReleaseMachine = async instance =>
        {
            using (await _gate.EnterAsync("reset"))
                await Task.Run(() => Pool.Release(instance.Id));
        };
    }

    /// <summary>After a test: every machine a failed test left booted becomes a fresh one.</summary>
    public void ReleaseAll()
    {
        Parallel.ForEach(Pool.Booted.Keys, vm => Pool.Release(vm));
    }

    public Task DisposeAsync()
    {
        TestMachineHarness.Stop(Prefix, Subnet);
        try { Directory.Delete(ArtifactFolder, true); } catch (IOException) { }
        return Task.CompletedTask;
    }
}

/// <summary>Any number of holders of one group at a time; another group waits until the last holder leaves.</summary>
internal sealed class GroupGate
{
    private readonly object _lock = new();
    private string? _group;
    private int _holders;
    private TaskCompletionSource _empty = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task<IDisposable> EnterAsync(string group)
    {
        while (true)
        {
            Task wait;
            lock (_lock)
            {
                if (_group is null || _group == group)
                {
                    _group = group;
                    _holders++;
                    return new Exit(this);
                }
                wait = _empty.Task;
            }
            await wait;
        }
    }

    private void Leave()
    {
        lock (_lock)
        {
            if (--_holders > 0) return;
            _group = null;
            _empty.SetResult();
            _empty = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    private sealed class Exit(GroupGate gate) : IDisposable
    {
        private int _done;
        public void Dispose() { if (Interlocked.Exchange(ref _done, 1) == 0) gate.Leave(); }
    }
}

/// <summary>Not parallel with the managed tests: CIVO_API_URL, CIVO_TOKEN and KSCTL_HOME are process-wide.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CivoMachinesCollection : ICollectionFixture<CivoMachinesFixture>
{
    public const string Name = "Civo HA machines";
}
