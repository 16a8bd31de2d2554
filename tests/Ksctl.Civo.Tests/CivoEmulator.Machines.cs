using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Ksctl.Civo.Tests;

/// <summary>
/// The emulator's compute half: disk images, sizes and instances (civogo instance.go, disk_image.go; rules and sources
/// in <see cref="CivoEmulator"/>'s header). An instance is BUILDING until <see cref="BootMachine"/> (a test machine
/// from the pool, or a made-up address) has booted it with its <c>script</c>; then ACTIVE with its public and private
/// address. DELETE makes it DELETING, and after <see cref="PollsToGone"/> reads (GET or list) it is gone and
/// <see cref="ReleaseMachine"/> resets its machine.
/// </summary>
public sealed partial class CivoEmulator
{
    public static readonly string[] InstanceSizes = ["g3.xsmall", "g3.small", "g3.medium", "g3.large", "g3.xlarge", "g3.2xlarge"];
    /// <summary>Civo's image list: plain Ubuntu releases beside GPU/CUDA and k3s variants (which must never be picked).</summary>
    private static readonly (string Name, string Version, string Distribution)[] BaseImages =
    [
        ("ubuntu-focal", "20.04", "ubuntu"), ("ubuntu-jammy", "22.04", "ubuntu"), ("ubuntu-noble", "24.04", "ubuntu"), ("debian-11", "11", "debian"),
        ("ubuntu-jammy-k3s", "22.04", "ubuntu"), ("ubuntu-cuda12-6", "24.10", "ubuntu"), ("ubuntu-noble-gpu", "25.04", "ubuntu"),
    ];
    private readonly ConcurrentDictionary<string, Instance> _instances = new();
    private readonly ConcurrentBag<Task> _boots = new();
    private readonly CancellationTokenSource _stopping = new();

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
        /// <summary>The address (A.B.C.D/NN) Civo took for it from its network at creation; reported once ACTIVE.</summary>
        public string? AllocatedPrivateCidr { get; init; }
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
    /// <summary>Every instance POST fails so (a quota that is never raised).</summary>
    public (int Status, string Code, string Reason)? InstanceErrorAlways { get; set; }
    /// <summary>The next instance POST creates it, then answers 500 (a lost response).</summary>
    public bool NextInstanceAppliesThenFails { get; set; }
    /// <summary>Instances (by hostname) whose boot fails: Civo lists them as ERROR.</summary>
    public HashSet<string> FailBoot { get; } = new(StringComparer.Ordinal);
    /// <summary>Instances stay BUILDING: nothing boots them (the "never ACTIVE" case).</summary>
    public bool HoldInstances { get; set; }
    /// <summary>Instances per page of GET /v2/instances (Civo's default page is 20).</summary>
    public int InstancesPerPage { get; set; } = 20;
    public IReadOnlyList<Instance> Instances => _instances.Values.OrderBy(i => i.Hostname).ToList();
    /// <summary>Why an instance went to ERROR (a test machine that could not be booted).</summary>
    public ConcurrentQueue<string> BootErrors { get; } = new();

    /// <summary>Everything that exists: managed clusters, networks, firewalls, keys, instances (for "nothing orphaned").</summary>
    public IReadOnlyList<string> Everything =>
        Inventory.Select(c => $"cluster {c.Name}").Concat(Networks.Select(n => $"network {n.Label}")).Concat(Firewalls.Select(f => $"firewall {f.Name}"))
            .Concat(SshKeys.Select(k => $"sshkey {k.Name}")).Concat(Instances.Select(i => $"instance {i.Hostname} {i.Status}")).ToList();

    /// <summary>An instance someone else made (no Ksctl tags) on a network and firewall of theirs.</summary>
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

    /// <summary>A disk image id: a stable UUID per region and name.</summary>
    public static string ImageId(string region, string name) => new Guid(MD5.HashData(Encoding.UTF8.GetBytes($"image-{region}-{name}"))).ToString();

    private void MapMachineRoutes(RouteGroupBuilder v2)
    {
        v2.MapGet("/sizes", () => Results.Json(Array(InstanceSizes.Select(s => new JsonObject { ["name"] = s, ["type"] = "Instance", ["selectable"] = true })
            .Concat(new[] { "g4s.kube.small", "g4s.kube.medium" }.Select(s => new JsonObject { ["name"] = s, ["type"] = "Kubernetes", ["selectable"] = s == "g4s.kube.small" ? null : true })))));

        v2.MapGet("/disk_images", (HttpContext ctx) =>
        {
            var region = Region(ctx);
            var images = BaseImages.Concat(NewerImages.Select(i => (i.Name, i.Version, "ubuntu")));
            return Results.Json(Array(images.Select(i => new JsonObject
            {
                ["id"] = ImageId(region, i.Item1), ["name"] = i.Item1, ["version"] = i.Item2, ["state"] = "available", ["distribution"] = i.Item3, ["description"] = null, ["label"] = null,
            })));
        });

        v2.MapGet("/instances", (HttpContext ctx) =>
        {
            var region = Region(ctx);
            var all = _instances.Values.Where(i => i.Region == region).OrderBy(i => i.Hostname).ThenBy(i => i.Id).ToList();
            foreach (var i in all) lock (i) if (i.Status == "DELETING") i.Polls++;
            foreach (var gone in all.Where(i => i.Status == "DELETING" && i.Polls >= PollsToGone).ToList()) Remove(gone);
            return Results.Json(Page(ctx, all.Where(i => _instances.ContainsKey(i.Id)).Select(InstanceJson).ToList(), InstancesPerPage));
        });
        v2.MapGet("/instances/{id}", (string id, HttpContext ctx) =>
        {
            if (!IsId(id) || !_instances.TryGetValue(id, out var i) || i.Region != Region(ctx)) return InstanceNotFound();
            bool gone;
            lock (i) gone = i.Status == "DELETING" && ++i.Polls >= PollsToGone;
            if (!gone) return Results.Json(InstanceJson(i));
            Remove(i);
            return InstanceNotFound();
        });
        v2.MapPost("/instances", async (HttpContext ctx) =>
        {
            var body = await BodyAsync(ctx);
            if (NextInstanceError is { } err || InstanceErrorAlways is { } always && (err = always) == always)
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
            if (network is null || NetworkOf(network, region) is null) return Fail(404, "database_network_not_found", "The requested network could not be found");
            var firewall = Str(body, "firewall_id");
            if (firewall is null || !_firewalls.TryGetValue(firewall, out var fw) || fw.NetworkId != network) return Fail(404, "database_firewall_not_found", "The requested firewall could not be found");
            var template = Str(body, "template_id");
            if (template is null || !BaseImages.Select(i => i.Name).Concat(NewerImages.Select(i => i.Name)).Any(n => ImageId(region, n) == template))
                return Fail(404, "database_disk_image_not_found", "The requested disk image could not be found");
            var sshKey = Str(body, "ssh_key_id");
            if (sshKey is null || !_sshKeys.ContainsKey(sshKey)) return Fail(404, "database_ssh_key_not_found", "The requested SSH key could not be found");
            Instance instance;
            lock (_addressGate)
            {
                var privateCidr = NextPrivateCidr(NetworkOf(network, region)!);
                if (privateCidr is null) return Fail(403, "network_ip_exhausted", "The network has no free IP address left");
                instance = new Instance
                {
                    Id = NewId(), Hostname = hostname, Region = region, Size = size, NetworkId = network, FirewallId = firewall, TemplateId = template,
                    SshKeyId = sshKey, InitialUser = Str(body, "initial_user") ?? "civo", Script = Str(body, "script") ?? "",
                    Tags = (Str(body, "tags") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries), AllocatedPrivateCidr = privateCidr,
                };
                _instances[instance.Id] = instance;
            }
            if (!HoldInstances) _boots.Add(Task.Run(() => BootAsync(instance)));
            if (NextInstanceAppliesThenFails)
            {
                NextInstanceAppliesThenFails = false;
                return Fail(500, "internal_server_error", "An unexpected error occurred");
            }
            return Results.Json(InstanceJson(instance));
        });
        v2.MapDelete("/instances/{id}", (string id, HttpContext ctx) =>
        {
            if (!IsId(id) || !_instances.TryGetValue(id, out var i) || i.Region != Region(ctx)) return InstanceNotFound();
            lock (i) { i.Status = "DELETING"; i.Polls = 0; }
            return Results.Json(new { result = "success" });
        });
    }

    private readonly object _addressGate = new();

    /// <summary>
    /// The lowest free host address of <paramref name="network"/> (its first address is the network's, the next the
    /// gateway's, the last the broadcast), held until the instance is gone, as Civo hands out private addresses.
    /// </summary>
    private string? NextPrivateCidr(Network network)
    {
        var net = System.Net.IPNetwork.Parse(network.Cidr);
        var taken = _instances.Values.Where(i => i.NetworkId == network.Id)
            .Select(i => i.AllocatedPrivateCidr?.Split('/')[0] ?? i.PrivateIp).ToHashSet();
        var first = AddressValue(net.BaseAddress);
        var size = 1u << (32 - net.PrefixLength);
        for (var offset = 2u; offset < size - 1; offset++)
        {
            var address = new System.Net.IPAddress(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(first + offset)).ToString();
            if (!taken.Contains(address)) return $"{address}/{net.PrefixLength}";
        }
        return null;
    }

    private static uint AddressValue(System.Net.IPAddress address) =>
        System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes());

    private static IResult InstanceNotFound() => Fail(404, "database_instance_not_found", "The requested instance could not be found");

    private void Remove(Instance i)
    {
        if (!_instances.TryRemove(i.Id, out _)) return;
        if (ReleaseMachine is { } release) _boots.Add(Task.Run(() => release(i)));
    }

    /// <summary>Waits until every deleted instance's machine has been reset (the next test may boot it).</summary>
    public async Task SettleAsync()
    {
        try { await Task.WhenAll(_boots.ToArray()); } catch (Exception) { /* reported through BootErrors */ }
    }

    private async Task BootAsync(Instance instance)
    {
        try
        {
            if (FailBoot.Contains(instance.Hostname)) throw new InvalidOperationException("the hypervisor could not start the instance");
            var (publicIp, privateIp) = BootMachine is { } boot
                ? await boot(instance, _stopping.Token)
                : ($"74.220.3.{Interlocked.Increment(ref _ipCounter)}", instance.AllocatedPrivateCidr!.Split('/')[0]);
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

    private async Task StopBootsAsync()
    {
        _stopping.Cancel();
        await SettleAsync();
    }

    private static JsonObject InstanceJson(Instance i)
    {
        lock (i)
        {
            return new JsonObject
            {
                ["id"] = i.Id, ["name"] = $"{i.Hostname}-{i.Id[..8]}", ["hostname"] = i.Hostname, ["size"] = i.Size, ["region"] = i.Region,
                ["network_id"] = i.NetworkId, ["firewall_id"] = i.FirewallId, ["source_type"] = "diskimage", ["source_id"] = i.TemplateId,
                ["initial_user"] = i.InitialUser, ["ssh_key_id"] = i.SshKeyId, ["script"] = i.Script,
                ["tags"] = Array(i.Tags.Select(t => JsonValue.Create(t)!)),
                ["status"] = i.Status, ["public_ip"] = i.PublicIp, ["private_ip"] = i.PrivateIp,
            };
        }
    }
}
