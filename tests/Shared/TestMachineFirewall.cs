using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ksctl.TestSupport;

/// <summary>
/// One inbound rule a test machine enforces (the harness's RULES.json entry): a cloud's firewall or security-group rule
/// translated to what nftables matches. Rules are ordered, the first match wins; a connection no rule accepts is
/// dropped, like an inbound packet no NSG / Civo firewall rule allows.
/// </summary>
public sealed record FirewallRule
{
    /// <summary>"accept" or "drop".</summary>
    [JsonPropertyName("action")] public required string Action { get; init; }
    /// <summary>"tcp", "udp", "icmp" or "any".</summary>
    [JsonPropertyName("protocol")] public required string Protocol { get; init; }
    /// <summary>"*", "N" or "N-M".</summary>
    [JsonPropertyName("ports")] public required string Ports { get; init; }
    /// <summary>"*", an IPv4 address or an IPv4 CIDR.</summary>
    [JsonPropertyName("source")] public required string Source { get; init; }

    public static FirewallRule Allow(string protocol, string ports, string source) =>
        new() { Action = "accept", Protocol = protocol, Ports = ports, Source = source };

    public static FirewallRule Deny(string protocol, string ports, string source) =>
        new() { Action = "drop", Protocol = protocol, Ports = ports, Source = source };
}

/// <summary>The harness's <c>firewall</c> commands for one machine (tests/machines/ksctl-testmachines.sh).</summary>
public static class TestMachineFirewall
{
    /// <summary>Replaces machine <paramref name="index"/>'s inbound ruleset (nftables in its own namespace).</summary>
    public static void Apply(string prefix, string subnet, int index, IEnumerable<FirewallRule> rules)
    {
        var file = Path.Combine(Path.GetTempPath(), $"ksctl-firewall-{prefix}-{index}-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(file, JsonSerializer.Serialize(rules.ToList()));
            TestMachineHarness.Require(prefix, subnet, "firewall", index.ToString(), file);
        }
        finally { File.Delete(file); }
    }

    /// <summary>Removes machine <paramref name="index"/>'s ruleset: everything inbound is accepted again.</summary>
    public static void Off(string prefix, string subnet, int index) =>
        TestMachineHarness.Require(prefix, subnet, "firewall", index.ToString(), "off");

    /// <summary>How many inbound packets machine <paramref name="index"/>'s ruleset (a drop rule or the default drop) has dropped so far.</summary>
    public static long Dropped(string prefix, string subnet, int index) =>
        long.Parse(TestMachineHarness.Require(prefix, subnet, "firewall-dropped", index.ToString()).Trim());

    /// <summary>Whether <paramref name="address"/> is inside <paramref name="cidr"/> (A.B.C.D/NN).</summary>
    public static bool InPrefix(string address, string cidr) =>
        IPNetwork.Parse(cidr).Contains(IPAddress.Parse(address));
}

/// <summary>
/// The pool's firewall half, in this file so a suite compiles it only once it also links TestMachineFirewall.cs
/// (a cloud emulator's suite: Azure today; Civo adds the link and calls <see cref="Firewall"/> when it is wired).
/// </summary>
public sealed partial class TestMachinePool
{
    /// <summary>
    /// Enforces <paramref name="rules"/> (translated from the cloud's security group / firewall the emulator recorded) on
    /// the machine <paramref name="vmName"/> booted on, replacing its earlier ruleset. A reset (release) removes it.
    /// </summary>
    public void Firewall(string vmName, IEnumerable<FirewallRule> rules)
    {
        InventoryMachine? machine;
        lock (_gate) _booted.TryGetValue(vmName, out machine);
        if (machine is null) throw new InvalidOperationException($"{vmName} is not booted on a test machine.");
        TestMachineFirewall.Apply(_prefix, _subnet, machine.Index, rules);
    }

    /// <summary>How many inbound packets the firewall of <paramref name="vmName"/>'s machine has dropped.</summary>
    public long Dropped(string vmName)
    {
        InventoryMachine? machine;
        lock (_gate) _booted.TryGetValue(vmName, out machine);
        if (machine is null) throw new InvalidOperationException($"{vmName} is not booted on a test machine.");
        return TestMachineFirewall.Dropped(_prefix, _subnet, machine.Index);
    }
}
