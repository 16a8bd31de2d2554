using Ksctl.Core.Providers.CloudMachines;
using Ksctl.Core.Remote.Keys;
using Ksctl.TestSupport;

namespace Ksctl.Remote.Tests;

/// <summary>Three machines of their own: these tests re-address and firewall them, which the shared fixture's tests must not see.</summary>
public sealed class NetworkMachinesFixture : IDisposable
{
    public static readonly string Prefix = TestMachineHarness.ScopedPrefix("ksf");
    public static readonly string Subnet = TestMachineHarness.ScopedSubnet("10.251.206");
    public IReadOnlyList<InventoryMachine> Machines { get; } = TestMachineHarness.Start(Prefix, Subnet, 3);
    public void Dispose() => TestMachineHarness.Stop(Prefix, Subnet);
}

/// <summary>
/// The test machines behave like cloud VMs: a private address only the machines reach, distinct from the public one the
/// test process uses, and an inbound firewall (nftables in the machine's namespace) that really drops what no rule allows.
/// A connection counts as dropped only when the machine's drop counter rose for it; the connect budget only ends the wait.
/// </summary>
public sealed class TestMachineNetworkTests(NetworkMachinesFixture fixture) : IClassFixture<NetworkMachinesFixture>, IDisposable
{
    private static readonly TimeSpan Command = TimeSpan.FromMinutes(1);
    private readonly IReadOnlyList<InventoryMachine> _m = fixture.Machines;

    public void Dispose()
    {
        foreach (var m in _m) TestMachineFirewall.Off(NetworkMachinesFixture.Prefix, NetworkMachinesFixture.Subnet, m.Index);
    }

    [Fact]
    public void Each_machine_has_a_private_address_that_only_the_machines_share()
    {
        Assert.All(_m, m => Assert.NotEqual(m.Address, m.PrivateAddress));
        Assert.Equal(_m.Count, _m.Select(m => m.PrivateAddress).Distinct().Count());
        Assert.Equal(_m.Count * 2, _m.SelectMany(m => new[] { m.Address, m.PrivateAddress }).Distinct().Count());
        var (m1, m2) = (_m[0], _m[1]);
        Assert.Contains($"inet {m1.PrivateAddress}/24", InMachine(m1, "ip -4 -o addr show dev eth1").Stdout);
        Assert.Equal(0, Connect(m1, m2.PrivateAddress, 22));
        // The host holds no address on the private segment, so it cannot reach it (nor route anything to it).
        var bridge = TestMachineHarness.Run("ip", Command, "-4", "-o", "addr", "show", "dev", NetworkMachinesFixture.Prefix + "-pbr0");
        Assert.Equal((0, ""), (bridge.ExitCode, bridge.Stdout.Trim()));
        Assert.DoesNotContain("-pbr0", TestMachineHarness.Run("ip", Command, "route", "get", m2.PrivateAddress).Stdout);
    }

    [Fact]
    public void Firewall_drops_a_port_no_rule_opens_and_a_source_outside_the_rule_and_accepts_what_a_rule_allows()
    {
        var (client, server) = (_m[0], _m[1]);
        Listen(server, 2379, 9000);
        var privateNet = server.PrivateAddress[..server.PrivateAddress.LastIndexOf('.')] + ".0/24";
        Apply(server, FirewallRule.Allow("tcp", "22", "*"), FirewallRule.Allow("tcp", "2379-2380", privateNet));

        Assert.Equal(0, Connect(client, server.PrivateAddress, 2379)); // allowed source, allowed port
        AssertDropped(server, () => Connect(client, server.Address, 2379)); // etcd from the public side
        AssertDropped(server, () => ConnectFromHost(server.Address, 2379));
        AssertDropped(server, () => Connect(client, server.PrivateAddress, 9000)); // a port no rule opens
        Assert.Equal(0, ConnectFromHost(server.Address, 22)); // SSH still reaches it
        Assert.Equal(0, Connect(server, "127.0.0.1", 9000)); // loopback is never filtered

        // A first-match Deny wins over a later Allow, like an NSG rule of lower priority number.
        Apply(server, FirewallRule.Deny("tcp", "2379", client.PrivateAddress), FirewallRule.Allow("tcp", "2379", privateNet));
        AssertDropped(server, () => Connect(client, server.PrivateAddress, 2379));
        Assert.Equal(0, Connect(_m[2], server.PrivateAddress, 2379));

        TestMachineFirewall.Off(NetworkMachinesFixture.Prefix, NetworkMachinesFixture.Subnet, server.Index);
        Assert.Equal(0, ConnectFromHost(server.Address, 9000));
    }

    [Theory]
    [InlineData("""[{"action":"accept","protocol":"tcp","ports":"70000","source":"*"}]""", "firewall rule 1: ports '70000'")]
    [InlineData("""[{"action":"accept","protocol":"tcp","ports":"22","source":"*"},{"action":"accept","protocol":"tcp","ports":"22","source":"10.0.0.0/33"}]""", "firewall rule 2: source '10.0.0.0/33'")]
    [InlineData("""[{"action":"accept","protocol":"tcp","ports":"22"}]""", "firewall rule 1: source '(missing)'")]
    [InlineData("""[{"action":"allow","protocol":"tcp","ports":"22","source":"*"}]""", "firewall rule 1: action 'allow'")]
    [InlineData("""[{"action":"accept","protocol":"icmp","ports":"22","source":"*"}]""", "firewall rule 1: protocol icmp takes no ports")]
    [InlineData("""{"action":"accept"}""", "is not a JSON array")]
    public void Firewall_refuses_a_bad_rule_naming_it_and_keeps_the_ruleset_it_had(string json, string reason)
    {
        var server = _m[2];
        Apply(server, FirewallRule.Allow("tcp", "22", "*"));
        var before = InMachine(server, "nft list ruleset").Stdout;
        var file = Path.Combine(Path.GetTempPath(), $"ksctl-bad-rules-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, json);
        try
        {
            var e = Assert.Throws<InvalidOperationException>(() =>
                TestMachineHarness.Require(NetworkMachinesFixture.Prefix, NetworkMachinesFixture.Subnet, "firewall", server.Index.ToString(), file));
            Assert.Contains(reason, e.Message);
        }
        finally { File.Delete(file); }
        Assert.Equal(before, InMachine(server, "nft list ruleset").Stdout);
    }

    [Fact]
    public void A_booted_machine_takes_the_cloud_NICs_private_address_and_a_release_gives_its_own_back_without_firewall()
    {
        var pool = new TestMachinePool(NetworkMachinesFixture.Prefix, NetworkMachinesFixture.Subnet, [_m[2]]);
        var host = SshKeyPair.CreateHostKey();
        var login = SshKeyPair.CreateLoginKey("ksctl-net-test");
        var booted = pool.Boot("net-vm", MachineUserData.CloudConfig(host, "root", login.PublicKey), privateCidr: "10.1.0.4/24");
        Assert.Equal(("10.1.0.4", _m[2].Address), (booted.PrivateAddress, booted.Address));
        Assert.Contains("inet 10.1.0.4/24", InMachine(_m[2], "ip -4 -o addr show dev eth1").Stdout);
        pool.Firewall("net-vm", [FirewallRule.Allow("tcp", "22", "*")]);
        Listen(_m[2], 9000);
        AssertDropped(_m[2], () => ConnectFromHost(_m[2].Address, 9000));

        var e = Assert.Throws<InvalidOperationException>(() => pool.Boot("net-vm-2", "x", privateCidr: "10.1.0.4/24"));
        Assert.Contains("no free machine", e.Message);
        Assert.True(pool.Release("net-vm"));
        var fresh = TestMachineHarness.Start(NetworkMachinesFixture.Prefix, NetworkMachinesFixture.Subnet, 3)[2];
        Assert.Equal(_m[2].PrivateAddress, fresh.PrivateAddress);
        Assert.Contains($"inet {_m[2].PrivateAddress}/24", InMachine(_m[2], "ip -4 -o addr show dev eth1").Stdout);
        Assert.Equal("", InMachine(_m[2], "nft list ruleset").Stdout.Trim());
    }

    private static void Apply(InventoryMachine m, params FirewallRule[] rules) =>
        TestMachineFirewall.Apply(NetworkMachinesFixture.Prefix, NetworkMachinesFixture.Subnet, m.Index, rules);

    /// <summary>The connection attempt failed by timing out and the machine's default drop counted it.</summary>
    private static void AssertDropped(InventoryMachine server, Func<int> connect)
    {
        var before = TestMachineFirewall.Dropped(NetworkMachinesFixture.Prefix, NetworkMachinesFixture.Subnet, server.Index);
        Assert.Equal(124, connect()); // timeout(1)'s code: no answer at all (a closed port without firewall answers RST at once: 1)
        Assert.True(TestMachineFirewall.Dropped(NetworkMachinesFixture.Prefix, NetworkMachinesFixture.Subnet, server.Index) > before);
    }

    /// <summary>Exit code of a TCP connect from inside <paramref name="from"/>: 0 connected, 1 refused, 124 no answer in time.</summary>
    private static int Connect(InventoryMachine from, string address, int port) =>
        InMachine(from, $"timeout 5 bash -c 'exec 3<>/dev/tcp/{address}/{port}'").ExitCode;

    private static int ConnectFromHost(string address, int port) =>
        TestMachineHarness.Run("timeout", Command, "5", "bash", "-c", $"exec 3<>/dev/tcp/{address}/{port}").ExitCode;

    private static (int ExitCode, string Stdout, string Stderr) InMachine(InventoryMachine m, string script) =>
        TestMachineHarness.Run("ip", Command, "netns", "exec", m.Name, "bash", "-c", script);

    /// <summary>TCP listeners inside the machine (accept and close), started once; waits until each port listens.</summary>
    private static void Listen(InventoryMachine m, params int[] ports)
    {
        foreach (var port in ports)
        {
            // All of it in the background with no inherited descriptors: this call's output pipe must close when bash exits.
            InMachine(m, $"{{ ss -Hltn 'sport = :{port}' | grep -q . || exec setsid perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(Listen => 16, LocalPort => {port}, ReuseAddr => 1) or die $!; while ($c = $s->accept) {{ close $c }}'; }} </dev/null >/dev/null 2>&1 &");
            var listening = InMachine(m, $"for attempt in $(seq 600); do ss -Hltn 'sport = :{port}' | grep -q . && exit 0; sleep 0.05; done; exit 1");
            Assert.True(listening.ExitCode == 0, $"nothing listens on {m.Name}:{port} after 600 checks");
        }
    }
}
