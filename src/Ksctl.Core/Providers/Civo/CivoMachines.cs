using System.Text.RegularExpressions;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Distributions;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Providers.CloudMachines;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Civo;

/// <summary>
/// The machines of a self-managed cluster on Civo: private network <c>&lt;name&gt;-&lt;region&gt;-net</c>, one firewall per
/// role <c>&lt;name&gt;-&lt;region&gt;-fw-{lb,db,cp,wp}</c> (<see cref="CivoFirewallRules"/>), the login key
/// <c>&lt;name&gt;-&lt;region&gt;-ssh</c> (firewall and key names are unique per Civo account, hence the region), and one
/// Ubuntu instance per node (<see cref="CivoInstances"/>), all created in parallel.
/// <para>
/// Every id is written to state (and checkpointed) as soon as Civo returns it, before any waiting. A create first looks
/// for what a previous attempt made — by recorded id, else by name (and, for instances, the cluster's tag) — so a lost
/// answer or a re-run never makes a second one. Deletion (<see cref="CivoMachineDeletion"/>) is the reverse.
/// </para>
/// </summary>
internal sealed class CivoMachines(Func<CancellationToken, Task<CivoClient>> clients, ILogger logger, TimeProvider time)
{
    public const string User = "root";
    internal const string NetworkResource = "civo:network";
    internal const string NetworkCidrResource = "civo:network-cidr";
    internal const string ImageResource = "civo:image";
    internal const string ImageNameResource = "civo:image-name";
    internal const string SshKeyResource = "civo:sshkey";
    internal const string FirewallResourcePrefix = "civo:firewall:";
    internal const string VmResourcePrefix = "civo:vm:";
    internal static readonly NodeRole[] Roles = [NodeRole.LoadBalancer, NodeRole.Datastore, NodeRole.ControlPlane, NodeRole.Worker];
    // Civo's plain Ubuntu images are "ubuntu-<codename>" (ubuntu-jammy, ubuntu-noble); GPU, CUDA and k3s images carry more.
    private static readonly Regex PlainUbuntu = new(@"^ubuntu-[a-z]+\z", RegexOptions.CultureInvariant);
    private static readonly Regex UbuntuVersion = new(@"^\d+(\.\d+){0,3}\z", RegexOptions.CultureInvariant);

    internal static string FirewallStep(NodeRole role) => $"civo:firewall:{CivoFirewallRules.Short(role)}";

    public IReadOnlyList<PlanStep> CreateSteps(ClusterSpec spec, SelfManagedTopology topology, MachineAccess access)
    {
        var id = spec.Id;
        var region = id.Region;
        var instances = new CivoInstances(clients, logger, time);
        var steps = new List<PlanStep>
        {
            new(NetworkResource, (ctx, ct) => EnsureNetworkAsync(ctx, region, ct))
            {
                Description = $"create the private network {CivoNames.Network(id)} in {region} (Civo picks its range)",
                Resources = [$"civo network {CivoNames.Network(id)}"],
            },
            new(ImageResource, (ctx, ct) => ResolveImageAsync(ctx, region, ct))
            {
                Description = $"find the newest plain Ubuntu disk image (ubuntu-<codename>) in {region}",
            },
            new(SshKeyResource, (ctx, ct) => EnsureSshKeyAsync(ctx, ct))
            {
                Description = $"upload the generated login key as {CivoNames.SshKey(id)}",
                Resources = [$"civo ssh key {CivoNames.SshKey(id)}"],
            },
        };
        steps.AddRange(Roles.Select(role => new PlanStep(FirewallStep(role), (ctx, ct) => EnsureFirewallAsync(ctx, region, role, ct))
        {
            DependsOn = [NetworkResource],
            Description = $"create firewall {CivoNames.Firewall(id, role)} with the {role} rules",
            Resources = [$"civo firewall {CivoNames.Firewall(id, role)}"],
        }));
        steps.AddRange(topology.All.Select(node =>
        {
            var size = CivoHaSpec.SizeOf(spec, node.Role);
            return new PlanStep(node.MachineStep, (ctx, ct) => instances.CreateAsync(ctx, spec, node, size, access, ct))
            {
                DependsOn = [NetworkResource, ImageResource, SshKeyResource, FirewallStep(node.Role)],
                Description = $"create instance {node.ResourceName(id.Name)} ({size}, Ubuntu, user {User}), reach it over SSH with its pinned host key, then replace that key (the instance's script is readable through Civo's API)",
                Resources = [$"civo instance {node.ResourceName(id.Name)} ({size}, tags {CivoNames.InstanceTags(id.Name, node.Role)})"],
            };
        }));
        return steps;
    }

    public IReadOnlyList<PlanStep> DeleteSteps(ClusterState state) => new CivoMachineDeletion(clients, logger, time).DeleteSteps(state);

    public IReadOnlyList<PlanStep> RemoveSteps(ClusterState state, IEnumerable<string> nodeKeys) =>
        new CivoMachineDeletion(clients, logger, time).RemoveSteps(state, nodeKeys);

    private async Task EnsureNetworkAsync(StepContext ctx, string region, CancellationToken ct)
    {
        var client = await clients(ct).ConfigureAwait(false);
        var label = CivoNames.Network(ctx.State.Id);
        var network = await CivoSteps.EnsureAsync(ctx, logger, time, NetworkResource, $"network {label}",
            async () =>
            {
                if (CivoSteps.Recorded(ctx, NetworkResource) is { } id && await client.GetNetworkAsync(id, region, ct).ConfigureAwait(false) is { } byId
                    && byId.Label == label && byId.Default != true) return byId;
                return (await client.ListNetworksAsync(region, ct).ConfigureAwait(false)).FirstOrDefault(n => n.Label == label && n.Default != true);
            },
            async () =>
            {
                // No cidr_v4: Civo chooses a range the account's quota allows; the one it chose is read back below.
                var created = await client.CreateNetworkAsync(new CivoNetworkRequest { Label = label, Region = region }, ct).ConfigureAwait(false);
                return new CivoNetwork { Id = created.Id ?? "", Label = label };
            },
            n => n.Id, ct).ConfigureAwait(false);
        // The CIDR the firewalls open to: what Civo says the network has (a re-read: the create answer carries no CIDR).
        var cidr = network.Cidr ?? (await client.GetNetworkAsync(network.Id, region, ct).ConfigureAwait(false))?.Cidr;
        var checkedCidr = CivoFirewallRules.Cidr(cidr);
        ctx.Mutate(s => s.Resources[NetworkCidrResource] = checkedCidr);
    }

    private async Task ResolveImageAsync(StepContext ctx, string region, CancellationToken ct)
    {
        var client = await clients(ct).ConfigureAwait(false);
        var images = await client.ListDiskImagesAsync(region, ct).ConfigureAwait(false);
        // A resize or a resumed create keeps the image the cluster started with while Civo still offers it.
        var recorded = CivoSteps.Recorded(ctx, ImageResource);
        var ubuntu = images.FirstOrDefault(i => i.Id == recorded && PlainUbuntu.IsMatch(i.Name)) ?? images
            .Where(i => PlainUbuntu.IsMatch(i.Name))
            .Where(i => i.State is null || string.Equals(i.State, "available", StringComparison.OrdinalIgnoreCase))
            .Where(i => i.Version is not null && UbuntuVersion.IsMatch(i.Version))
            .OrderByDescending(i => Version.Parse(i.Version!.Contains('.') ? i.Version : i.Version + ".0"))
            .FirstOrDefault()
            ?? throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ObjectNotFound,
                $"Civo lists no available plain Ubuntu disk image (ubuntu-<codename>) in {region} (images: {string.Join(", ", images.Select(i => i.Name))}).", region);
        var id = CivoEndpoint.Id(ubuntu.Id, "disk image");
        logger.LogInformation("Civo instances of {Cluster} use disk image {Image} ({Version}).", ctx.State.Id.Name, ubuntu.Name, ubuntu.Version);
        ctx.Mutate(s =>
        {
            s.Resources[ImageResource] = id;
            s.Resources[ImageNameResource] = ubuntu.Name;
        });
    }

    private async Task EnsureSshKeyAsync(StepContext ctx, CancellationToken ct)
    {
        var client = await clients(ct).ConfigureAwait(false);
        var login = await CloudMachineKeys.LoginKeyAsync(ctx, ct).ConfigureAwait(false);
        var name = CivoNames.SshKey(ctx.State.Id);
        await CivoSteps.EnsureAsync(ctx, logger, time, SshKeyResource, $"SSH key {name}",
            async () =>
            {
                var keys = await client.ListSshKeysAsync(ct).ConfigureAwait(false);
                var recorded = CivoSteps.Recorded(ctx, SshKeyResource);
                var key = keys.FirstOrDefault(k => k.Id == recorded && k.Name == name) ?? keys.FirstOrDefault(k => k.Name == name);
                // A key of that name with another fingerprint is someone else's: instances made with it would lock Ksctl out.
                if (key?.Fingerprint is { } fp && fp.StartsWith("SHA256:", StringComparison.Ordinal) && fp != login.Fingerprint)
                    throw new KsctlException("KsctlResourceExists", KsctlErrorCategory.ResourceExists,
                        $"Civo already has an SSH key named '{name}' ({fp}) that is not this cluster's login key ({login.Fingerprint}). Delete it in Civo or choose another -Name.", name);
                return key;
            },
            async () =>
            {
                var created = await client.CreateSshKeyAsync(new CivoSshKeyRequest { Name = name, PublicKey = login.PublicKey }, ct).ConfigureAwait(false);
                return new CivoSshKey { Id = created.Id ?? "", Name = name };
            },
            k => k.Id, ct).ConfigureAwait(false);
    }

    private async Task EnsureFirewallAsync(StepContext ctx, string region, NodeRole role, CancellationToken ct)
    {
        var client = await clients(ct).ConfigureAwait(false);
        var networkId = CivoSteps.RecordedOrThrow(ctx, NetworkResource);
        var cidr = CivoSteps.RecordedOrThrow(ctx, NetworkCidrResource);
        await new CivoFirewalls(client, logger, time).EnsureAsync(ctx, FirewallResourcePrefix + CivoFirewallRules.Short(role),
            CivoNames.Firewall(ctx.State.Id, role), networkId, region, CivoFirewallRules.For(role, cidr), ct).ConfigureAwait(false);
    }
}
