using System.Text;
using System.Text.RegularExpressions;
using Ksctl.Core.Remote;
using Ksctl.Core.Remote.Keys;
using Ksctl.TestSupport;
using Xunit;

namespace Ksctl.Civo.Tests;

/// <summary>
/// Nine real SSH machines (network + mount namespaces, prefix ksc, 10.251.203.0/24) that play Civo instances: the
/// emulator boots an instance on a free one with the instance's script (its sshd then presents only the host key
/// Ksctl generated) and resets it when the instance is deleted. Each booted machine gets the stand-ins for what the
/// namespaces lack (systemd, containerd), like an Ubuntu image has them. Each booted machine's eth1 holds the private
/// address the emulator allocated from the instance's network, and its Civo firewall's inbound rules are enforced
/// (<see cref="CivoFirewallTranslation"/>).
/// </summary>
public sealed class CivoMachinesFixture : IAsyncLifetime
{
    private static readonly string Prefix = TestMachineHarness.ScopedPrefix("ksc");
    private static readonly string Subnet = TestMachineHarness.ScopedSubnet("10.251.203");
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
            var late = LateFirstBoot.Contains(instance.Hostname);
            // Like Civo: sshd first runs with a key the image made; the instance's script installs Ksctl's key later.
            var firstScript = late ? WithOtherHostKey(instance.Script) : instance.Script;
            // Like Civo: eth1 holds the private address the network gave the instance, and its firewall's inbound rules
            // are enforced before anything (Ksctl's first SSH included) reaches it.
            using (await _gate.EnterAsync("boot"))
                machine = await Task.Run(() =>
                {
                    var booted = Pool.Boot(instance.Id, firstScript, privateCidr: instance.AllocatedPrivateCidr);
                    Pool.Firewall(instance.Id, CivoFirewallTranslation.Inbound(civo.RulesOf(instance.FirewallId)));
                    return booted;
                }, ct);
            await TestMachineHarness.ProvisionStandInsAsync([machine]);
            await PrepareSshServiceAsync(machine, ct);
            if (late) _lateScripts.Add(RunScriptLateAsync(machine, instance.Script, SshdLogLength(machine), ct));
            return (machine.Address, machine.PrivateAddress);
        };
        // A rule added later reaches the machines already using that firewall (Civo applies rule changes live).
        civo.RulesChanged = firewall =>
        {
            foreach (var instance in civo.Instances.Where(i => i.FirewallId == firewall.Id && Pool.Booted.ContainsKey(i.Id)))
                Pool.Firewall(instance.Id, CivoFirewallTranslation.Inbound(civo.RulesOf(firewall.Id)));
        };
        civo.ReleaseMachine = async instance =>
        {
            using (await _gate.EnterAsync("reset"))
                await Task.Run(() => Pool.Release(instance.Id));
        };
    }

    /// <summary>
    /// What an Ubuntu image has and a test machine lacks for a host-key change: a private /etc/ssh (else the machine
    /// would write the host's), and an ssh.service the systemctl stand-in can restart. The machine's sshd reads its
    /// host key from the harness's state folder, so "restarting" it means: copy the key Ksctl installed there and
    /// SIGHUP sshd (which re-executes itself and re-reads its keys, as on Ubuntu).
    /// </summary>
    private static async Task PrepareSshServiceAsync(InventoryMachine machine, CancellationToken ct)
    {
        var dir = MachineDir(machine);
        var reload = $"""
            #!/bin/sh
            # ssh.service stand-in of a Civo test machine (see CivoMachinesFixture).
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

    private static string MachineDir(InventoryMachine machine) =>
        Path.Combine(Environment.GetEnvironmentVariable("KSCTL_TESTMACHINES_STATE") ?? "/tmp/ksctl-testmachines", Prefix, $"m{machine.Index}");

    /// <summary>Instances (by hostname) that are ACTIVE with the image's own host key, their script running a few seconds later.</summary>
    public HashSet<string> LateFirstBoot { get; } = new(StringComparer.Ordinal);
    private readonly List<Task> _lateScripts = new();

    private async Task RunScriptLateAsync(InventoryMachine machine, string script, long logOffset, CancellationToken ct)
    {
        // The script "finishes" only once Ksctl has met the image's key and walked away, so the wait for the pinned key
        // is exercised on every run however busy the machine is (a fixed delay raced with Ksctl's first connection).
        await WaitForRefusedConnectionAsync(machine, logOffset, ct);
        using (await _gate.EnterAsync("boot"))
            await Task.Run(() => Adopt(machine.Index, script), ct);
    }

    private static string SshdLog(InventoryMachine machine) => Path.Combine(MachineDir(machine), "sshd.log");

    private static long SshdLogLength(InventoryMachine machine) => new FileInfo(SshdLog(machine)) is { Exists: true } f ? f.Length : 0;

    /// <summary>Until sshd logs a client from the host side of the bridge closing before authentication (a key it refused).</summary>
    private static async Task WaitForRefusedConnectionAsync(InventoryMachine machine, long offset, CancellationToken ct)
    {
        var refused = new Regex($@"Connection closed by {Regex.Escape(Subnet)}\.1 port \d+ \[preauth\]");
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (DateTime.UtcNow < deadline)
        {
            using (var stream = new FileStream(SshdLog(machine), FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
            {
                stream.Seek(Math.Min(offset, stream.Length), SeekOrigin.Begin);
                if (refused.IsMatch(await new StreamReader(stream).ReadToEndAsync(ct))) return;
            }
            await Task.Delay(100, ct); // polling a log file; bounded by the deadline
        }
        // Never quietly: the late script would then never run, and the test must say why.
        throw new TimeoutException($"{machine.Name}: sshd logged no refused connection from the host within 3 minutes; Ksctl never met the image's host key.");
    }

    /// <summary>What TestMachinePool.Boot does for a machine that is already booted: sshd restarts with the script's keys.</summary>
    private static void Adopt(int index, string script)
    {
        var pem = TestMachinePool.HostKeyPem(script)!;
        var dir = Directory.CreateTempSubdirectory("ksctl-civo-late-");
        try
        {
            var hostKey = Path.Combine(dir.FullName, "host_key");
            var authorized = Path.Combine(dir.FullName, "authorized_keys");
            File.WriteAllText(hostKey, pem);
            // sshd refuses a private host key others can read (the machines need Linux anyway).
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(hostKey, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.WriteAllText(authorized, string.Join('\n', TestMachinePool.AuthorizedKeys(script, pem)) + "\n");
            TestMachineHarness.Require(Prefix, Subnet, "adopt", index.ToString(), hostKey, authorized);
        }
        finally { dir.Delete(recursive: true); }
    }

    private static string WithOtherHostKey(string script) =>
        Regex.Replace(script, "-----BEGIN EC PRIVATE KEY-----.*?-----END EC PRIVATE KEY-----\n?", SshKeyPair.CreateHostKey().PrivateKeyPem.TrimEnd() + "\n", RegexOptions.Singleline);

    /// <summary>After a test: every machine a failed test left booted becomes a fresh one.</summary>
    public void ReleaseAll()
    {
        try { Task.WaitAll(_lateScripts.ToArray()); } catch (AggregateException) { /* the test that used them already failed */ }
        _lateScripts.Clear();
        LateFirstBoot.Clear();
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
