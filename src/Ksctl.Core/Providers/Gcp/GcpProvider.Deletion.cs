using Ksctl.Core.Diagnostics;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Providers.CloudMachines;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Gcp;

/// <summary>
/// Deleting self-managed resources in reverse: instances (their boot disks go with them, autoDelete), then the firewall
/// rules and the subnet, then the network. Each resource is read first and deleted only when it is this cluster's
/// (label or description); a 404 is "already gone". GCP refuses to delete a network or subnet still used by something
/// (400 resourceInUseByAnotherResource) while deletions settle: that is retried until <see cref="GcpTimings.InUse"/>.
/// </summary>
internal sealed partial class GcpProvider
{
    public IReadOnlyList<PlanStep> MachineDeleteSteps(ClusterState state)
    {
        var recorded = state.Resources.Keys.Where(k => k.StartsWith("gcp:vm:", StringComparison.Ordinal)).Select(k => k["gcp:vm:".Length..]);
        var keys = state.Nodes.Where(n => n.Key is not null).Select(n => n.Key!).Union(recorded).ToList();
        var steps = InstanceDeleteSteps(state, keys).ToList();
        var instances = steps.Select(s => s.Name).ToArray();
        var id = state.Id;
        var region = GcpNames.RegionOf(id.Region);
        var firewallSteps = new List<string>();
        foreach (var rule in GcpBodies.Rules)
        {
            var name = GcpBodies.FirewallName(id, rule);
            var step = $"gcp:delete-firewall:{rule.Suffix}";
            steps.Add(new PlanStep(step, (ctx, ct) => DeleteSharedAsync(ctx, n => n.Global("firewalls", name), $"firewall {name}", ct))
            {
                DependsOn = instances,
                Description = $"delete firewall rule {name}",
                Resources = [$"firewall rule {name}"],
            });
            firewallSteps.Add(step);
        }
        steps.Add(new PlanStep("gcp:delete-subnet", (ctx, ct) => DeleteSharedAsync(ctx, n => n.SubnetPath(region), $"subnet {GcpNames.SubnetName(id)}", ct))
        {
            DependsOn = instances,
            Description = $"delete subnet {GcpNames.SubnetName(id)} ({region})",
            Resources = [$"subnet {GcpNames.SubnetName(id)}"],
        });
        steps.Add(new PlanStep("gcp:delete-network", (ctx, ct) => DeleteSharedAsync(ctx, n => n.NetworkPath, $"network {GcpNames.NetworkName(id)}", ct))
        {
            DependsOn = [.. firewallSteps, "gcp:delete-subnet"],
            Description = $"delete VPC network {GcpNames.NetworkName(id)} (last)",
            Resources = [$"VPC network {GcpNames.NetworkName(id)}"],
        });
        return steps;
    }

    public IReadOnlyList<PlanStep> RemoveMachineSteps(ClusterState state, IReadOnlyList<NodeState> nodes) =>
        InstanceDeleteSteps(state, nodes.Select(n => n.Key!)).ToList();

    private IEnumerable<PlanStep> InstanceDeleteSteps(ClusterState state, IEnumerable<string> keys)
    {
        foreach (var key in keys.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            if (!TopologyNodeKey(key)) throw new KsctlException("KsctlStateCorrupt", KsctlErrorCategory.InvalidData, $"The state names a node '{ClusterId.Printable(key)}' that is not a node key.", state.Id.Name);
            var vm = GcpNames.InstanceName(state.Id, key);
            yield return new PlanStep($"gcp:delete-vm:{key}", (ctx, ct) => DeleteInstanceAsync(ctx, key, ct))
            {
                Description = $"delete instance {vm} (its boot disk goes with it)",
                Resources = [$"Compute instance {vm}"],
            };
        }
    }

    private static bool TopologyNodeKey(string key) => GcpNames.IsName("x-" + key) && key.Length <= 12;

    private async Task DeleteInstanceAsync(StepContext ctx, string key, CancellationToken ct)
    {
        var (client, names) = await SessionAsync(ctx, ct).ConfigureAwait(false);
        var vm = GcpNames.InstanceName(ctx.State.Id, key);
        var zones = new List<string>();
        if (GcpLocations.IsZone(ctx.State.Id.Region)) zones.Add(ctx.State.Id.Region);
        else if (Recorded(ctx, ZoneKey) is { } z) zones.Add(await ZoneAsync(ctx, client, names, ct).ConfigureAwait(false));
        // The path Ksctl computes is what is deleted: a recorded one only confirms it (never followed when it differs).
        foreach (var zone in zones)
        {
            var path = names.Zonal(zone, "instances", vm);
            if (Recorded(ctx, InstanceKey(key)) is { } recorded && recorded != path)
                throw new KsctlException("KsctlStateCorrupt", KsctlErrorCategory.InvalidData, $"The recorded instance '{ClusterId.Printable(recorded)}' is not {path}; nothing was deleted.", ctx.State.Id.Name);
            await DeleteOwnedAsync(client, names, path, $"instance {vm}", ct).ConfigureAwait(false);
        }
        ctx.Mutate(s =>
        {
            s.Resources.Remove(InstanceKey(key));
            CloudMachineKeys.ForgetHostKey(s, key);
            s.Nodes.RemoveAll(n => n.Key == key);
        });
    }

    private async Task DeleteSharedAsync(StepContext ctx, Func<GcpNames, string> path, string what, CancellationToken ct)
    {
        var (client, names) = await SessionAsync(ctx, ct).ConfigureAwait(false);
        var until = _time.GetUtcNow() + client.Timings.InUse;
        var delay = client.Timings.FirstPoll;
        while (true)
        {
            try
            {
                await DeleteOwnedAsync(client, names, path(names), what, ct).ConfigureAwait(false);
                return;
            }
            catch (KsctlException e) when (e.Data["GcpCode"] is "resourceInUseByAnotherResource" && _time.GetUtcNow() < until)
            {
                _logger.LogInformation("GCP {What} is still in use; waiting {Delay}.", what, delay);
                await Task.Delay(delay, _time, ct).ConfigureAwait(false);
                delay = client.Timings.Next(delay);
            }
        }
    }

    private async Task DeleteOwnedAsync(GcpRestClient client, GcpNames names, string path, string what, CancellationToken ct)
    {
        if (await client.GetAsync(ComputeUrl(path), what, ct).ConfigureAwait(false) is not { } existing
            || !await DeleteCheckedAsync(client, existing, names, path, what, ct).ConfigureAwait(false))
            _logger.LogInformation("GCP {What} was already gone.", what);
    }

    private async Task<bool> DeleteCheckedAsync(GcpRestClient client, System.Text.Json.Nodes.JsonObject existing, GcpNames names, string path, string what, CancellationToken ct)
    {
        EnsureOwned(existing, names.Cluster, what);
        return await client.DeleteAsync(ComputeUrl(path), Guid.NewGuid().ToString(), $"delete {what}", client.Timings.OperationDeadline, ct).ConfigureAwait(false);
    }
}
