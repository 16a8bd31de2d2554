using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Distributions;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Providers.CloudMachines;
using Ksctl.Core.Remote;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Gcp;

/// <summary>
/// Self-managed HA clusters on Compute Engine: a custom-mode VPC network with one regional subnet (10.10.0.0/24),
/// firewall rules that reach each role by its network tag, and per node an Ubuntu 24.04 instance (Canonical's image
/// family, looked up at create time and recorded) with an external IP, whose cloud-init <c>user-data</c> metadata
/// installs the host key Ksctl generated for it and whose <c>ssh-keys</c> metadata carries the login key. Instances are
/// created in parallel (one plan step each); the distribution's bootstrap then runs unchanged.
/// </summary>
internal sealed partial class GcpProvider : ISelfManagedProvider
{
    private static readonly Regex ImageName = new("^[a-z]([-a-z0-9]{0,61}[a-z0-9])?\\z", RegexOptions.CultureInvariant);
    internal const string ImageKey = "gcp:image";
    internal const string NetworkStep = "gcp:network";
    internal const string SubnetStep = "gcp:subnet";
    internal static string FirewallStep(GcpBodies.Rule rule) => $"gcp:firewall:{rule.Suffix}";
    internal static string InstanceKey(string nodeKey) => $"gcp:vm:{nodeKey}";

    public bool KeepsMachines => false;

    public RemoteMachine Connection(ClusterState state, NodeState node) => CloudMachineKeys.Connection(state, node);

    internal static string SizeOf(ClusterSpec spec, NodeRole role) => role switch
    {
        NodeRole.LoadBalancer => spec.LoadBalancerSize!,
        NodeRole.Datastore => spec.EtcdSize!,
        NodeRole.ControlPlane => spec.ControlPlaneSize!,
        _ => spec.WorkerSize!,
    };

    public IReadOnlyList<PlanStep> MachineSteps(ClusterSpec spec, SelfManagedTopology topology, MachineAccess access)
    {
        var id = spec.Id;
        var region = GcpNames.RegionOf(id.Region);
        var network = GcpNames.NetworkName(id);
        var steps = new List<PlanStep>
        {
            new(NetworkStep, (ctx, ct) => InsertSharedAsync(ctx, n => ("projects/" + n.Project + "/global/networks", n.NetworkPath, GcpBodies.Network(id)), $"network {network}", ct))
            {
                Description = $"create VPC network {network} (custom subnets, regional routing)",
                Resources = [$"VPC network {network}"],
                IsAlreadyDone = (ctx, ct) => OwnedExistsAsync(ctx, n => n.NetworkPath, ct),
            },
            new(SubnetStep, (ctx, ct) => InsertSharedAsync(ctx, n => ($"projects/{n.Project}/regions/{region}/subnetworks", n.SubnetPath(region), GcpBodies.Subnet(id, n, region)), $"subnet {GcpNames.SubnetName(id)}", ct))
            {
                DependsOn = [NetworkStep],
                Description = $"create subnet {GcpNames.SubnetName(id)} ({GcpBodies.SubnetRange}) in {region}",
                Resources = [$"subnet {GcpNames.SubnetName(id)} {GcpBodies.SubnetRange} ({region})"],
                IsAlreadyDone = (ctx, ct) => OwnedExistsAsync(ctx, n => n.SubnetPath(region), ct),
            },
        };
        foreach (var rule in GcpBodies.Rules)
        {
            var name = GcpBodies.FirewallName(id, rule);
            var what = rule.AllProtocols ? "tcp, udp, icmp" : "tcp " + string.Join(", ", rule.Tcp);
            steps.Add(new PlanStep(FirewallStep(rule), (ctx, ct) => InsertSharedAsync(ctx, n => ($"projects/{n.Project}/global/firewalls", n.Global("firewalls", name), GcpBodies.Firewall(id, n, rule)), $"firewall {name}", ct))
            {
                DependsOn = [NetworkStep],
                Description = $"create firewall rule {name}: {rule.Why}",
                Resources = [$"firewall rule {name}: allow {what} from {(rule.Source == "0.0.0.0/0" ? "anywhere" : rule.Source)} to {string.Join(", ", rule.Roles.Select(r => GcpNames.RoleTag(id, r)))}"],
                IsAlreadyDone = (ctx, ct) => OwnedExistsAsync(ctx, n => n.Global("firewalls", name), ct),
            });
        }
        foreach (var node in topology.All)
        {
            var vm = GcpNames.InstanceName(id, node);
            var size = SizeOf(spec, node.Role);
            steps.Add(new PlanStep(node.MachineStep, (ctx, ct) => CreateInstanceAsync(ctx, spec, node, access, ct))
            {
                DependsOn = [SubnetStep, .. GcpBodies.Rules.Select(FirewallStep)],
                Description = $"create instance {vm} ({size}, Ubuntu 24.04 from {GcpBodies.ImageProject}/{GcpBodies.ImageFamily}, user {GcpBodies.LoginUser}) with an external IP; its generated host key is installed by cloud-init and pinned",
                Resources = [$"Compute instance {vm}: {size}, {GcpBodies.DiskSizeGb} GB pd-balanced boot disk, network tag {GcpNames.RoleTag(id, node.Role)}, external IP (ephemeral)"],
            });
        }
        return steps;
    }

    /// <summary>Inserts a network, subnet or firewall unless this cluster's one exists (a resumed create finds it).</summary>
    private async Task InsertSharedAsync(StepContext ctx, Func<GcpNames, (string Collection, string Path, JsonObject Body)> of, string what, CancellationToken ct)
    {
        var (client, names) = await SessionAsync(ctx, ct).ConfigureAwait(false);
        var (collection, path, body) = of(names);
        if (await OwnedAsync(client, names, path, what, ct).ConfigureAwait(false)) return;
        await client.InsertAsync(ComputeUrl(collection), body, Guid.NewGuid().ToString(), what, client.Timings.OperationDeadline, ct).ConfigureAwait(false);
    }

    private async Task<bool> OwnedExistsAsync(StepContext ctx, Func<GcpNames, string> path, CancellationToken ct)
    {
        var (client, names) = await SessionAsync(ctx, ct).ConfigureAwait(false);
        return await OwnedAsync(client, names, path(names), path(names), ct).ConfigureAwait(false);
    }

    /// <summary>Whether the resource exists and is this cluster's (its description or labels say so); someone else's refuses.</summary>
    private async Task<bool> OwnedAsync(GcpRestClient client, GcpNames names, string path, string what, CancellationToken ct)
    {
        if (await client.GetAsync(ComputeUrl(path), what, ct).ConfigureAwait(false) is not { } existing) return false;
        EnsureOwned(existing, names.Cluster, what);
        return true;
    }

    internal static void EnsureOwned(JsonObject resource, ClusterId id, string what)
    {
        var label = resource["labels"]?[GcpNames.LabelCluster] is JsonValue l && l.TryGetValue<string>(out var ls) ? ls : null;
        var description = GcpRestClient.Text(resource, "description") ?? "";
        if (label == id.Name || description.StartsWith(GcpNames.Description(id), StringComparison.Ordinal)) return;
        throw new KsctlException("KsctlResourceNotOwned", KsctlErrorCategory.SecurityError,
            $"GCP {what} exists but is not Ksctl's for cluster {id.Name} (no label {GcpNames.LabelCluster}={id.Name}, description '{Model.ClusterId.Printable(description)}'); it is left alone.", id.Name);
    }

    /// <summary>The Ubuntu 24.04 image of Canonical's family (images.getFromFamily), recorded so a resumed create sends the same body.</summary>
    private async Task<string> ImageAsync(StepContext ctx, GcpRestClient client, CancellationToken ct)
    {
        if (Recorded(ctx, ImageKey) is { } recorded)
            return ImageName.IsMatch(recorded) ? recorded : throw new KsctlException("KsctlStateCorrupt", KsctlErrorCategory.InvalidData, $"The recorded image '{Model.ClusterId.Printable(recorded)}' is not an image name.", ctx.State.Id.Name);
        var image = await client.GetAsync(ComputeUrl($"projects/{GcpBodies.ImageProject}/global/images/family/{GcpBodies.ImageFamily}"), $"image family {GcpBodies.ImageFamily}", ct).ConfigureAwait(false)
            ?? throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ObjectNotFound, $"GCP has no image in family {GcpBodies.ImageProject}/{GcpBodies.ImageFamily}.", "Gcp");
        var name = GcpRestClient.Text(image, "name");
        if (name is null || !ImageName.IsMatch(name) || GcpRestClient.Text(image, "status") is { } st && st != "READY")
            throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult, $"GCP's image family {GcpBodies.ImageFamily} answered an unusable image '{Model.ClusterId.Printable(name)}'.", "Gcp");
        ctx.Mutate(s => s.Resources.TryAdd(ImageKey, name));
        await ctx.Session.CheckpointAsync().ConfigureAwait(false);
        return Recorded(ctx, ImageKey)!;
    }

    private async Task CreateInstanceAsync(StepContext ctx, ClusterSpec spec, TopologyNode node, MachineAccess access, CancellationToken ct)
    {
        var id = spec.Id;
        var (client, names) = await SessionAsync(ctx, ct).ConfigureAwait(false);
        var vm = GcpNames.InstanceName(id, node);
        var size = SizeOf(spec, node.Role);
        var region = GcpNames.RegionOf(id.Region);
        var zone = await ZoneAsync(ctx, client, names, ct).ConfigureAwait(false);
        // Keys and the image are saved in state before the insert: a resumed create sends the same instance body.
        var login = await CloudMachineKeys.LoginKeyAsync(ctx, ct).ConfigureAwait(false);
        var hostKey = await CloudMachineKeys.HostKeyAsync(ctx, node.Key, ct).ConfigureAwait(false);
        var image = await ImageAsync(ctx, client, ct).ConfigureAwait(false);
        var path = names.Zonal(zone, "instances", vm);
        if (Recorded(ctx, InstanceKey(node.Key)) != path)
        {
            ctx.Mutate(s => s.Resources[InstanceKey(node.Key)] = path);
            await ctx.Session.CheckpointAsync().ConfigureAwait(false);
        }
        if (!await OwnedAsync(client, names, path, $"instance {vm}", ct).ConfigureAwait(false))
        {
            var userData = MachineUserData.CloudConfig(hostKey, GcpBodies.LoginUser, login.PublicKey);
            _logger.LogInformation("Creating instance {Vm} ({Size}) in {Zone}; host key {Fingerprint} is installed by cloud-init.", vm, size, zone, hostKey.Fingerprint);
            await client.InsertAsync(ComputeUrl($"projects/{names.Project}/zones/{zone}/instances"),
                GcpBodies.Instance(id, names, vm, node.Role, zone, region, size, image, userData, login.PublicKey),
                Guid.NewGuid().ToString(), $"instance {vm} ({size})", client.Timings.OperationDeadline, ct).ConfigureAwait(false);
        }
        var instance = await RunningAsync(client, path, vm, ct).ConfigureAwait(false);
        var nic = (instance["networkInterfaces"] as JsonArray)?.FirstOrDefault();
        var privateIp = Address(nic?["networkIP"], "internal", vm);
        var publicIp = Address((nic?["accessConfigs"] as JsonArray)?.FirstOrDefault()?["natIP"], "external", vm);
        ctx.Mutate(s =>
        {
            s.Nodes.RemoveAll(n => n.Key == node.Key);
            s.Nodes.Add(new NodeState
            {
                Key = node.Key, Name = vm, Role = node.Role, Index = node.Index, Size = size,
                PublicIP = publicIp, PrivateIP = privateIp, ResourceId = path, HostKey = hostKey.Fingerprint,
                SshUser = GcpBodies.LoginUser, SshPort = 22, Hostname = vm,
            });
        });
        await ctx.Session.CheckpointAsync().ConfigureAwait(false);
        var shell = await access.ShellAsync(ctx, node.Key, ct).ConfigureAwait(false);
        var facts = await shell.RunAsync(new RemoteScript("machine:facts", "hostname\n", retries: 1), ct).ConfigureAwait(false);
        var hostname = facts.StandardOutput.Trim();
        if (hostname.Length > 0) ctx.Mutate(s => { if (s.Nodes.FirstOrDefault(n => n.Key == node.Key) is { } n) n.Hostname = hostname; });
    }

    /// <summary>The instance once RUNNING (PROVISIONING and STAGING are waited out; anything else is an error).</summary>
    private async Task<JsonObject> RunningAsync(GcpRestClient client, string path, string vm, CancellationToken ct)
    {
        var until = _time.GetUtcNow() + client.Timings.OperationDeadline;
        var delay = client.Timings.FirstPoll;
        while (true)
        {
            var instance = await client.GetAsync(ComputeUrl(path), $"instance {vm}", ct).ConfigureAwait(false)
                ?? throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ObjectNotFound, $"GCP instance {vm} is gone right after its creation; re-run to create it again.", vm);
            var status = GcpRestClient.Text(instance, "status");
            if (status == "RUNNING") return instance;
            if (status is not ("PROVISIONING" or "STAGING") || _time.GetUtcNow() >= until)
                throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult, $"GCP instance {vm} is {Model.ClusterId.Printable(status)}, not RUNNING; re-run to resume.", vm);
            await Task.Delay(delay, _time, ct).ConfigureAwait(false);
            delay = client.Timings.Next(delay);
        }
    }

    /// <summary>An address Compute reports, recorded only when it parses as a plain IP address (it ends up in scripts and configs).</summary>
    private static string Address(JsonNode? node, string which, string vm)
    {
        var text = node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        if (string.IsNullOrEmpty(text) || !System.Net.IPAddress.TryParse(text, out var ip) || ip.ToString() != text)
            throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult, $"GCP reports no usable {which} address for instance {vm} ('{Model.ClusterId.Printable(text)}'); re-run to look again.", vm);
        return text;
    }
}
