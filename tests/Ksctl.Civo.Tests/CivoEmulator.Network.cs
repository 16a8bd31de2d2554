using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Ksctl.Civo.Tests;

/// <summary>
/// The emulator's networks, firewalls and rules, and SSH keys (civogo network.go, firewall.go, ssh_key.go; rules and
/// sources in <see cref="CivoEmulator"/>'s header). Every region has a default network (<c>default: true</c>), as every
/// Civo account does. Like Civo, a firewall or network still in use refuses deletion.
/// </summary>
public sealed partial class CivoEmulator
{
    private readonly ConcurrentDictionary<string, Network> _networks = new();
    private readonly ConcurrentDictionary<string, Firewall> _firewalls = new();
    private readonly ConcurrentDictionary<string, SshKey> _sshKeys = new();
    private int _networkCounter;

    public sealed record Network(string Id, string Label, string Region, string Cidr);
    public sealed record SshKey(string Id, string Name, string PublicKey, string Fingerprint);

    public sealed class Firewall
    {
        public required string Id { get; init; }
        public required string Name { get; init; }
        public required string Region { get; init; }
        public required string NetworkId { get; init; }
        public List<JsonObject> Rules { get; } = new();
    }

    /// <summary>A rule was added to a firewall (instances using it re-apply their rules).</summary>
    public Action<Firewall>? RulesChanged { get; set; }

    /// <summary>A copy of firewall <paramref name="firewallId"/>'s rules as recorded (none if it is gone).</summary>
    public IReadOnlyList<JsonObject> RulesOf(string firewallId)
    {
        if (!_firewalls.TryGetValue(firewallId, out var f)) return [];
        lock (f.Rules) return f.Rules.Select(r => (JsonObject)r.DeepClone()).ToList();
    }

    public IReadOnlyList<Network> Networks => _networks.Values.OrderBy(n => n.Label).ToList();
    public IReadOnlyList<Firewall> Firewalls => _firewalls.Values.OrderBy(f => f.Name).ToList();
    public IReadOnlyList<SshKey> SshKeys => _sshKeys.Values.OrderBy(k => k.Name).ToList();
    /// <summary>The cidr_v4 of every network create (null when none was sent).</summary>
    public ConcurrentQueue<string?> NetworkCidrsAsked { get; } = new();

    /// <summary>The next N deletes of a firewall or network are refused "in use" although nothing uses them (Civo detaching lags).</summary>
    public int LingeringInUse { get; set; }
    private bool TakeLingering()
    {
        lock (_sshKeys)
        {
            if (LingeringInUse <= 0) return false;
            LingeringInUse--;
            return true;
        }
    }

    /// <summary>The next N network deletes are refused "in use by volumes" although nothing uses them (volumes detach lazily).</summary>
    public int NetworkInUseByVolumes { get; set; }
    private bool TakeVolumes()
    {
        lock (_sshKeys)
        {
            if (NetworkInUseByVolumes <= 0) return false;
            NetworkInUseByVolumes--;
            return true;
        }
    }

    /// <summary>The region's default network: a stable UUID per region.</summary>
    public static string DefaultNetworkId(string region) => new Guid(MD5.HashData(Encoding.UTF8.GetBytes("default-network-" + region))).ToString();

    private Network? NetworkOf(string id, string region) =>
        id == DefaultNetworkId(region) ? new Network(id, "Default", region, "192.168.0.0/24")
        : _networks.TryGetValue(id, out var n) && n.Region == region ? n : null;

    private void MapNetworkRoutes(RouteGroupBuilder v2)
    {
        v2.MapGet("/networks", (HttpContext ctx) =>
        {
            var region = Region(ctx);
            var list = _networks.Values.Where(n => n.Region == region).Select(NetworkJson).Prepend(new JsonObject
            {
                ["id"] = DefaultNetworkId(region), ["name"] = "Default", ["label"] = "Default", ["default"] = true, ["region"] = region, ["cidr"] = "192.168.0.0/24", ["status"] = "Active",
            });
            return Results.Json(Array(list));
        });
        v2.MapGet("/networks/{id}", (string id, HttpContext ctx) =>
            IsId(id) && _networks.TryGetValue(id, out var n) && n.Region == Region(ctx) ? Results.Json(NetworkJson(n)) : Fail(404, "database_network_not_found", "The requested network could not be found"));
        v2.MapPost("/networks", async (HttpContext ctx) =>
        {
            var body = await BodyAsync(ctx);
            var label = Str(body, "label");
            if (string.IsNullOrEmpty(label)) return Fail(400, "parameter_label_missing", "The label parameter is required");
            var cidr = Str(body, "cidr_v4");
            NetworkCidrsAsked.Enqueue(cidr);
            if (cidr is not null && (!System.Net.IPNetwork.TryParse(cidr, out var asked) || asked.PrefixLength < 24))
                return Fail(403, "quota_limit_reached", "The requested network range exceeds your quota", $"cidr_v4 {cidr}: at most a /24 per network on this account");
            var network = new Network(NewId(), label, Str(body, "region") ?? "LON1", cidr ?? $"192.168.{Interlocked.Increment(ref _networkCounter) + 1}.0/24");
            _networks[network.Id] = network;
            return Results.Json(new { id = network.Id, label, result = "success" });
        });
        v2.MapDelete("/networks/{id}", (string id, HttpContext ctx) =>
        {
            if (IsId(id) && id == DefaultNetworkId(Region(ctx))) return Fail(400, "network_delete_default", "The default network cannot be deleted");
            if (!IsId(id) || !_networks.TryGetValue(id, out var n) || n.Region != Region(ctx)) return Fail(404, "database_network_not_found", "The requested network could not be found");
            if (_instances.Values.Any(i => i.NetworkId == id) || _firewalls.Values.Any(f => f.NetworkId == id))
                return Fail(400, "database_network_delete_with_instance", "The network still has instances or firewalls attached");
            if (TakeVolumes()) return Fail(400, "database_network_inuse_by_volumes", "The network is still in use by volumes");
            _networks.TryRemove(id, out _);
            return Results.Json(new { result = "success" });
        });

        v2.MapGet("/firewalls", (HttpContext ctx) =>
        {
            var region = Region(ctx);
            return Results.Json(Array(_firewalls.Values.Where(f => f.Region == region).Select(FirewallJson)));
        });
        v2.MapPost("/firewalls", async (HttpContext ctx) =>
        {
            var body = await BodyAsync(ctx);
            var name = Str(body, "name");
            var networkId = Str(body, "network_id");
            var region = Str(body, "region") ?? "LON1";
            if (string.IsNullOrEmpty(name)) return Fail(400, "parameter_name_missing", "The name parameter is required");
            if (networkId is null || NetworkOf(networkId, region) is null) return Fail(404, "database_network_not_found", "The requested network could not be found");
            lock (_firewalls)
            {
                // Unique per account, whatever the region.
                if (_firewalls.Values.Any(f => f.Name == name)) return Fail(409, "database_firewall_duplicate_name", "A firewall with this name already exists in your account");
                var firewall = new Firewall { Id = NewId(), Name = name, Region = region, NetworkId = networkId };
                // Civo's default rules (everything open) unless create_rules is false.
                if (body["create_rules"] is not JsonValue cr || !cr.TryGetValue<bool>(out var create) || create)
                    foreach (var proto in new[] { "tcp", "udp", "icmp" })
                        firewall.Rules.Add(RuleJson(firewall.Id, NewId(), proto, "1", "65535", ["0.0.0.0/0"], "ingress", "allow", $"All {proto.ToUpperInvariant()} ports open"));
                _firewalls[firewall.Id] = firewall;
                return Results.Json(new { id = firewall.Id, name, result = "success" });
            }
        });
        v2.MapDelete("/firewalls/{id}", (string id, HttpContext ctx) =>
        {
            if (!IsId(id) || !_firewalls.TryGetValue(id, out var f) || f.Region != Region(ctx)) return Fail(404, "database_firewall_not_found", "The requested firewall could not be found");
            if (_instances.Values.Any(i => i.FirewallId == id) || _clusters.Values.Any(c => c.FirewallId == id) || TakeLingering())
                return Fail(409, "database_firewall_inuse", "The firewall is still used by instances or clusters");
            _firewalls.TryRemove(id, out _);
            return Results.Json(new { result = "success" });
        });
        v2.MapGet("/firewalls/{id}/rules", (string id, HttpContext ctx) =>
        {
            if (!IsId(id) || !_firewalls.TryGetValue(id, out var f) || f.Region != Region(ctx)) return Fail(404, "database_firewall_not_found", "The requested firewall could not be found");
            lock (f.Rules) return Results.Json(Array(f.Rules.Select(r => (JsonObject)r.DeepClone())));
        });
        v2.MapPost("/firewalls/{id}/rules", async (string id, HttpContext ctx) =>
        {
            var body = await BodyAsync(ctx);
            if (!IsId(id) || !_firewalls.TryGetValue(id, out var f)) return Fail(404, "database_firewall_not_found", "The requested firewall could not be found");
            var cidr = body["cidr"] is JsonArray a ? a.Select(x => x!.GetValue<string>()).ToArray() : [];
            var rule = RuleJson(id, NewId(), Str(body, "protocol") ?? "tcp", Str(body, "start_port") ?? "", Str(body, "end_port") ?? "", cidr,
                Str(body, "direction") ?? "ingress", Str(body, "action") ?? "allow", Str(body, "label") ?? "");
            lock (f.Rules) f.Rules.Add(rule);
            RulesChanged?.Invoke(f);
            return Results.Json(rule.DeepClone());
        });

        // SSH keys: account-wide, names unique.
        v2.MapGet("/sshkeys", () => Results.Json(_sshKeys.Values.Select(k => new { id = k.Id, name = k.Name, fingerprint = k.Fingerprint })));
        v2.MapPost("/sshkeys", async (HttpContext ctx) =>
        {
            var body = await BodyAsync(ctx);
            var name = Str(body, "name");
            var publicKey = Str(body, "public_key");
            if (string.IsNullOrEmpty(name) || string.IsNullOrEmpty(publicKey)) return Fail(400, "parameter_missing", "The name and public_key parameters are required");
            lock (_sshKeys)
            {
                if (_sshKeys.Values.Any(k => k.Name == name)) return Fail(409, "database_ssh_key_duplicate_name", "An SSH key with this name already exists");
                var key = new SshKey(NewId(), name, publicKey, Fingerprint(publicKey));
                _sshKeys[key.Id] = key;
                return Results.Json(new { id = key.Id, result = "success" });
            }
        });
        v2.MapDelete("/sshkeys/{id}", (string id) =>
            IsId(id) && _sshKeys.TryRemove(id, out _) ? Results.Json(new { result = "success" }) : Fail(404, "database_ssh_key_not_found", "The requested SSH key could not be found"));
    }

    private static string Fingerprint(string publicKey)
    {
        var parts = publicKey.Split(' ');
        var blob = parts.Length > 1 ? Convert.FromBase64String(parts[1]) : Encoding.UTF8.GetBytes(publicKey);
        return "SHA256:" + Convert.ToBase64String(SHA256.HashData(blob)).TrimEnd('=');
    }

    private static JsonObject NetworkJson(Network n) => new()
    {
        ["id"] = n.Id, ["name"] = $"cust-{n.Id[..8]}", ["label"] = n.Label, ["default"] = null, ["region"] = n.Region, ["cidr"] = n.Cidr, ["status"] = "Active",
    };

    private JsonObject FirewallJson(Firewall f)
    {
        int rules;
        lock (f.Rules) rules = f.Rules.Count;
        int? NullIfZero(int n) => n == 0 ? null : n;
        return new JsonObject
        {
            ["id"] = f.Id, ["name"] = f.Name, ["network_id"] = f.NetworkId, ["rules_count"] = NullIfZero(rules),
            ["instance_count"] = NullIfZero(_instances.Values.Count(i => i.FirewallId == f.Id)),
            ["cluster_count"] = NullIfZero(_clusters.Values.Count(c => c.FirewallId == f.Id)), ["loadbalancer_count"] = null,
        };
    }

    private static JsonObject RuleJson(string firewallId, string id, string protocol, string start, string end, string[] cidr, string direction, string action, string label) => new()
    {
        ["id"] = id, ["firewall_id"] = firewallId, ["protocol"] = protocol, ["start_port"] = start, ["end_port"] = end,
        ["cidr"] = Array(cidr.Select(c => JsonValue.Create(c)!)), ["direction"] = direction, ["action"] = action, ["label"] = label,
    };
}
