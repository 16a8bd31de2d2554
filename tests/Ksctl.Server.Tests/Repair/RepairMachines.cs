using System.Text;
using Ksctl.Civo.Tests;
using Ksctl.Core.Remote;
using Ksctl.TestSupport;

namespace Ksctl.Server.Tests.Repair;

/// <summary>
/// Real SSH machines (network + mount namespaces, prefix ksr, 10.251.208.0/24, moved by KSCTL_TEST_SLOT) that play the
/// Civo emulator's instances for the repair test, wired as tests/Ksctl.Civo.Tests/CivoMachinesFixture wires its own
/// (its prefix and subnet are that project's: two projects must never share machines): an instance boots on a free
/// machine with the instance's script (its sshd then presents only the host key Ksctl injected), eth1 holds the private
/// address and the firewall's inbound rules are enforced; an instance deleted (by Ksctl or behind its back) resets its machine.
/// </summary>
public sealed class RepairMachines : IAsyncDisposable
{
    private static readonly string Prefix = TestMachineHarness.ScopedPrefix("ksr");
    private static readonly string Subnet = TestMachineHarness.ScopedSubnet("10.251.208");
    private readonly SemaphoreSlim _gate = new(1, 1);

    private RepairMachines(TestMachinePool pool) => Pool = pool;

    public TestMachinePool Pool { get; }
    public string ArtifactFolder { get; } = TestMachineHarness.MakeArtifactFolder();

    public static RepairMachines Start(int count)
    {
        var machines = TestMachineHarness.Start(Prefix, Subnet, count);
        return new RepairMachines(new TestMachinePool(Prefix, Subnet, machines));
    }

    public void Attach(CivoEmulator civo)
    {
        civo.BootMachine = async (instance, ct) =>
        {
            InventoryMachine machine;
            // Boots and resets one at a time: a reset machine is free before it is clean (see CivoMachinesFixture's gate).
            await _gate.WaitAsync(ct);
            try
            {
                machine = await Task.Run(() =>
                {
                    var booted = Pool.Boot(instance.Id, instance.Script, privateCidr: instance.AllocatedPrivateCidr);
                    Pool.Firewall(instance.Id, CivoFirewallTranslation.Inbound(civo.RulesOf(instance.FirewallId)));
                    return booted;
                }, ct);
            }
            finally { _gate.Release(); }
            await TestMachineHarness.ProvisionStandInsAsync([machine]);
            await PrepareSshServiceAsync(machine, ct);
            return (machine.Address, machine.PrivateAddress);
        };
        civo.RulesChanged = firewall =>
        {
            foreach (var instance in civo.Instances.Where(i => i.FirewallId == firewall.Id && Pool.Booted.ContainsKey(i.Id)))
                Pool.Firewall(instance.Id, CivoFirewallTranslation.Inbound(civo.RulesOf(firewall.Id)));
        };
        civo.ReleaseMachine = async instance =>
        {
            await _gate.WaitAsync();
            try { await Task.Run(() => Pool.Release(instance.Id)); }
            finally { _gate.Release(); }
        };
    }

    /// <summary>An ssh.service the systemctl stand-in can restart for Ksctl's host-key rotation (as CivoMachinesFixture.PrepareSshServiceAsync).</summary>
    private static async Task PrepareSshServiceAsync(InventoryMachine machine, CancellationToken ct)
    {
        var dir = Path.Combine(Environment.GetEnvironmentVariable("KSCTL_TESTMACHINES_STATE") ?? "/tmp/ksctl-testmachines", Prefix, $"m{machine.Index}");
        var reload = $"""
            #!/bin/sh
            set -eu
            install -m 0600 /etc/ssh/ssh_host_ecdsa_key '{dir}/ssh_host_adopted_key'
            kill -HUP "$(cat '{dir}/sshd.pid')"

            """;
        var unit = "[Unit]\nDescription=OpenSSH server stand-in\n\n[Service]\nExecStart=/usr/local/bin/ksctl-sshd-reload\n";
        var factory = new SshRemoteShellFactory(new RemoteShellOptions { ConnectDeadline = TimeSpan.FromSeconds(30) });
        await using var shell = await factory.ConnectAsync(machine.ToRemote(), ct);
        await shell.RunAsync(new RemoteScript("test:private-etc-ssh", "mountpoint -q /etc/ssh || mount -t tmpfs -o mode=0755 tmpfs /etc/ssh\n"), ct);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(reload), "/usr/local/bin/ksctl-sshd-reload", (UnixFileMode)0b111_101_101, ct);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(unit), "/etc/systemd/system/ssh.service", (UnixFileMode)0b110_100_100, ct);
    }

    public ValueTask DisposeAsync()
    {
        try { Parallel.ForEach(Pool.Booted.Keys, vm => Pool.Release(vm)); }
        finally
        {
            TestMachineHarness.Stop(Prefix, Subnet);
            try { Directory.Delete(ArtifactFolder, true); } catch (IOException) { }
        }
        return ValueTask.CompletedTask;
    }
}
