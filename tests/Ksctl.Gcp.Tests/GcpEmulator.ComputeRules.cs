using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace Ksctl.Gcp.Tests;

/// <summary>
/// What Compute refuses, from compute-api.json's schema descriptions: names "must be 1-63 characters long and match the
/// regular expression [a-z]([-a-z0-9]*[a-z0-9])?"; Network.autoCreateSubnetworks (unset would make a legacy network,
/// which can no longer be created); Subnetwork.network and ipCidrRange (a valid private range of the network, not
/// overlapping another subnet); Firewall.allowed[].IPProtocol (tcp, udp, icmp, esp, ah, sctp, ipip, all) with ports
/// only for tcp/udp/sctp ("an integer or a range"), sourceRanges in CIDR, targetTags, direction INGRESS/EGRESS, priority
/// 0-65535; Instance.machineType ("zones/zone/machineTypes/type" of the instance's zone), exactly one boot disk whose
/// initializeParams.sourceImage exists, networkInterfaces with a subnetwork of the zone's region, labels
/// (cloud.google.com/compute/docs/labeling-resources: keys [a-z][a-z0-9_-]{0,62}, values [a-z0-9_-]{0,63}), metadata
/// items with unique keys (cloud.google.com/compute/docs/metadata/setting-custom-metadata: keys [a-zA-Z0-9-_]{1,128},
/// 512 KB in all), tags per RFC 1035. In use on delete: a network used by a subnet, firewall or instance, a subnet used
/// by an instance (400 resourceInUseByAnotherResource).
/// </summary>
public sealed partial class GcpEmulator
{
    private static readonly Regex Rfc1035 = new("^[a-z]([-a-z0-9]{0,61}[a-z0-9])?\\z");
    private static readonly Regex LabelKey = new("^[a-z][a-z0-9_-]{0,62}\\z");
    private static readonly Regex LabelValue = new("^[a-z0-9_-]{0,63}\\z");
    private static readonly Regex MetadataKey = new("^[a-zA-Z0-9_-]{1,128}\\z");
    private static readonly Regex Port = new("^[0-9]{1,5}(-[0-9]{1,5})?\\z");
    public const string UbuntuFamily = "ubuntu-2404-lts-amd64";
    public const string UbuntuImageName = "ubuntu-2404-noble-amd64-v20261118";
    public static readonly string[] MachineTypes = ["e2-micro", "e2-small", "e2-medium", "e2-standard-2", "e2-standard-4", "n2-standard-2", "n2-standard-4"];
    /// <summary>Zones per region (letters differ per region: europe-west1 has b, c, d).</summary>
    public Dictionary<string, string[]> Zones { get; } = new()
    {
        ["us-central1"] = ["us-central1-a", "us-central1-b", "us-central1-c", "us-central1-f"],
        ["europe-west1"] = ["europe-west1-b", "europe-west1-c", "europe-west1-d"],
    };
    /// <summary>Zones reported DOWN.</summary>
    public HashSet<string> DownZones { get; } = [];

    /// <summary>Boots an instance (name, user-data, internal IP, tags, ssh-keys) → the external and internal address of the machine.</summary>
    public Func<InstanceBoot, (string PublicIp, string PrivateIp)>? InstanceBooter { get; set; }
    public Action<string>? InstanceReleaser { get; set; }
    public sealed record InstanceBoot(string Name, string UserData, string PrivateIp, string SubnetRange, string[] Tags, string SshKeys);
    private int _nextAddress = 2;
    private int _nextNat = 10;

    private static (int, string, string, string)? Invalid(string field, string value, string why) =>
        (400, "invalid", "INVALID_ARGUMENT", $"Invalid value for field '{field}': '{value}'. {why}");

    private static (int, string, string, string)? CheckName(string? name) =>
        name is not null && Rfc1035.IsMatch(name) ? null
            : Invalid("resource.name", name ?? "", "Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'");

    private (int, string, string, string)? CheckBody(string project, string scope, string kind, JsonObject body)
    {
        switch (kind)
        {
            case "networks":
                if (body["autoCreateSubnetworks"] is not JsonValue auto || !auto.TryGetValue<bool>(out _))
                    return Invalid("resource.autoCreateSubnetworks", "", "Legacy networks can no longer be created; set autoCreateSubnetworks.");
                return null;
            case "subnetworks":
            {
                var network = Relative(Str(body, "network"));
                if (network is null || !_resources.ContainsKey(network)) return (404, "notFound", "NOT_FOUND", $"The resource '{network}' was not found");
                if (Str(body, "region") is { } r && !scope.EndsWith("/" + Last(r), StringComparison.Ordinal)) return Invalid("resource.region", r, "The region must match the request's region.");
                if (!IPNetwork.TryParse(Str(body, "ipCidrRange") ?? "", out var range) || range.PrefixLength > 29 || range.BaseAddress.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
                    return Invalid("resource.ipCidrRange", Str(body, "ipCidrRange") ?? "", "Must be an IPv4 CIDR range of at most /29.");
                foreach (var other in _resources.Values.Where(x => x.Kind == "subnetworks" && Relative(Str(x.Body, "network")) == network))
                    if (IPNetwork.TryParse(Str(other.Body, "ipCidrRange")!, out var o) && (o.Contains(range.BaseAddress) || range.Contains(o.BaseAddress)))
                        return Invalid("resource.ipCidrRange", range.ToString(), $"Invalid IPCidrRange: {range} conflicts with existing subnetwork '{other.Name}'.");
                return null;
            }
            case "firewalls":
            {
                var network = Relative(Str(body, "network") ?? $"projects/{project}/global/networks/default");
                if (network is null || !_resources.ContainsKey(network)) return (404, "notFound", "NOT_FOUND", $"The resource '{network}' was not found");
                if (Str(body, "direction") is { } d && d is not ("INGRESS" or "EGRESS")) return Invalid("resource.direction", d, "Must be INGRESS or EGRESS.");
                if (body["priority"] is JsonValue pv && (!pv.TryGetValue<int>(out var p) || p is < 0 or > 65535)) return Invalid("resource.priority", pv.ToJsonString(), "Must be 0-65535.");
                if (body["allowed"] is not JsonArray { Count: > 0 } allowed) return Invalid("resource.allowed", "", "At least one allowed or denied rule is required.");
                foreach (var a in allowed.OfType<JsonObject>())
                {
                    var protocol = Str(a, "IPProtocol") ?? "";
                    if (protocol is not ("tcp" or "udp" or "icmp" or "esp" or "ah" or "sctp" or "ipip" or "all") && !int.TryParse(protocol, out _))
                        return Invalid("resource.allowed[].IPProtocol", protocol, "Unknown protocol.");
                    if (a["ports"] is JsonArray ports)
                    {
                        if (protocol is not ("tcp" or "udp" or "sctp")) return Invalid("resource.allowed[].ports", "", "Ports may only be given for tcp, udp and sctp.");
                        foreach (var port in ports.Select(x => x?.GetValue<string>() ?? ""))
                            if (!Port.IsMatch(port) || port.Split('-').Any(x => int.Parse(x) > 65535)) return Invalid("resource.allowed[].ports", port, "Must be an integer or a range.");
                    }
                }
                foreach (var range in (body["sourceRanges"] as JsonArray ?? []).Select(x => x?.GetValue<string>() ?? ""))
                    if (!IPNetwork.TryParse(range, out _)) return Invalid("resource.sourceRanges", range, "Must be a CIDR range.");
                foreach (var tag in (body["targetTags"] as JsonArray ?? []).Select(x => x?.GetValue<string>() ?? ""))
                    if (!Rfc1035.IsMatch(tag)) return Invalid("resource.targetTags", tag, "Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'");
                return null;
            }
            case "instances":
                return CheckInstance(project, Last(scope), body);
        }
        return null;
    }

    private (int, string, string, string)? CheckInstance(string project, string zone, JsonObject body)
    {
        var machineType = Str(body, "machineType") ?? "";
        var m = Regex.Match(Relative(machineType) ?? machineType, "^(?:projects/[^/]+/)?zones/([^/]+)/machineTypes/([^/]+)\\z");
        if (!m.Success || m.Groups[1].Value != zone || !MachineTypes.Contains(m.Groups[2].Value))
            return Invalid("resource.machineType", machineType, $"Machine type with name '{Last(machineType)}' does not exist in zone '{zone}'.");
        var disks = body["disks"] as JsonArray ?? [];
        var boot = disks.OfType<JsonObject>().Where(d => d["boot"] is JsonValue b && b.GetValue<bool>()).ToList();
        if (boot.Count != 1) return Invalid("resource.disks", "", "Exactly one boot disk is required.");
        var image = Str(boot[0]["initializeParams"] as JsonObject ?? [], "sourceImage") ?? "";
        if ((Relative(image) ?? image) != $"projects/ubuntu-os-cloud/global/images/{UbuntuImageName}")
            return (404, "notFound", "NOT_FOUND", $"The resource '{image}' was not found");
        if (boot[0]["initializeParams"]?["diskSizeGb"] is JsonNode size && (!long.TryParse(size.ToString(), out var gb) || gb < 10))
            return Invalid("resource.disks[0].initializeParams.diskSizeGb", size.ToString(), "Requested disk size cannot be smaller than the image size (10 GB).");
        if (body["networkInterfaces"] is not JsonArray { Count: 1 } nics || nics[0] is not JsonObject nic) return Invalid("resource.networkInterfaces", "", "One network interface is required here.");
        var subnet = Relative(Str(nic, "subnetwork"));
        var region = zone[..zone.LastIndexOf('-')];
        if (subnet is null || !_resources.TryGetValue(subnet, out var sub) || !subnet.Contains($"/regions/{region}/", StringComparison.Ordinal))
            return (404, "notFound", "NOT_FOUND", $"The resource '{Str(nic, "subnetwork")}' was not found");
        if (Str(nic, "network") is { } net && Relative(net) != Relative(Str(sub.Body, "network")))
            return Invalid("resource.networkInterfaces[0].network", net, "The network must be the subnetwork's network.");
        foreach (var (k, v) in body["labels"] as JsonObject ?? [])
            if (!LabelKey.IsMatch(k) || !LabelValue.IsMatch(v?.GetValue<string>() ?? "")) return Invalid("resource.labels", k, "Label keys and values must match the label rules.");
        var keys = new HashSet<string>();
        var total = 0;
        foreach (var item in (body["metadata"]?["items"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var key = Str(item, "key") ?? "";
            if (!MetadataKey.IsMatch(key) || !keys.Add(key)) return Invalid("resource.metadata.items[].key", key, "Metadata keys must be unique and match [a-zA-Z0-9-_]{1,128}.");
            total += key.Length + (Str(item, "value")?.Length ?? 0);
        }
        if (total > 512 * 1024) return Invalid("resource.metadata", "", "Metadata must be at most 512 KB in total.");
        foreach (var tag in (body["tags"]?["items"] as JsonArray ?? []).Select(x => x?.GetValue<string>() ?? ""))
            if (!Rfc1035.IsMatch(tag)) return Invalid("resource.tags.items", tag, "Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'");
        return null;
    }

    /// <summary>The fields Compute fills (id, selfLink, creationTimestamp; an instance's internal IP and status).</summary>
    private void Complete(string kind, JsonObject body, string project, string scope)
    {
        body["id"] = Random.Shared.NextInt64(1_000_000_000_000, 9_000_000_000_000).ToString();
        body["creationTimestamp"] = DateTimeOffset.UtcNow.ToString("o");
        body["kind"] = "compute#" + kind.TrimEnd('s').Replace("subnetwork", "subnetwork");
        if (kind != "instances") return;
        body["status"] = "PROVISIONING";
        body["zone"] = new Uri(ComputeUrl, scope).ToString();
        var nic = body["networkInterfaces"]![0]!.AsObject();
        var range = IPNetwork.Parse(Str(_resources[Relative(Str(nic, "subnetwork"))!].Body, "ipCidrRange")!);
        var bytes = range.BaseAddress.GetAddressBytes();
        bytes[3] = (byte)(_nextAddress++);
        nic["networkIP"] = new IPAddress(bytes).ToString();
        nic["name"] = "nic0";
    }

    /// <summary>Boots the instance's machine (outside the gate: slow), then records its addresses and RUNNING.</summary>
    private void BootInstance(Resource r)
    {
        InstanceBoot boot;
        lock (_gate)
        {
            var nic = r.Body["networkInterfaces"]![0]!.AsObject();
            var items = (r.Body["metadata"]?["items"] as JsonArray ?? []).OfType<JsonObject>().ToList();
            string Item(string key) => items.Where(i => Str(i, "key") == key).Select(i => Str(i, "value")).FirstOrDefault() ?? "";
            var subnet = _resources[Relative(Str(nic, "subnetwork"))!];
            var tags = (r.Body["tags"]?["items"] as JsonArray ?? []).Select(x => x!.GetValue<string>()).ToArray();
            boot = new InstanceBoot(r.Name, Item("user-data"), Str(nic, "networkIP")!, Str(subnet.Body, "ipCidrRange")!, tags, Item("ssh-keys"));
        }
        var (publicIp, privateIp) = InstanceBooter?.Invoke(boot) ?? ($"203.0.113.{Interlocked.Increment(ref _nextNat)}", boot.PrivateIp);
        lock (_gate)
        {
            var nic = r.Body["networkInterfaces"]![0]!.AsObject();
            nic["networkIP"] = privateIp;
            foreach (var ac in (nic["accessConfigs"] as JsonArray ?? []).OfType<JsonObject>()) ac["natIP"] = publicIp;
            r.Body["status"] = "RUNNING";
            EnforceFirewalls();
        }
    }

    private JsonObject Present(Resource r)
    {
        var copy = r.Body.DeepClone().AsObject();
        copy["selfLink"] = new Uri(ComputeUrl, r.Path).ToString();
        return copy;
    }

    private string? UsedBy(Resource r)
    {
        if (r.Kind == "networks")
            return _resources.Values.FirstOrDefault(x => x.Kind is "subnetworks" or "firewalls" && Relative(Str(x.Body, "network")) == r.Path)?.Path
                ?? _resources.Values.FirstOrDefault(x => x.Kind == "instances" && Relative(Str(x.Body["networkInterfaces"]![0]!.AsObject(), "network")) == r.Path)?.Path;
        if (r.Kind == "subnetworks")
            return _resources.Values.FirstOrDefault(x => x.Kind == "instances" && Relative(Str(x.Body["networkInterfaces"]![0]!.AsObject(), "subnetwork")) == r.Path)?.Path;
        return null;
    }

    private async Task<bool> CatalogAsync(HttpContext ctx, string project, string[] s)
    {
        if (ctx.Request.Method != "GET") return false;
        if (s.Length == 3 && s[2] == "regions")
        {
            await Json(ctx, 200, new JsonObject { ["kind"] = "compute#regionList", ["items"] = new JsonArray(Zones.Keys.Select(r => (JsonNode)RegionJson(project, r)).ToArray()) });
            return true;
        }
        if (s.Length == 4 && s[2] == "regions")
        {
            if (!Zones.ContainsKey(s[3])) await NotFound(ctx, string.Join('/', s)); else await Json(ctx, 200, RegionJson(project, s[3]));
            return true;
        }
        if (s.Length == 4 && s[2] == "zones")
        {
            if (!Zones.Values.Any(z => z.Contains(s[3]))) await NotFound(ctx, string.Join('/', s));
            else await Json(ctx, 200, new JsonObject { ["kind"] = "compute#zone", ["name"] = s[3], ["status"] = DownZones.Contains(s[3]) ? "DOWN" : "UP", ["region"] = new Uri(ComputeUrl, $"projects/{project}/regions/{s[3][..s[3].LastIndexOf('-')]}").ToString() });
            return true;
        }
        if (s.Length == 5 && s[2] == "zones" && s[4] == "machineTypes")
        {
            await Json(ctx, 200, new JsonObject
            {
                ["kind"] = "compute#machineTypeList",
                ["items"] = new JsonArray(MachineTypes.Select(t => (JsonNode)new JsonObject { ["kind"] = "compute#machineType", ["name"] = t, ["zone"] = s[3] }).ToArray()),
            });
            return true;
        }
        return false;
    }

    private JsonObject RegionJson(string project, string region) => new()
    {
        ["kind"] = "compute#region",
        ["name"] = region,
        ["status"] = "UP",
        ["zones"] = new JsonArray(Zones[region].Select(z => (JsonNode)new Uri(ComputeUrl, $"projects/{project}/zones/{z}").ToString()).ToArray()),
    };

    private JsonObject UbuntuImage() => new()
    {
        ["kind"] = "compute#image",
        ["name"] = UbuntuImageName,
        ["family"] = UbuntuFamily,
        ["status"] = "READY",
        ["diskSizeGb"] = "10",
        ["architecture"] = "X86_64",
        ["selfLink"] = new Uri(ComputeUrl, $"projects/ubuntu-os-cloud/global/images/{UbuntuImageName}").ToString(),
    };

    /// <summary>A resource reference as a path "projects/…", from a full URL or a partial one.</summary>
    private string? Relative(string? reference)
    {
        if (reference is null) return null;
        var r = reference.StartsWith(ComputeUrl.ToString(), StringComparison.Ordinal) ? reference[ComputeUrl.ToString().Length..] : reference;
        if (r.StartsWith("https://", StringComparison.Ordinal) || r.StartsWith("http://", StringComparison.Ordinal)) return null;
        return r.TrimStart('/');
    }

    private static string Last(string s) => s[(s.LastIndexOf('/') + 1)..];
}
