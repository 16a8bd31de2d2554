using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Ksctl.Civo.Tests;

/// <summary>
/// The emulator's compute half: networks, firewalls and rules, SSH keys, disk images, sizes and instances, in Civo's
/// v2 JSON. An instance is BUILDING until <see cref="BootMachine"/> (a test machine from the pool, or a made-up address)
/// has booted it with its <c>script</c>; then ACTIVE with its public and private address. DELETE makes it DELETING, and
/// after <see cref="PollsToGone"/> GETs it is gone and <see cref="ReleaseMachine"/> resets its machine. Like Civo, a
/// firewall or network still in use refuses deletion, and duplicate names are allowed (so tests can see duplicates).
/// </summary>
public sealed partial class CivoEmulator
{
    public static readonly string[] InstanceSizes = ["g3.xsmall", "g3.small", "g3.medium", "g3.large", "g3.xlarge", "g3.2xlarge"];
    private readonly ConcurrentDictionary<string, Network> _networks = new();
    private readonly ConcurrentDictionary<string, Firewall> _firewalls = new();
    private readonly ConcurrentDictionary<string, SshKey> _sshKeys = new();
    private readonly ConcurrentDictionary<string, Instance> _instances = new();
    private readonly ConcurrentBag<Task> _boots = new();
    private readonly CancellationTokenSource _stopping = new();

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

    public sealed class Instance
    {
        public required string Id { get; init; }
        public required string Hostname { get; init; }
        public required string Region { get; init; }
        public required string Size { get; init; }
        public required string NetworkId { get; init; }
        public required string FirewallId { get; init; }
        public required string TemplateId { get; init; }
        public required string SshKeyId { get; init; }
        public required string InitialUser { get; init; }
        public required string Script { get; init; }
        public required string[] Tags { get; init; }
        public string Status { get; set; } = "BUILDING";
        public string? PublicIp { get; set; }
        public string? PrivateIp { get; set; }
        public int Polls { get; set; }
    }

    /// <summary>Plays the instance's first boot: returns its (public, private) address once its sshd presents the script's host key.</summary>
    public Func<Instance, CancellationToken, Task<(string PublicIp, string PrivateIp)>>? BootMachine { get; set; }
    /// <summary>The instance was deleted: its machine is reset.</summary>
    public Func<Instance, Task>? ReleaseMachine { get; set; }
    /// <summary>Ubuntu images Civo publishes later (name, version), listed after the built-in ones.</summary>
    public List<(string Name, string Version)> NewerImages { get; } = new();

    /// <summary>The next instance POST fails with this status and body instead of creating one (e.g. a quota).</summary>
    public (int Status, string Code, string Reason)? NextInstanceError { get; set; }
    /// <summary>The next N deletes of a firewall or network answer 409 "in use" although nothing uses them (Civo detaching lags).</summary>
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

    /// <summary>An instance someone else made (no Ksctl tags), for "neither adopted nor deleted" tests.</summary>
    public Instance AddForeignInstance(string hostname, string region = "LON1")
    {
        var network = new Network(NewId(), "someone-elses-net", region, "172.16.0.0/16");
        _networks[network.Id] = network;
        var firewall = new Firewall { Id = NewId(), Name = "someone-elses-fw", Region = region, NetworkId = network.Id };
        _firewalls[firewall.Id] = firewall;
        var instance = new Instance
        {
            Id = NewId(), Hostname = hostname, Region = region, Size = "g3.small", NetworkId = network.Id, FirewallId = firewall.Id,
            TemplateId = ImageId(region, "ubuntu-noble"), SshKeyId = "", InitialUser = "civo", Script = "", Tags = ["web"],
            Status = "ACTIVE", PublicIp = "74.220.9.9", PrivateIp = "172.16.0.9",
        };
        _instances[instance.Id] = instance;
        return instance;
    }

    /// <summary>The next instance POST creates it, then answers 500 (a lost response).</summary>
    public bool NextInstanceAppliesThenFails { get; set; }

    public IReadOnlyList<Network> Networks => _networks.Values.OrderBy(n => n.Label).ToList();
    public IReadOnlyList<Firewall> Firewalls => _firewalls.Values.OrderBy(f => f.Name).ToList();
    public IReadOnlyList<SshKey> SshKeys => _sshKeys.Values.OrderBy(k => k.Name).ToList();
    public IReadOnlyList<Instance> Instances => _instances.Values.OrderBy(i => i.Hostname).ToList();
    /// <summary>Everything that exists: managed clusters, networks, firewalls, keys, instances (for "nothing orphaned").</summary>
    public IReadOnlyList<string> Everything =>
        Inventory.Select(c => $"cluster {c.Name}").Concat(Networks.Select(n => $"network {n.Label}")).Concat(Firewalls.Select(f => $"firewall {f.Name}"))
            .Concat(SshKeys.Select(k => $"sshkey {k.Name}")).Concat(Instances.Select(i => $"instance {i.Hostname} {i.Status}")).ToList();

    private static string NewId() => Guid.NewGuid().ToString();

    private static IResult Fail(int status, string code, string reason) => Results.Json(new JsonObject { ["code"] = code, ["reason"] = reason }, statusCode: status);

    private static async Task<JsonObject> BodyAsync(HttpContext ctx) =>
        await JsonSerializer.DeserializeAsync<JsonObject>(ctx.Request.Body) ?? new JsonObject();

    private static string? Str(JsonObject body, string name) => body[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private void MapMachineRoutes(RouteGroupBuilder v2)
    {
        v2.MapGet("/sizes", () => Results.Json(InstanceSizes.Select(s => new { name = s, type = "Instance", selectable = true })
            .Concat(new[] { "g4s.kube.small", "g4s.kube.medium" }.Select(s => new { name = s, type = "Kubernetes", selectable = true }))));

        v2.MapGet("/disk_images", (HttpContext ctx) =>
        {
            var region = Region(ctx);
            var images = new[] { ("ubuntu-focal", "20.04", "ubuntu"), ("ubuntu-jammy", "22.04", "ubuntu"), ("ubuntu-noble", "24.04", "ubuntu"), ("debian-11", "11", "debian") }
                .Concat(NewerImages.Select(i => (i.Name, i.Version, "ubuntu")));
            return Results.Json(images.Select(i => new { id = ImageId(region, i.Item1), name = i.Item1, version = i.Item2, state = "available", distribution = i.Item3, description = (string?)null, label = (string?)null }));
        });

        // Networks
        v2.MapGet("/networks", (HttpContext ctx) =>
        {
            var region = Region(ctx);
            var list = _networks.Values.Where(n => n.Region == region).Select(NetworkJson).Prepend(new JsonObject
            {
                ["id"] = $"default-{region}", ["name"] = "Default", ["label"] = "Default", ["default"] = true, ["region"] = region, ["cidr"] = "192.168.0.0/24", ["status"] = "Active",
            });
            return Results.Json(new JsonArray(list.Select(n => (JsonNode)n).ToArray()));
        });
        v2.MapGet("/networks/{id}", (string id, HttpContext ctx) =>
            _networks.TryGetValue(id, out var n) && n.Region == Region(ctx) ? Results.Json(NetworkJson(n)) : Fail(404, "database_network_not_found", "The requested network could not be found"));
        v2.MapPost("/networks", async (HttpContext ctx) =>
        {
            var body = await BodyAsync(ctx);
            var label = Str(body, "label");
            if (string.IsNullOrEmpty(label)) return Fail(400, "parameter_label_missing", "The label parameter is required");
            var network = new Network(NewId(), label, Str(body, "region") ?? "LON1", Str(body, "cidr_v4") ?? "192.168.1.0/24");
            _networks[network.Id] = network;
            return Results.Json(new { id = network.Id, label, result = "success" });
        });
        v2.MapDelete("/networks/{id}", (string id, HttpContext ctx) =>
        {
            if (!_networks.TryGetValue(id, out var n) || n.Region != Region(ctx)) return Fail(404, "database_network_not_found", "The requested network could not be found");
            if (_instances.Values.Any(i => i.NetworkId == id) || _firewalls.Values.Any(f => f.NetworkId == id) || TakeLingering())
                return Fail(409, "database_network_inuse", "The network is still in use by instances or firewalls");
            _networks.TryRemove(id, out _);
            return Results.Json(new { result = "success" });
        });

        // Firewalls and rules
        v2.MapGet("/firewalls", (HttpContext ctx) =>
        {
            var region = Region(ctx);
            return Results.Json(new JsonArray(_firewalls.Values.Where(f => f.Region == region).Select(f => (JsonNode)FirewallJson(f)).ToArray()));
        });
        v2.MapPost("/firewalls", async (HttpContext ctx) =>
        {
            var body = await BodyAsync(ctx);
            var name = Str(body, "name");
            var networkId = Str(body, "network_id");
            var region = Str(body, "region") ?? "LON1";
            if (string.IsNullOrEmpty(name)) return Fail(400, "parameter_name_missing", "The name parameter is required");
            if (networkId is null || !_networks.ContainsKey(networkId)) return Fail(404, "database_network_not_found", "The requested network could not be found");
            var firewall = new Firewall { Id = NewId(), Name = name, Region = region, NetworkId = networkId };
            // Civo's default rules (everything open) unless create_rules is false.
            if (body["create_rules"] is not JsonValue cr || !cr.TryGetValue<bool>(out var create) || create)
                foreach (var proto in new[] { "tcp", "udp", "icmp" })
                    firewall.Rules.Add(RuleJson(firewall.Id, NewId(), proto, "1", "65535", ["0.0.0.0/0"], "ingress", "allow", $"All {proto.ToUpperInvariant()} ports open"));
            _firewalls[firewall.Id] = firewall;
            return Results.Json(new { id = firewall.Id, name, result = "success" });
        });
        v2.MapDelete("/firewalls/{id}", (string id, HttpContext ctx) =>
        {
            if (!_firewalls.TryGetValue(id, out var f) || f.Region != Region(ctx)) return Fail(404, "database_firewall_not_found", "The requested firewall could not be found");
            if (_instances.Values.Any(i => i.FirewallId == id) || TakeLingering()) return Fail(409, "database_firewall_inuse", "The firewall is still used by instances");
            _firewalls.TryRemove(id, out _);
            return Results.Json(new { result = "success" });
        });
        v2.MapGet("/firewalls/{id}/rules", (string id, HttpContext ctx) =>
        {
            if (!_firewalls.TryGetValue(id, out var f) || f.Region != Region(ctx)) return Fail(404, "database_firewall_not_found", "The requested firewall could not be found");
            lock (f.Rules) return Results.Json(new JsonArray(f.Rules.Select(r => (JsonNode)r.DeepClone()).ToArray()));
        });
        v2.MapPost("/firewalls/{id}/rules", async (string id, HttpContext ctx) =>
        {
            var body = await BodyAsync(ctx);
            if (!_firewalls.TryGetValue(id, out var f)) return Fail(404, "database_firewall_not_found", "The requested firewall could not be found");
            var cidr = body["cidr"] is JsonArray a ? a.Select(x => x!.GetValue<string>()).ToArray() : [];
            var rule = RuleJson(id, NewId(), Str(body, "protocol") ?? "tcp", Str(body, "start_port") ?? "", Str(body, "end_port") ?? "", cidr,
                Str(body, "direction") ?? "ingress", Str(body, "action") ?? "allow", Str(body, "label") ?? "");
            lock (f.Rules) f.Rules.Add(rule);
            return Results.Json(rule.DeepClone());
        });

        // SSH keys (account-wide; names are unique)
        v2.MapGet("/sshkeys", () => Results.Json(_sshKeys.Values.Select(k => new { id = k.Id, name = k.Name, fingerprint = k.Fingerprint })));
        v2.MapPost("/sshkeys", async (HttpContext ctx) =>
        {
            var body = await BodyAsync(ctx);
            var name = Str(body, "name");
            var publicKey = Str(body, "public_key");
            if (string.IsNullOrEmpty(name) || string.IsNullOrEmpty(publicKey)) return Fail(400, "parameter_missing", "The name and public_key parameters are required");
            lock (_sshKeys)
            {
                if (_sshKeys.Values.Any(k => k.Name == name)) return Fail(409, "database_ssh_key_duplicate", "An SSH key with this name already exists");
                var key = new SshKey(NewId(), name, publicKey, Fingerprint(publicKey));
                _sshKeys[key.Id] = key;
                return Results.Json(new { id = key.Id, result = "success" });
            }
        });
        v2.MapDelete("/sshkeys/{id}", (string id) =>
            _sshKeys.TryRemove(id, out _) ? Results.Json(new { result = "success" }) : Fail(404, "database_ssh_key_not_found", "The requested SSH key could not be found"));

        // Instances
        v2.MapGet("/instances", (HttpContext ctx) =>
        {
            var region = Region(ctx);
            var page = int.TryParse(ctx.Request.Query["page"], out var p) && p > 0 ? p : 1;
            var perPage = int.TryParse(ctx.Request.Query["per_page"], out var pp) && pp > 0 ? Math.Min(pp, 4) : 4; // small pages: pagination is exercised
            var all = _instances.Values.Where(i => i.Region == region).OrderBy(i => i.Hostname).ThenBy(i => i.Id).ToList();
            var pages = Math.Max(1, (all.Count + perPage - 1) / perPage);
            var items = all.Skip((page - 1) * perPage).Take(perPage).Select(i => (JsonNode)InstanceJson(i)).ToArray();
            return Results.Json(new JsonObject { ["page"] = page, ["per_page"] = perPage, ["pages"] = pages, ["items"] = new JsonArray(items) });
        });
        v2.MapGet("/instances/{id}", async (string id, HttpContext ctx) =>
        {
            if (!_instances.TryGetValue(id, out var i) || i.Region != Region(ctx)) return Fail(404, "database_instance_not_found", "The requested instance could not be found");
            bool gone;
            lock (i) gone = i.Status == "DELETING" && ++i.Polls >= PollsToGone;
            if (!gone) return Results.Json(InstanceJson(i));
            if (ReleaseMachine is { } release) await release(i);
            _instances.TryRemove(id, out _);
            return Fail(404, "database_instance_not_found", "The requested instance could not be found");
        });
        v2.MapPost("/instances", async (HttpContext ctx) =>
        {
            var body = await BodyAsync(ctx);
            if (NextInstanceError is { } err)
            {
                NextInstanceError = null;
                return Fail(err.Status, err.Code, err.Reason);
            }
            var region = Str(body, "region") ?? "LON1";
            var size = Str(body, "size") ?? "";
            var hostname = Str(body, "hostname");
            if (string.IsNullOrEmpty(hostname)) return Fail(400, "parameter_hostname_missing", "The hostname parameter is required");
            if (!InstanceSizes.Contains(size)) return Fail(400, "database_size_not_found", $"The size {size} was not found");
            var network = Str(body, "network_id");
            if (network is null || !_networks.TryGetValue(network, out var net) || net.Region != region) return Fail(404, "database_network_not_found", "The requested network could not be found");
            var firewall = Str(body, "firewall_id");
            if (firewall is null || !_firewalls.TryGetValue(firewall, out var fw) || fw.NetworkId != network) return Fail(404, "database_firewall_not_found", "The requested firewall could not be found");
            var template = Str(body, "template_id");
            if (template is null || !template.StartsWith($"img-{region}-", StringComparison.Ordinal)) return Fail(404, "database_disk_image_not_found", "The requested disk image could not be found");
            var sshKey = Str(body, "ssh_key_id");
            if (sshKey is null || !_sshKeys.ContainsKey(sshKey)) return Fail(404, "database_ssh_key_not_found", "The requested SSH key could not be found");
            var instance = new Instance
            {
                Id = NewId(), Hostname = hostname, Region = region, Size = size, NetworkId = network, FirewallId = firewall, TemplateId = template,
                SshKeyId = sshKey, InitialUser = Str(body, "initial_user") ?? "civo", Script = Str(body, "script") ?? "",
                Tags = (Str(body, "tags") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries),
            };
            _instances[instance.Id] = instance;
            _boots.Add(Task.Run(() => BootAsync(instance)));
            if (NextInstanceAppliesThenFails)
            {
                NextInstanceAppliesThenFails = false;
                return Fail(500, "internal_server_error", "An unexpected error occurred");
            }
            return Results.Json(InstanceJson(instance));
        });
        v2.MapDelete("/instances/{id}", (string id, HttpContext ctx) =>
        {
            if (!_instances.TryGetValue(id, out var i) || i.Region != Region(ctx)) return Fail(404, "database_instance_not_found", "The requested instance could not be found");
            lock (i) { i.Status = "DELETING"; i.Polls = 0; }
            return Results.Json(new { result = "success" });
        });
    }

    private async Task BootAsync(Instance instance)
    {
        try
        {
            var (publicIp, privateIp) = BootMachine is { } boot
                ? await boot(instance, _stopping.Token)
                : ($"74.220.3.{Interlocked.Increment(ref _ipCounter)}", $"10.10.0.{_ipCounter}");
            lock (instance)
            {
                if (instance.Status != "BUILDING") return;
                instance.PublicIp = publicIp;
                instance.PrivateIp = privateIp;
                instance.Status = "ACTIVE";
            }
        }
        catch (Exception) when (_stopping.IsCancellationRequested) { }
        catch (Exception e)
        {
            lock (instance) instance.Status = "ERROR";
            BootErrors.Enqueue($"{instance.Hostname}: {e.Message}");
        }
    }

    /// <summary>Why an instance went to ERROR (a test machine that could not be booted).</summary>
    public ConcurrentQueue<string> BootErrors { get; } = new();

    private async Task StopBootsAsync()
    {
        _stopping.Cancel();
        try { await Task.WhenAll(_boots); } catch (Exception) { /* reported through BootErrors */ }
    }

    private static string ImageId(string region, string name) => $"img-{region}-{name}";

    private static string Fingerprint(string publicKey)
    {
        var parts = publicKey.Split(' ');
        var blob = parts.Length > 1 ? Convert.FromBase64String(parts[1]) : Encoding.UTF8.GetBytes(publicKey);
        return "SHA256:" + Convert.ToBase64String(SHA256.HashData(blob)).TrimEnd('=');
    }

    private static JsonObject NetworkJson(Network n) => new()
    {
        ["id"] = n.Id, ["name"] = $"cust-{n.Id[..8]}", ["label"] = n.Label, ["default"] = false, ["region"] = n.Region, ["cidr"] = n.Cidr, ["status"] = "Active",
    };

    private JsonObject FirewallJson(Firewall f)
    {
        int rules;
        lock (f.Rules) rules = f.Rules.Count;
        return new JsonObject
        {
            ["id"] = f.Id, ["name"] = f.Name, ["network_id"] = f.NetworkId, ["rules_count"] = rules,
            ["instance_count"] = _instances.Values.Count(i => i.FirewallId == f.Id), ["cluster_count"] = 0, ["loadbalancer_count"] = 0,
        };
    }

    private static JsonObject RuleJson(string firewallId, string id, string protocol, string start, string end, string[] cidr, string direction, string action, string label) => new()
    {
        ["id"] = id, ["firewall_id"] = firewallId, ["protocol"] = protocol, ["start_port"] = start, ["end_port"] = end,
        ["cidr"] = new JsonArray(cidr.Select(c => (JsonNode)JsonValue.Create(c)!).ToArray()), ["direction"] = direction, ["action"] = action, ["label"] = label,
    };

    private static JsonObject InstanceJson(Instance i)
    {
        lock (i)
        {
            return new JsonObject
            {
                ["id"] = i.Id, ["name"] = $"{i.Hostname}-{i.Id[..8]}", ["hostname"] = i.Hostname, ["size"] = i.Size, ["region"] = i.Region,
                ["network_id"] = i.NetworkId, ["firewall_id"] = i.FirewallId, ["source_type"] = "diskimage", ["source_id"] = i.TemplateId,
                ["initial_user"] = i.InitialUser, ["ssh_key_id"] = i.SshKeyId,
                ["tags"] = new JsonArray(i.Tags.Select(t => (JsonNode)JsonValue.Create(t)!).ToArray()),
                ["status"] = i.Status, ["public_ip"] = i.PublicIp, ["private_ip"] = i.PrivateIp,
            };
        }
    }
}
