using System.Globalization;
using System.Text.Json.Nodes;
using Ksctl.TestSupport;

namespace Ksctl.Civo.Tests;

/// <summary>
/// A Civo firewall's rules as the test machine enforces them (nftables in its namespace), so a port or source Ksctl did
/// not open is really closed on the "instance". Source: civogo firewall.go FirewallRule (protocol tcp|udp|icmp,
/// start_port, end_port, cidr[], direction ingress|egress, action allow|deny) and Civo's firewall docs (an instance's
/// inbound traffic no ingress rule allows is dropped; a firewall made with create_rules=false starts with none).
/// The harness filters inbound only: egress rules are not enforced (the machine is more open outbound than the
/// instance, never less). Deny rules go first (no order is documented; first-match with deny first is the strict
/// reading). Anything this cannot translate throws: a rule silently skipped would make the machine more open.
/// </summary>
public static class CivoFirewallTranslation
{
    public static IReadOnlyList<FirewallRule> Inbound(IEnumerable<JsonObject> civoRules)
    {
        var ingress = civoRules.Where(r => Str(r, "direction") switch
        {
            "ingress" => true,
            "egress" => false,
            var d => throw new NotSupportedException($"Civo firewall rule direction '{d}'"),
        }).ToList();
        var translated = new List<(bool Deny, FirewallRule Rule)>();
        foreach (var r in ingress)
        {
            var action = Str(r, "action") switch
            {
                "allow" => "accept",
                "deny" => "drop",
                var a => throw new NotSupportedException($"Civo firewall rule action '{a}'"),
            };
            var protocol = Str(r, "protocol") switch
            {
                "tcp" => "tcp",
                "udp" => "udp",
                "icmp" => "icmp",
                var p => throw new NotSupportedException($"Civo firewall rule protocol '{p}'"),
            };
            var ports = protocol == "icmp" ? "*" : Ports(Str(r, "start_port"), Str(r, "end_port"));
            var cidrs = r["cidr"] is JsonArray list ? list.Select(c => c!.GetValue<string>()).ToList() : [];
            if (cidrs.Count == 0) throw new NotSupportedException("Civo firewall rule without a cidr");
            foreach (var cidr in cidrs)
                translated.Add((action == "drop", new FirewallRule { Action = action, Protocol = protocol, Ports = ports, Source = Source(cidr) }));
        }
        return translated.Where(t => t.Deny).Concat(translated.Where(t => !t.Deny)).Select(t => t.Rule).ToList();
    }

    private static string Ports(string? start, string? end)
    {
        if (!int.TryParse(start, NumberStyles.None, CultureInfo.InvariantCulture, out var s) || s is < 1 or > 65535)
            throw new NotSupportedException($"Civo firewall rule start_port '{start}'");
        var e = string.IsNullOrEmpty(end) ? s
            : int.TryParse(end, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed >= s && parsed <= 65535 ? parsed
            : throw new NotSupportedException($"Civo firewall rule end_port '{end}' (start {start})");
        return s == e ? $"{s}" : $"{s}-{e}";
    }

    private static string Source(string cidr) =>
        cidr == "0.0.0.0/0" ? "*"
        : System.Net.IPNetwork.TryParse(cidr, out var n) && n.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? cidr
        : System.Net.IPAddress.TryParse(cidr, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? cidr
        : throw new NotSupportedException($"Civo firewall rule cidr '{cidr}'");

    private static string? Str(JsonObject r, string key) => r[key]?.GetValue<string>();
}
