using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Providers.CloudMachines;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Civo;

/// <summary>
/// Deleting a self-managed cluster's Civo resources: instances (in parallel) → firewalls → SSH key → network; a 404
/// means already gone, and "in use" refusals are waited out. Nothing is deleted on the state's word alone: an
/// instance must carry this cluster's tag; a firewall, key or network (which Civo cannot tag) must be the recorded one
/// and carry the name Ksctl gives it. A tampered state that points at someone else's resource deletes nothing of
/// theirs. Each step's Resources lists the ids it will delete.
/// </summary>
internal sealed class CivoMachineDeletion(Func<CancellationToken, Task<CivoClient>> clients, ILogger logger, TimeProvider time)
{
    private readonly CivoInstanceWatch.PerRegion _watch = new(clients, time);

    private static string IdOf(ClusterState state, string resource) => state.Resources.GetValueOrDefault(resource) ?? "id not recorded: found by name";

    /// <summary>Every instance (recorded, or a node whose record was lost), then the shared resources.</summary>
    public IReadOnlyList<PlanStep> DeleteSteps(ClusterState state)
    {
        var id = state.Id;
        var region = id.Region;
        var recorded = state.Resources.Keys.Where(k => k.StartsWith(CivoMachines.VmResourcePrefix, StringComparison.Ordinal)).Select(k => k[CivoMachines.VmResourcePrefix.Length..]);
        var steps = RemoveSteps(state, state.Nodes.Where(n => n.Key is not null).Select(n => n.Key!).Union(recorded)).ToList();
        steps.Add(new PlanStep("civo:delete:vm-tagged", (ctx, ct) => DeleteTaggedMachinesAsync(ctx, region, ct))
        {
            DependsOn = steps.Select(s => s.Name).ToArray(),
            Description = $"delete any other instance tagged {CivoNames.NameTag(id.Name)} (made by an attempt whose answer was lost)",
        });
        var firewallSteps = CivoMachines.Roles.Select(role =>
        {
            var resource = CivoMachines.FirewallResourcePrefix + CivoFirewallRules.Short(role);
            return new PlanStep($"civo:delete:firewall-{CivoFirewallRules.Short(role)}", async (ctx, ct) =>
                await new CivoFirewalls(await clients(ct).ConfigureAwait(false), logger, time).DeleteAsync(ctx, resource, CivoNames.Firewall(ctx.State.Id, role), region, ct).ConfigureAwait(false))
            {
                DependsOn = ["civo:delete:vm-tagged"],
                Description = $"delete firewall {CivoNames.Firewall(id, role)}",
                Resources = [$"civo firewall {CivoNames.Firewall(id, role)} ({IdOf(state, resource)})"],
            };
        }).ToList();
        steps.AddRange(firewallSteps);
        steps.Add(new PlanStep("civo:delete:sshkey", (ctx, ct) => DeleteSshKeyAsync(ctx, ct))
        {
            DependsOn = firewallSteps.Select(s => s.Name).ToArray(),
            Description = $"delete SSH key {CivoNames.SshKey(id)}",
            Resources = [$"civo ssh key {CivoNames.SshKey(id)} ({IdOf(state, CivoMachines.SshKeyResource)})"],
        });
        steps.Add(new PlanStep("civo:delete:network", (ctx, ct) => DeleteNetworkAsync(ctx, region, ct))
        {
            DependsOn = ["civo:delete:sshkey"],
            Description = $"delete network {CivoNames.Network(id)}",
            Resources = [$"civo network {CivoNames.Network(id)} ({IdOf(state, CivoMachines.NetworkResource)})"],
        });
        return steps;
    }

    /// <summary>Just these instances (a resize down).</summary>
    public IReadOnlyList<PlanStep> RemoveSteps(ClusterState state, IEnumerable<string> nodeKeys)
    {
        var cluster = state.Id.Name;
        var region = state.Id.Region;
        return nodeKeys.Distinct().Order(StringComparer.Ordinal).Select(key => new PlanStep($"civo:delete:vm-{key}", (ctx, ct) => DeleteMachineAsync(ctx, region, key, ct))
        {
            Description = $"delete instance {CivoNames.Instance(cluster, key)} (only if it carries tag {CivoNames.NameTag(cluster)}) and wait until it is gone",
            Resources = [$"civo instance {CivoNames.Instance(cluster, key)} ({IdOf(state, CivoMachines.VmResourcePrefix + key)})"],
        }).ToArray();
    }

    private async Task DeleteMachineAsync(StepContext ctx, string region, string key, CancellationToken ct)
    {
        var client = await clients(ct).ConfigureAwait(false);
        var cluster = ctx.State.Id.Name;
        var name = CivoNames.Instance(cluster, key);
        var recorded = CivoSteps.Recorded(ctx, CivoMachines.VmResourcePrefix + key);
        var list = await _watch.For(region).ListAsync(time.GetUtcNow(), ct).ConfigureAwait(false);
        if (recorded is not null && list.TryGetValue(recorded, out var atRecorded) && !CivoNames.Carries(atRecorded.Tags, cluster))
            logger.LogWarning("The Civo instance {Id} recorded for node {Key} of {Cluster} ('{Hostname}') does not carry tag {Tag}; it is not this cluster's and is left alone.",
                recorded, key, cluster, atRecorded.Hostname, CivoNames.NameTag(cluster));
        // Ours: tagged for this cluster and either recorded or (a create whose answer was lost) named for this node.
        var ours = list.Values.Where(i => CivoNames.Carries(i.Tags, cluster) && (i.Id == recorded || i.Hostname == name)).ToList();
        await Task.WhenAll(ours.Select(i => DeleteInstanceAndWaitAsync(client, region, i.Id, name, ct))).ConfigureAwait(false);
        ctx.Mutate(s =>
        {
            s.Resources.Remove(CivoMachines.VmResourcePrefix + key);
            s.Resources.Remove(CivoHostKeyRotation.RotatedResourcePrefix + key);
            s.Secrets.Remove(CivoHostKeyRotation.NextSecretPrefix + key);
            s.Nodes.RemoveAll(n => n.Key == key);
            CloudMachineKeys.ForgetHostKey(s, key);
        });
    }

    private async Task DeleteTaggedMachinesAsync(StepContext ctx, string region, CancellationToken ct)
    {
        var client = await clients(ct).ConfigureAwait(false);
        var cluster = ctx.State.Id.Name;
        var left = (await _watch.For(region).ListAsync(time.GetUtcNow(), ct).ConfigureAwait(false)).Values.Where(i => CivoNames.Carries(i.Tags, cluster)).ToList();
        await Task.WhenAll(left.Select(i => DeleteInstanceAndWaitAsync(client, region, i.Id, i.Hostname ?? i.Id, ct))).ConfigureAwait(false);
        ctx.Mutate(s =>
        {
            foreach (var k in s.Resources.Keys.Where(k => k.StartsWith(CivoMachines.VmResourcePrefix, StringComparison.Ordinal) || k.StartsWith(CivoHostKeyRotation.RotatedResourcePrefix, StringComparison.Ordinal)).ToList())
                s.Resources.Remove(k);
            s.Nodes.Clear();
        });
    }

    private async Task DeleteInstanceAndWaitAsync(CivoClient client, string region, string id, string name, CancellationToken ct)
    {
        if (!await client.DeleteInstanceAsync(id, region, ct).ConfigureAwait(false))
        {
            logger.LogInformation("Civo instance {Name} ({Id}) was already gone.", name, id);
            return;
        }
        // Civo tears instances down asynchronously; the firewall and the network refuse deletion until they are gone.
        var deleted = time.GetUtcNow();
        var watch = _watch.For(region);
        var timeout = CivoTimings.Current.InstanceGone;
        await CivoPolling.UntilAsync<bool>(time, timeout, async c =>
            {
                var list = await watch.ListAsync(deleted, c).ConfigureAwait(false);
                deleted = time.GetUtcNow();
                return (!list.TryGetValue(id, out var now), true, now?.Status);
            },
            status => $"Civo instance {name} ({id}) was still {status} {timeout.TotalMinutes:0} minutes after its deletion. Re-run the delete to keep waiting.",
            name, ct).ConfigureAwait(false);
    }

    private async Task DeleteSshKeyAsync(StepContext ctx, CancellationToken ct)
    {
        var client = await clients(ct).ConfigureAwait(false);
        var name = CivoNames.SshKey(ctx.State.Id);
        // By Ksctl's name only: a recorded id of a key with another name is someone else's.
        foreach (var key in (await client.ListSshKeysAsync(ct).ConfigureAwait(false)).Where(k => k.Name == name))
            if (!await client.DeleteSshKeyAsync(key.Id, ct).ConfigureAwait(false)) logger.LogInformation("Civo SSH key {Name} was already gone.", name);
        ctx.Mutate(s => s.Resources.Remove(CivoMachines.SshKeyResource));
    }

    private async Task DeleteNetworkAsync(StepContext ctx, string region, CancellationToken ct)
    {
        var client = await clients(ct).ConfigureAwait(false);
        var label = CivoNames.Network(ctx.State.Id);
        // By Ksctl's label only, never the default network: a recorded id of another network is someone else's.
        var networks = (await client.ListNetworksAsync(region, ct).ConfigureAwait(false)).Where(n => n.Default != true && n.Label == label);
        foreach (var network in networks)
            if (!await CivoSteps.WhileInUseAsync(logger, time, () => client.DeleteNetworkAsync(network.Id, region, ct), $"network {label}", ct).ConfigureAwait(false))
                logger.LogInformation("Civo network {Name} was already gone.", label);
        ctx.Mutate(s =>
        {
            s.Resources.Remove(CivoMachines.NetworkResource);
            s.Resources.Remove(CivoMachines.NetworkCidrResource);
            s.Resources.Remove(CivoMachines.ImageResource);
            s.Resources.Remove(CivoMachines.ImageNameResource);
        });
    }
}
