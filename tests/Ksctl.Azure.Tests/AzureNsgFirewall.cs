using System.Text.Json.Nodes;
using Ksctl.TestSupport;

namespace Ksctl.Azure.Tests;

/// <summary>
/// An NSG's inbound rules as the test machine enforces them (nftables, first match wins), so a port or source Ksctl did
/// not open is really closed on the "VM". Sources: azure-rest-api-specs network 2024-05-01 SecurityRulePropertiesFormat
/// (protocol Tcp|Udp|Icmp|Esp|Ah|*, access Allow|Deny, direction, priority 100-4096, destinationPortRange(s),
/// sourceAddressPrefix(es)); learn.microsoft.com/azure/virtual-network/network-security-groups-overview (rules are
/// processed in priority order, lowest first, and processing stops at the first match; the default inbound rules
/// AllowVnetInBound 65000, AllowAzureLoadBalancerInBound 65001, DenyAllInBound 65500 follow every NSG's own) and
/// .../service-tags-overview (VirtualNetwork = the VNet's address space; AzureLoadBalancer = 168.63.129.16; Internet =
/// outside the VNet, enforced here as "any", which is wider only for VNet sources that AllowVnetInBound admits anyway).
/// Anything this cannot translate throws: a rule silently skipped would make the machine more open than the VM.
/// </summary>
public static class AzureNsgFirewall
{
    private const string AzureLoadBalancer = "168.63.129.16";

    public static IReadOnlyList<FirewallRule> Inbound(JsonArray securityRules, IReadOnlyList<string> vnetPrefixes)
    {
        var rules = new List<FirewallRule>();
        var ordered = securityRules.Select(r => r!["properties"]!)
            .Where(p => Str(p, "direction") == "Inbound")
            .OrderBy(p => p["priority"]!.GetValue<int>());
        foreach (var p in ordered)
        {
            var action = Str(p, "access") switch
            {
                "Allow" => "accept",
                "Deny" => "drop",
                var a => throw new NotSupportedException($"NSG rule access '{a}'"),
            };
            if ((Str(p, "sourcePortRange") ?? "*") != "*") throw new NotSupportedException("NSG rules with a source port range");
            var destination = Str(p, "destinationAddressPrefix") ?? "*";
            if (destination is not ("*" or "VirtualNetwork")) throw new NotSupportedException($"NSG rule destination '{destination}'");
            foreach (var protocol in Protocols(Str(p, "protocol")))
                foreach (var ports in List(p, "destinationPortRange", "destinationPortRanges"))
                    foreach (var source in List(p, "sourceAddressPrefix", "sourceAddressPrefixes").SelectMany(s => Sources(s, vnetPrefixes)))
                        rules.Add(new FirewallRule { Action = action, Protocol = protocol, Ports = protocol is "any" or "icmp" ? Any(ports) : ports, Source = source });
        }
        // The defaults every NSG ends with; DenyAllInBound is the harness's default drop.
        rules.AddRange(vnetPrefixes.Select(v => FirewallRule.Allow("any", "*", v)));
        rules.Add(FirewallRule.Allow("any", "*", AzureLoadBalancer));
        return rules;
    }

    private static string Any(string ports) =>
        ports == "*" ? "*" : throw new NotSupportedException($"NSG rule with protocol * (or Icmp) and ports {ports}");

    private static IEnumerable<string> Protocols(string? protocol) => protocol switch
    {
        "Tcp" => ["tcp"],
        "Udp" => ["udp"],
        "Icmp" => ["icmp"],
        "*" => ["any"],
        _ => throw new NotSupportedException($"NSG rule protocol '{protocol}'"),
    };

    private static IEnumerable<string> Sources(string prefix, IReadOnlyList<string> vnetPrefixes) => prefix switch
    {
        "*" or "Internet" or "0.0.0.0/0" => ["*"],
        "VirtualNetwork" => vnetPrefixes,
        "AzureLoadBalancer" => [AzureLoadBalancer],
        _ when System.Net.IPNetwork.TryParse(prefix, out _) || System.Net.IPAddress.TryParse(prefix, out _) => [prefix],
        _ => throw new NotSupportedException($"NSG rule source '{prefix}'"),
    };

    private static IEnumerable<string> List(JsonNode p, string single, string plural)
    {
        var many = p[plural]?.AsArray().Select(x => x!.GetValue<string>()).ToList() ?? [];
        if (Str(p, single) is { } one) many.Insert(0, one);
        return many.Count > 0 ? many : throw new NotSupportedException($"NSG rule without {single} or {plural}");
    }

    private static string? Str(JsonNode p, string key) => p[key]?.GetValue<string>();
}
