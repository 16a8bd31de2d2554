using System.Text.Json.Nodes;
using Ksctl.TestSupport;

namespace Ksctl.Gcp.Tests;

/// <summary>
/// The VPC firewall rules that apply to one instance, as its test machine enforces them (nftables, first match wins), so
/// a port, source or network tag Ksctl got wrong is really closed on the "instance". Sources:
/// compute/v1/compute-api.json Firewall (direction INGRESS|EGRESS, default INGRESS; priority 0-65535, default 1000;
/// allowed[]/denied[] with IPProtocol and ports; sourceRanges; targetTags: "If no targetTags are specified, the
/// firewall rule applies to all instances on the specified network"; disabled) and cloud.google.com/firewall/docs/firewalls
/// ("Implied rules": an implied deny-ingress rule at the lowest priority; "Priority": the rule with the lowest number
/// wins, and at equal priority a deny rule takes precedence over an allow rule; "Stateful": answers to an allowed
/// connection are allowed, the harness's established-connection rule). The implied deny is the harness's default drop.
/// Anything this cannot translate (source tags, service accounts, protocols beyond tcp/udp/icmp/all) throws: a rule
/// silently skipped would make the machine more open or more closed than the instance.
/// </summary>
public static class GcpFirewall
{
    /// <summary>The inbound rules of <paramref name="firewalls"/> (the network's) that target an instance with <paramref name="tags"/>.</summary>
    public static IReadOnlyList<FirewallRule> Inbound(IEnumerable<JsonObject> firewalls, IReadOnlyCollection<string> tags)
    {
        var applying = firewalls
            .Where(f => (Str(f, "direction") ?? "INGRESS") == "INGRESS")
            .Where(f => f["disabled"] is not JsonValue d || !d.GetValue<bool>())
            .Where(f =>
            {
                if (f["targetServiceAccounts"] is JsonArray { Count: > 0 }) throw new NotSupportedException("firewall rules by target service account");
                var targets = Strings(f, "targetTags");
                return targets.Count == 0 || targets.Any(tags.Contains);
            })
            .OrderBy(f => f["priority"] is JsonValue p ? p.GetValue<int>() : 1000)
            .ThenBy(f => f["denied"] is JsonArray { Count: > 0 } ? 0 : 1);
        var rules = new List<FirewallRule>();
        foreach (var f in applying)
        {
            if (f["sourceTags"] is JsonArray { Count: > 0 } || f["sourceServiceAccounts"] is JsonArray { Count: > 0 })
                throw new NotSupportedException("firewall rules by source tag or service account");
            var sources = Strings(f, "sourceRanges");
            if (sources.Count == 0) throw new NotSupportedException($"firewall {Str(f, "name")} without sourceRanges");
            foreach (var (field, action) in new[] { ("denied", "drop"), ("allowed", "accept") })
                foreach (var entry in (f[field] as JsonArray ?? []).OfType<JsonObject>())
                    foreach (var (protocol, ports) in Protocols(entry))
                        foreach (var source in sources)
                            rules.Add(new FirewallRule { Action = action, Protocol = protocol, Ports = ports, Source = source == "0.0.0.0/0" ? "*" : source });
        }
        return rules;
    }

    private static IEnumerable<(string Protocol, string Ports)> Protocols(JsonObject entry)
    {
        var protocol = Str(entry, "IPProtocol");
        var ports = Strings(entry, "ports");
        return protocol switch
        {
            "tcp" or "udp" => ports.Count == 0 ? [(protocol, "*")] : ports.Select(p => (protocol, p)),
            "icmp" when ports.Count == 0 => [("icmp", "*")],
            "all" when ports.Count == 0 => [("any", "*")],
            _ => throw new NotSupportedException($"firewall protocol '{protocol}' with ports [{string.Join(',', ports)}]"),
        };
    }

    private static string? Str(JsonObject o, string name) => o[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static List<string> Strings(JsonObject o, string name) =>
        (o[name] as JsonArray ?? []).Select(x => x!.GetValue<string>()).ToList();
}
