using Ksctl.Core.Diagnostics;
using Ksctl.Core.Providers.CloudMachines;
using Ksctl.Core.Remote;
using Ksctl.Core.Remote.Keys;
using Ksctl.TestSupport;
using YamlDotNet.RepresentationModel;

namespace Ksctl.Remote.Tests;

/// <summary>Keys Ksctl generates for cloud machines, checked against OpenSSH's own tools and a real sshd.</summary>
public sealed class CloudMachineKeysTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Public_key_and_fingerprint_are_what_ssh_keygen_derives_from_the_private_key(bool host)
    {
        var pair = host ? SshKeyPair.CreateHostKey() : SshKeyPair.CreateLoginKey("ksctl-demo-eastus");
        Assert.Equal(host ? SshKeyPair.EcdsaP256 : SshKeyPair.Rsa, pair.Algorithm);
        var dir = Directory.CreateTempSubdirectory("ksctl-keys-");
        try
        {
            var file = Path.Combine(dir.FullName, "key");
            File.WriteAllText(file, pair.PrivateKeyPem);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var derived = TestMachineHarness.Run("ssh-keygen", TimeSpan.FromSeconds(20), "-y", "-f", file);
            Assert.Equal(0, derived.ExitCode);
            Assert.Equal(string.Join(' ', pair.PublicKey.Split(' ').Take(2)), derived.Stdout.Trim());
            File.WriteAllText(file + ".pub", pair.PublicKey + "\n");
            var fingerprint = TestMachineHarness.Run("ssh-keygen", TimeSpan.FromSeconds(20), "-lf", file + ".pub");
            Assert.Equal(pair.Fingerprint, fingerprint.Stdout.Split(' ')[1]);
        }
        finally { dir.Delete(true); }
        var again = SshKeyPair.FromPrivateKeyPem(pair.PrivateKeyPem, host ? "ksctl-host" : "ksctl-demo-eastus");
        Assert.Equal(pair, again);
        Assert.DoesNotContain("PRIVATE", pair.ToString());
    }

    [Fact]
    public void Cloud_config_is_yaml_that_leaves_only_the_generated_host_key_and_authorizes_the_login_key()
    {
        var host = SshKeyPair.CreateHostKey();
        var login = SshKeyPair.CreateLoginKey("ksctl-demo-eastus");
        var text = MachineUserData.CloudConfig(host, "azureuser", login.PublicKey);
        Assert.StartsWith("#cloud-config\n", text);
        var yaml = new YamlStream();
        yaml.Load(new StringReader(text));
        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        Assert.Equal("true", root["ssh_deletekeys"].ToString());
        Assert.Empty((YamlSequenceNode)root["ssh_genkeytypes"]);
        var keys = (YamlMappingNode)root["ssh_keys"];
        Assert.Equal(host.PrivateKeyPem.Trim(), keys["ecdsa_private"].ToString().Trim());
        Assert.Equal(host.PublicKey, keys["ecdsa_public"].ToString());
        var user = ((YamlSequenceNode)root["users"]).OfType<YamlMappingNode>().Single();
        Assert.Equal("azureuser", user["name"].ToString());
        Assert.Equal(login.PublicKey, ((YamlSequenceNode)user["ssh_authorized_keys"]).Single().ToString());
        Assert.Throws<ArgumentException>(() => MachineUserData.CloudConfig(login, "azureuser", login.PublicKey));
        Assert.Throws<ArgumentException>(() => MachineUserData.CloudConfig(host, "Azure User", login.PublicKey));
        Assert.Throws<ArgumentException>(() => MachineUserData.CloudConfig(host, "azureuser", "ssh-rsa AAAA'; rm -rf /"));
    }

    [Fact]
    public void Init_script_passes_shellcheck_and_carries_the_key_the_pool_extracts()
    {
        var host = SshKeyPair.CreateHostKey();
        var login = SshKeyPair.CreateLoginKey("ksctl-demo-lon1");
        var script = MachineUserData.InitScript(host, login.PublicKey);
        Assert.StartsWith("#!/bin/sh\n", script);
        ShellCheck.AssertClean("init script", script);
        Assert.Equal(host.PrivateKeyPem.Trim(), TestMachinePool.HostKeyPem(script)!.Trim());
        Assert.Equal([login.PublicKey], TestMachinePool.AuthorizedKeys(script, host.PrivateKeyPem));
    }
}

/// <summary>A machine booted from Ksctl's user data presents exactly the generated host key and accepts the generated login key.</summary>
public sealed class CloudMachineBootTests : IDisposable
{
    // A prefix of its own: adopting replaces a machine's host key, which the shared fixture's tests pin.
    private static readonly string Prefix = TestMachineHarness.ScopedPrefix("ksk");
    private static readonly string Subnet = TestMachineHarness.ScopedSubnet("10.251.204");
    private const string User = "clouduser";
    private readonly IReadOnlyList<InventoryMachine> _machines = TestMachineHarness.Start(Prefix, Subnet, 1, "--sudo-user", User);

    public void Dispose() => TestMachineHarness.Stop(Prefix, Subnet);

    [Fact]
    public async Task Booted_machine_is_reached_with_the_pinned_generated_key_and_reset_on_release()
    {
        var host = SshKeyPair.CreateHostKey();
        var login = SshKeyPair.CreateLoginKey("ksctl-demo-eastus");
        var pool = new TestMachinePool(Prefix, Subnet, _machines);
        var booted = pool.Boot("demo-vm-cp-0", MachineUserData.CloudConfig(host, User, login.PublicKey));
        Assert.Equal(host.Fingerprint, booted.HostKey);
        Assert.Same(booted, pool.Boot("demo-vm-cp-0", "ignored: already booted"));

        var factory = new SshRemoteShellFactory(new RemoteShellOptions { ConnectDeadline = TimeSpan.FromSeconds(20) });
        var machine = new RemoteMachine { Name = "demo-vm-cp-0", Address = booted.Address, User = User, PrivateKeyPem = login.PrivateKeyPem, HostKeyFingerprint = host.Fingerprint };
        await using (var shell = await factory.ConnectAsync(machine))
        {
            Assert.Equal(host.Fingerprint, shell.HostKeyFingerprint);
            var whoami = await shell.RunAsync(new RemoteScript("whoami", "id -un\n"));
            Assert.Equal("root", whoami.StandardOutput.Trim()); // scripts run through sudo for a non-root login
        }

        // Any other key is refused: the machine presents only the generated one.
        var wrong = SshKeyPair.CreateHostKey();
        var ex = await Assert.ThrowsAsync<HostKeyMismatchException>(() => factory.ConnectAsync(machine with { HostKeyFingerprint = wrong.Fingerprint }));
        Assert.Equal("KsctlHostKeyMismatch", ex.ErrorId);
        Assert.Equal(wrong.Fingerprint, ex.ExpectedFingerprint);
        Assert.Equal(host.Fingerprint, ex.ActualFingerprint);

        Assert.True(pool.Release("demo-vm-cp-0"));
        Assert.Empty(pool.Booted);
        Assert.Equal(_machines[0].HostKey, TestMachineHarness.Start(Prefix, Subnet, 1, "--sudo-user", User)[0].HostKey);
    }
}
