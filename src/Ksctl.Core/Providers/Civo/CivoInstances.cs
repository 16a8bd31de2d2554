using Ksctl.Core.Diagnostics;
using Ksctl.Core.Distributions;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Providers.CloudMachines;
using Ksctl.Core.Remote;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Civo;

/// <summary>
/// One Civo instance of a self-managed cluster: created (found first, by recorded id or by name and the cluster's
/// tag) with a first-boot script that installs the host key Ksctl generated, waited on until ACTIVE through the
/// plan's shared instance list (<see cref="CivoInstanceWatch"/>), reached over SSH pinned to that key, and then given
/// a new host key (<see cref="CivoHostKeyRotation"/>), because Civo returns the script to anyone holding the API key.
/// An instance Civo reports as ERROR fails the step naming it; one that never becomes ACTIVE is KsctlOperationTimeout.
/// </summary>
internal sealed class CivoInstances(Func<CancellationToken, Task<CivoClient>> clients, ILogger logger, TimeProvider time)
{
    private readonly CivoInstanceWatch.PerRegion _watch = new(clients, time);

    public async Task CreateAsync(StepContext ctx, ClusterSpec spec, TopologyNode node, string size, MachineAccess access, CancellationToken ct)
    {
        var client = await clients(ct).ConfigureAwait(false);
        var cluster = spec.Id.Name;
        var region = spec.Id.Region;
        var name = node.ResourceName(cluster);
        var resource = CivoMachines.VmResourcePrefix + node.Key;
        // Both keys are saved before the instance is asked for: a resumed create sends the very same script.
        var hostKey = await CloudMachineKeys.HostKeyAsync(ctx, node.Key, ct).ConfigureAwait(false);
        var login = await CloudMachineKeys.LoginKeyAsync(ctx, ct).ConfigureAwait(false);

        var instance = await CivoSteps.EnsureAsync(ctx, logger, time, resource, $"instance {name}",
            async () =>
            {
                if (CivoSteps.Recorded(ctx, resource) is { } id && await client.GetInstanceAsync(id, region, ct).ConfigureAwait(false) is { } byId
                    && byId.Hostname == name && CivoNames.Carries(byId.Tags, cluster)) return byId;
                return FindOurs(await client.ListInstancesAsync(region, ct).ConfigureAwait(false), cluster, name, region);
            },
            () => client.CreateInstanceAsync(new CivoMachineRequest
            {
                Hostname = name,
                Size = size,
                Region = region,
                NetworkId = CivoSteps.RecordedOrThrow(ctx, CivoMachines.NetworkResource),
                FirewallId = CivoSteps.RecordedOrThrow(ctx, CivoMachines.FirewallResourcePrefix + CivoFirewallRules.Short(node.Role)),
                TemplateId = CivoSteps.RecordedOrThrow(ctx, CivoMachines.ImageResource),
                InitialUser = CivoMachines.User,
                SshKeyId = CivoSteps.RecordedOrThrow(ctx, CivoMachines.SshKeyResource),
                Script = MachineUserData.InitScript(hostKey, login.PublicKey),
                Tags = CivoNames.InstanceTags(cluster, node.Role),
            }, ct),
            i => i.Id, ct,
            (s, id) =>
            {
                var pinned = s.Nodes.FirstOrDefault(n => n.Key == node.Key)?.HostKey;
                s.Nodes.RemoveAll(n => n.Key == node.Key);
                s.Nodes.Add(new NodeState
                {
                    Key = node.Key, Name = name, Role = node.Role, Index = node.Index, Size = size, ResourceId = id,
                    // A resumed create of an instance whose key was already rotated keeps the rotated pin.
                    HostKey = CivoHostKeyRotation.IsRotated(s, node.Key) ? pinned : hostKey.Fingerprint,
                    SshUser = CivoMachines.User, SshPort = 22,
                });
            }).ConfigureAwait(false);

        var active = await WaitActiveAsync(instance.Id, name, region, ct).ConfigureAwait(false);
        var publicIp = CivoEndpoint.Address(active.PublicIp, $"public IP of instance {name}");
        var privateIp = CivoEndpoint.Address(active.PrivateIp, $"private IP of instance {name}");
        ctx.Mutate(s =>
        {
            var n = s.Nodes.First(x => x.Key == node.Key);
            n.PublicIP = publicIp;
            n.PrivateIP = privateIp;
        });
        await ctx.Session.CheckpointAsync().ConfigureAwait(false);

        var rotation = new CivoHostKeyRotation(logger, time);
        var shell = await rotation.FirstConnectAsync(ctx, node.Key, name, access, ct).ConfigureAwait(false);
        var facts = await shell.RunAsync(new RemoteScript("machine:facts", "hostname\n", retries: 1), ct).ConfigureAwait(false);
        ctx.Mutate(s => s.Nodes.First(x => x.Key == node.Key).Hostname = facts.StandardOutput.Trim());
        await rotation.RotateAsync(ctx, node.Key, name, shell, access, ct).ConfigureAwait(false);
    }

    /// <summary>Until Civo lists the instance ACTIVE with both addresses; ERROR fails at once, naming it.</summary>
    private Task<CivoMachine> WaitActiveAsync(string id, string name, string region, CancellationToken ct)
    {
        var watch = _watch.For(region);
        var timeout = CivoTimings.Current.InstanceActive;
        var since = time.GetUtcNow();
        return CivoPolling.UntilAsync(time, timeout, async c =>
            {
                var list = await watch.ListAsync(since, c).ConfigureAwait(false);
                since = time.GetUtcNow();
                if (!list.TryGetValue(id, out var now))
                    throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ObjectNotFound,
                        $"Civo instance {name} ({id}) disappeared while Ksctl waited for it to become ACTIVE; re-run to create it again.", name);
                if (CivoSteps.IsFailed(now.Status))
                    throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult,
                        $"Civo reports instance {name} ({id}) as {now.Status}; it will not become ACTIVE. Delete the cluster (or the instance) and create it again.", name);
                var ready = string.Equals(now.Status, "ACTIVE", StringComparison.OrdinalIgnoreCase) && !string.IsNullOrEmpty(now.PublicIp) && !string.IsNullOrEmpty(now.PrivateIp);
                return (ready, now, now.Status);
            },
            status => $"Civo instance {name} ({id}) was still {status ?? "without addresses"} after {timeout.TotalMinutes:0.#} minutes. Re-run to keep waiting.",
            name, ct);
    }

    /// <summary>The instance named <paramref name="name"/> if it carries this cluster's tag; one without it is someone else's.</summary>
    private static CivoMachine? FindOurs(IEnumerable<CivoMachine> instances, string cluster, string name, string region)
    {
        var named = instances.Where(i => i.Hostname == name).ToList();
        if (named.Count == 0) return null;
        return named.FirstOrDefault(i => CivoNames.Carries(i.Tags, cluster))
            ?? throw new KsctlException("KsctlResourceExists", KsctlErrorCategory.ResourceExists,
                $"A Civo instance named '{name}' already exists in {region} and was not created by Ksctl for cluster '{cluster}' (id {named[0].Id}). Delete it in Civo or choose another -Name.", name);
    }
}
