using System.Text.Json.Nodes;
using Ksctl.TestSupport;
using Xunit;

namespace Ksctl.Civo.Tests;

/// <summary>What a test machine enforces for a recorded Civo firewall: never more open than the rules say.</summary>
public sealed class CivoFirewallTranslationTests
{
    private static JsonObject Rule(string protocol, string start, string end, string cidr, string direction = "ingress", string action = "allow") => new()
    {
        ["protocol"] = protocol, ["start_port"] = start, ["end_port"] = end, ["cidr"] = new JsonArray(cidr), ["direction"] = direction, ["action"] = action,
    };

    [Fact]
    public void Ingress_rules_become_first_match_rules_deny_first_and_egress_is_left_to_the_default()
    {
        var rules = CivoFirewallTranslation.Inbound(
        [
            Rule("tcp", "22", "22", "0.0.0.0/0"),
            Rule("tcp", "2379", "2380", "192.168.2.0/24"),
            Rule("tcp", "1", "65535", "0.0.0.0/0", direction: "egress"),
            Rule("icmp", "", "", "10.0.0.0/8"),
            Rule("tcp", "2379", "2379", "192.168.2.9", action: "deny"),
        ]);

        Assert.Equal(
        [
            FirewallRule.Deny("tcp", "2379", "192.168.2.9"),
            FirewallRule.Allow("tcp", "22", "*"),
            FirewallRule.Allow("tcp", "2379-2380", "192.168.2.0/24"),
            FirewallRule.Allow("icmp", "*", "10.0.0.0/8"),
        ], rules);
    }

    [Theory]
    [InlineData("any", "1", "2", "0.0.0.0/0", "ingress", "allow")]
    [InlineData("tcp", "", "2", "0.0.0.0/0", "ingress", "allow")]
    [InlineData("tcp", "90", "80", "0.0.0.0/0", "ingress", "allow")]
    [InlineData("tcp", "1", "70000", "0.0.0.0/0", "ingress", "allow")]
    [InlineData("tcp", "1", "2", "::/0", "ingress", "allow")]
    [InlineData("tcp", "1", "2", "0.0.0.0/0", "inbound", "allow")]
    [InlineData("tcp", "1", "2", "0.0.0.0/0", "ingress", "accept")]
    public void A_rule_it_cannot_translate_throws_instead_of_being_skipped(string protocol, string start, string end, string cidr, string direction, string action) =>
        Assert.Throws<NotSupportedException>(() => CivoFirewallTranslation.Inbound([Rule(protocol, start, end, cidr, direction, action)]));
}
