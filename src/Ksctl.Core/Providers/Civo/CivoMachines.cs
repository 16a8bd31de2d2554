using System.Text.RegularExpressions;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Distributions;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Providers.CloudMachines;
using Ksctl.Core.Remote;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Civo;

/// <summary>
/// The machines of a self-managed cluster on Civo: private network <c>&lt;name&gt;-net</c>, one firewall per role
/// <c>&lt;name&gt;-fw-{lb,db,cp,wp}</c> (<see cref="CivoFirewallRules"/>), the login key <c>&lt;name&gt;-ssh</c>, and one Ubuntu
/// instance <c>&lt;name&gt;-vm-&lt;key&gt;</c> per node, all created in parallel, each with a first-boot script that installs
/// the host key Ksctl generated for it, so SSH is pinned from the first connection.
/// <para>
/// Every id is written to state (and checkpointed) as soon as Civo returns it, before any waiting. A create first looks
/// for what a previous attempt made — by recorded id, else by name (and, for instances, the cluster's tag) — so a lost
/// answer or a re-run never makes a second one. Deletion is the reverse: instances (in parallel) → firewalls → SSH key →
/// network; a 404 means already gone.
/// </para>
/// </summary>
internal sealed class CivoMachines(Func<CancellationToken, Task<CivoClient>> clients, ILogger logger, TimeProvider time)
{
    public const string User = "root";
    internal const string NetworkResource = "civo:network";
    internal const string NetworkCidrResource = "civo:network-cidr";
    internal const string ImageResource = "civo:image";
    internal const string SshKeyResource = "civo:sshkey";
    internal const string FirewallResourcePrefix = "civo:firewall:";
    internal const string VmResourcePrefix = "civo:vm:";
    /// <summary>The private range Ksctl asks for; the network Civo returns is read back and wins.</summary>
    internal const string NetworkCidr = "10.10.0.0/16";
    internal static readonly TimeSpan ActiveTimeout = TimeSpan.FromMinutes(10);
    internal static readonly TimeSpan GoneTimeout = TimeSpan.FromMinutes(10);
    /// <summary>How long an ACTIVE instance may take to run its first-boot script (cloud-init finishing, then the script).</summary>
    internal static readonly TimeSpan FirstBootTimeout = TimeSpan.FromMinutes(5);
    internal static readonly TimeSpan InUseTimeout = TimeSpan.FromMinutes(2);
    private const int CreateAttempts = 6;
    private static readonly NodeRole[] Roles = [NodeRole.LoadBalancer, NodeRole.Datastore, NodeRole.ControlPlane, NodeRole.Worker];
    private static readonly Regex UbuntuVersion = new(@"^\d+(\.\d+)*$", RegexOptions.CultureInvariant);

    public static string NetworkName(string cluster) => $"{cluster}-net";
    public static string SshKeyName(string cluster) => $"{cluster}-ssh";
    public static string FirewallName(string cluster, NodeRole role) => $"{cluster}-fw-{CivoFirewallRules.Short(role)}";
    private static string FirewallStep(NodeRole role) => $"civo:firewall:{CivoFirewallRules.Short(role)}";

    /// <summary>Tags on every instance: Ksctl's, the cluster's (how orphans are found) and the node's role.</summary>
    public static string Tags(string cluster, NodeRole role) => $"{CivoProvider.Tag} {CivoProvider.NameTag(cluster)} ksctl-role-{CivoFirewallRules.Short(role)}";

    // ---------------------------------------------------------------- create

    public IReadOnlyList<PlanStep> CreateSteps(ClusterSpec spec, SelfManagedTopology topology, MachineAccess access)
    {
        var name = spec.Id.Name;
        var region = spec.Id.Region;
        var steps = new List<PlanStep>
        {
            new(NetworkResource, (ctx, ct) => EnsureNetworkAsync(ctx, region, ct))
            {
                Description = $"create the private network {NetworkName(name)} in {region}",
                Resources = [$"civo network {NetworkName(name)}"],
            },
            new(ImageResource, (ctx, ct) => ResolveImageAsync(ctx, region, ct))
            {
                Description = $"find the newest Ubuntu disk image in {region}",
            },
            new(SshKeyResource, (ctx, ct) => EnsureSshKeyAsync(ctx, ct))
            {
                Description = $"upload the generated login key as {SshKeyName(name)}",
                Resources = [$"civo ssh key {SshKeyName(name)}"],
            },
        };
        steps.AddRange(Roles.Select(role => new PlanStep(FirewallStep(role), (ctx, ct) => EnsureFirewallAsync(ctx, region, role, ct))
        {
            DependsOn = [NetworkResource],
            Description = $"create firewall {FirewallName(name, role)} with the {role} rules",
            Resources = [$"civo firewall {FirewallName(name, role)}"],
        }));
        steps.AddRange(topology.All.Select(node =>
        {
            var size = CivoHaSpec.SizeOf(spec, node.Role);
            return new PlanStep(node.MachineStep, (ctx, ct) => CreateMachineAsync(ctx, spec, node, size, access, ct))
            {
                DependsOn = [NetworkResource, ImageResource, SshKeyResource, FirewallStep(node.Role)],
                Description = $"create instance {node.ResourceName(name)} ({size}, Ubuntu, user {User}) and reach it over SSH with its pinned host key",
                Resources = [$"civo instance {node.ResourceName(name)} ({size}, tags {Tags(name, node.Role)})"],
            };
        }));
        return steps;
    }

    private async Task EnsureNetworkAsync(StepContext ctx, string region, CancellationToken ct)
    {
        var client = await clients(ct).ConfigureAwait(false);
        var label = NetworkName(ctx.State.Id.Name);
        var network = await EnsureAsync(ctx, NetworkResource, $"network {label}",
            async () =>
            {
                if (Recorded(ctx, NetworkResource) is { } id && await client.GetNetworkAsync(id, region, ct).ConfigureAwait(false) is { } byId) return byId;
                return (await client.ListNetworksAsync(region, ct).ConfigureAwait(false)).FirstOrDefault(n => n.Label == label && !n.Default);
            },
            async () =>
            {
                var created = await client.CreateNetworkAsync(new CivoNetworkRequest { Label = label, Region = region, CidrV4 = NetworkCidr }, ct).ConfigureAwait(false);
                return new CivoNetwork { Id = Require(created.Id, "network"), Label = label };
            },
            n => n.Id, ct).ConfigureAwait(false);
        // The CIDR the firewalls open to: what Civo says the network has (a re-read: the create answer carries no CIDR).
        var cidr = network.Cidr ?? (await client.GetNetworkAsync(network.Id, region, ct).ConfigureAwait(false))?.Cidr ?? NetworkCidr;
        ctx.Mutate(s => s.Resources[NetworkCidrResource] = cidr);
    }

    private async Task ResolveImageAsync(StepContext ctx, string region, CancellationToken ct)
    {
        var client = await clients(ct).ConfigureAwait(false);
        var images = await client.ListDiskImagesAsync(region, ct).ConfigureAwait(false);
        // A resize or a resumed create keeps the image the cluster started with while Civo still offers it.
        var recorded = Recorded(ctx, ImageResource);
        var ubuntu = images.FirstOrDefault(i => i.Id == recorded) ?? images
            .Where(i => string.Equals(i.Distribution, "ubuntu", StringComparison.OrdinalIgnoreCase) || i.Name.StartsWith("ubuntu-", StringComparison.OrdinalIgnoreCase))
            .Where(i => i.State is null || string.Equals(i.State, "available", StringComparison.OrdinalIgnoreCase))
            .Where(i => i.Version is not null && UbuntuVersion.IsMatch(i.Version))
            .OrderByDescending(i => Version.Parse(i.Version!.Contains('.') ? i.Version : i.Version + ".0"))
            .FirstOrDefault()
            ?? throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ObjectNotFound,
                $"Civo lists no available Ubuntu disk image in {region} (images: {string.Join(", ", images.Select(i => i.Name))}).", region);
        logger.LogInformation("Civo instances of {Cluster} use disk image {Image} ({Version}).", ctx.State.Id.Name, ubuntu.Name, ubuntu.Version);
        ctx.Mutate(s =>
        {
            s.Resources[ImageResource] = ubuntu.Id;
            s.Resources["civo:image-name"] = ubuntu.Name;
        });
    }

    private async Task EnsureSshKeyAsync(StepContext ctx, CancellationToken ct)
    {
        var client = await clients(ct).ConfigureAwait(false);
        var login = await CloudMachineKeys.LoginKeyAsync(ctx, ct).ConfigureAwait(false);
        var name = SshKeyName(ctx.State.Id.Name);
        await EnsureAsync(ctx, SshKeyResource, $"SSH key {name}",
            async () =>
            {
                var keys = await client.ListSshKeysAsync(ct).ConfigureAwait(false);
                var recorded = Recorded(ctx, SshKeyResource);
                var key = keys.FirstOrDefault(k => k.Id == recorded) ?? keys.FirstOrDefault(k => k.Name == name);
                // A key of that name with another fingerprint is someone else's: instances made with it would lock Ksctl out.
                if (key?.Fingerprint is { } fp && fp.StartsWith("SHA256:", StringComparison.Ordinal) && fp != login.Fingerprint)
                    throw new KsctlException("KsctlResourceExists", KsctlErrorCategory.ResourceExists,
                        $"Civo already has an SSH key named '{name}' ({fp}) that is not this cluster's login key ({login.Fingerprint}). Delete it in Civo or choose another -Name.", name);
                return key;
            },
            async () =>
            {
                var created = await client.CreateSshKeyAsync(new CivoSshKeyRequest { Name = name, PublicKey = login.PublicKey }, ct).ConfigureAwait(false);
                return new CivoSshKey { Id = Require(created.Id, "SSH key"), Name = name };
            },
            k => k.Id, ct).ConfigureAwait(false);
    }

    private async Task EnsureFirewallAsync(StepContext ctx, string region, NodeRole role, CancellationToken ct)
    {
        var client = await clients(ct).ConfigureAwait(false);
        var cluster = ctx.State.Id.Name;
        var name = FirewallName(cluster, role);
        var resource = FirewallResourcePrefix + CivoFirewallRules.Short(role);
        var networkId = RecordedOrThrow(ctx, NetworkResource);
        var firewall = await EnsureAsync(ctx, resource, $"firewall {name}",
            async () =>
            {
                var all = await client.ListFirewallsAsync(region, ct).ConfigureAwait(false);
                var recorded = Recorded(ctx, resource);
                var found = all.FirstOrDefault(f => f.Id == recorded) ?? all.FirstOrDefault(f => f.Name == name);
                if (found is not null && found.NetworkId is not null && found.NetworkId != networkId)
                    throw new KsctlException("KsctlResourceExists", KsctlErrorCategory.ResourceExists,
                        $"A Civo firewall named '{name}' already exists in {region} on another network ({found.NetworkId}); it is not this cluster's. Delete it in Civo or choose another -Name.", name);
                return found;
            },
            async () =>
            {
                var created = await client.CreateFirewallAsync(new CivoFirewallRequest { Name = name, NetworkId = networkId, Region = region, CreateRules = false }, ct).ConfigureAwait(false);
                return new CivoFirewall { Id = Require(created.Id, "firewall"), Name = name, NetworkId = networkId };
            },
            f => f.Id, ct).ConfigureAwait(false);

        // Rules: add the missing ones by label. Each POST may be applied even when its answer is lost, so look again before retrying.
        var cidr = ctx.Session.Read(s => s.Resources.GetValueOrDefault(NetworkCidrResource)) ?? NetworkCidr;
        var present = await RuleLabelsAsync(client, firewall.Id, region, ct).ConfigureAwait(false);
        foreach (var rule in CivoFirewallRules.For(role, cidr).Where(r => !present.Contains(r.Label)))
        {
            rule.Region = region;
            rule.FirewallId = firewall.Id;
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await client.CreateFirewallRuleAsync(firewall.Id, rule, ct).ConfigureAwait(false);
                    break;
                }
                catch (CivoTransientException e) when (attempt < CreateAttempts)
                {
                    await BackOffAsync(attempt, $"rule {rule.Label} of firewall {name}", e, ct).ConfigureAwait(false);
                    if ((await RuleLabelsAsync(client, firewall.Id, region, ct).ConfigureAwait(false)).Contains(rule.Label)) break;
                }
                catch (CivoTransientException e)
                {
                    throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ResourceUnavailable, e.Message, "Civo", e);
                }
            }
        }
    }

    private static async Task<HashSet<string>> RuleLabelsAsync(CivoClient client, string firewallId, string region, CancellationToken ct) =>
        (await client.ListFirewallRulesAsync(firewallId, region, ct).ConfigureAwait(false)).Select(r => r.Label).ToHashSet(StringComparer.Ordinal);

    private async Task CreateMachineAsync(StepContext ctx, ClusterSpec spec, TopologyNode node, string size, MachineAccess access, CancellationToken ct)
    {
        var client = await clients(ct).ConfigureAwait(false);
        var cluster = spec.Id.Name;
        var region = spec.Id.Region;
        var name = node.ResourceName(cluster);
        var resource = VmResourcePrefix + node.Key;
        // Both keys are saved before the instance is asked for: a resumed create sends the very same script.
        var hostKey = await CloudMachineKeys.HostKeyAsync(ctx, node.Key, ct).ConfigureAwait(false);
        var login = await CloudMachineKeys.LoginKeyAsync(ctx, ct).ConfigureAwait(false);

        var instance = await EnsureAsync(ctx, resource, $"instance {name}",
            async () =>
            {
                if (Recorded(ctx, resource) is { } id && await client.GetInstanceAsync(id, region, ct).ConfigureAwait(false) is { } byId) return byId;
                return FindOurs(await client.ListInstancesAsync(region, ct).ConfigureAwait(false), cluster, name, region);
            },
            () => client.CreateInstanceAsync(new CivoMachineRequest
            {
                Hostname = name,
                Size = size,
                Region = region,
                NetworkId = RecordedOrThrow(ctx, NetworkResource),
                FirewallId = RecordedOrThrow(ctx, FirewallResourcePrefix + CivoFirewallRules.Short(node.Role)),
                TemplateId = RecordedOrThrow(ctx, ImageResource),
                InitialUser = User,
                SshKeyId = RecordedOrThrow(ctx, SshKeyResource),
                Script = MachineUserData.InitScript(hostKey, login.PublicKey),
                Tags = Tags(cluster, node.Role),
            }, ct),
            i => i.Id, ct,
            (s, id) =>
            {
                s.Nodes.RemoveAll(n => n.Key == node.Key);
                s.Nodes.Add(new NodeState
                {
                    Key = node.Key, Name = name, Role = node.Role, Index = node.Index, Size = size, ResourceId = id,
                    HostKey = hostKey.Fingerprint, SshUser = User, SshPort = 22,
                });
            }).ConfigureAwait(false);

        var active = await CivoPolling.UntilAsync(time, ActiveTimeout, async c =>
            {
                var now = await client.GetInstanceAsync(instance.Id, region, c).ConfigureAwait(false)
                    ?? throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ObjectNotFound,
                        $"Civo instance {name} ({instance.Id}) disappeared while Ksctl waited for it to become ACTIVE; re-run to create it again.", name);
                if (now.Status?.Contains("ERROR", StringComparison.OrdinalIgnoreCase) == true || now.Status?.Contains("FAIL", StringComparison.OrdinalIgnoreCase) == true)
                    throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult, $"Civo reports instance {name} ({instance.Id}) as {now.Status}.", name);
                var ready = string.Equals(now.Status, "ACTIVE", StringComparison.OrdinalIgnoreCase) && !string.IsNullOrEmpty(now.PublicIp) && !string.IsNullOrEmpty(now.PrivateIp);
                return (ready, now, now.Status);
            },
            status => $"Civo instance {name} ({instance.Id}) was still {status ?? "without addresses"} after {ActiveTimeout.TotalMinutes:0} minutes. Re-run to keep waiting.",
            name, ct).ConfigureAwait(false);

        ctx.Mutate(s =>
        {
            var n = s.Nodes.First(x => x.Key == node.Key);
            n.PublicIP = active.PublicIp;
            n.PrivateIP = active.PrivateIp;
        });
        await ctx.Session.CheckpointAsync().ConfigureAwait(false);

        var remote = ctx.Session.Read(s => CloudMachineKeys.Connection(s, s.Nodes.First(x => x.Key == node.Key)));
        var shell = await FirstConnectAsync(ctx, node.Key, name, remote, access, ct).ConfigureAwait(false);
        var facts = await shell.RunAsync(new RemoteScript("machine:facts", "hostname\n", retries: 1), ct).ConfigureAwait(false);
        ctx.Mutate(s => s.Nodes.First(x => x.Key == node.Key).Hostname = facts.StandardOutput.Trim());
    }

    /// <summary>
    /// The first SSH connection to a new instance, pinned to the host key Ksctl generated. Civo runs the first-boot
    /// script at the end of cloud-init, after sshd has started with keys the image made: an instance that is already
    /// ACTIVE may for a while present another host key (or not yet accept the login key). Nothing is run and nothing is
    /// trusted then; Ksctl waits for the pinned key, and only if it never appears within <see cref="FirstBootTimeout"/>
    /// does the mismatch surface as the security error it is.
    /// </summary>
    private async Task<IRemoteShell> FirstConnectAsync(StepContext ctx, string key, string name, RemoteMachine remote, MachineAccess access, CancellationToken ct)
    {
        var deadline = time.GetUtcNow() + FirstBootTimeout;
        var delay = TimeSpan.FromSeconds(1);
        while (true)
        {
            try
            {
                return await access.ShellAsync(ctx, key, remote, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HostKeyMismatchException or RemoteAuthenticationException && time.GetUtcNow() + delay < deadline)
            {
                logger.LogInformation("Civo instance {Name} does not present its pinned host key and login yet (its first-boot script has not run): {Reason}; trying again in {Delay} s.",
                    name, e.Message, (int)delay.TotalSeconds);
                await Task.Delay(delay, time, ct).ConfigureAwait(false);
                delay = TimeSpan.FromMilliseconds(Math.Min(10_000, delay.TotalMilliseconds * 1.5));
            }
        }
    }

    /// <summary>The instance named <paramref name="name"/> if it carries this cluster's tag; one without it is someone else's.</summary>
    private static CivoMachine? FindOurs(IEnumerable<CivoMachine> instances, string cluster, string name, string region)
    {
        var named = instances.Where(i => i.Hostname == name).ToList();
        if (named.Count == 0) return null;
        return named.FirstOrDefault(i => i.Tags?.Contains(CivoProvider.NameTag(cluster)) == true)
            ?? throw new KsctlException("KsctlResourceExists", KsctlErrorCategory.ResourceExists,
                $"A Civo instance named '{name}' already exists in {region} and was not created by Ksctl for cluster '{cluster}' (id {named[0].Id}). Delete it in Civo or choose another -Name.", name);
    }

    /// <summary>
    /// Find-or-create for one resource: look (recorded id, else name); if absent, create and record the id at once
    /// (with <paramref name="alsoRecord"/> in the same state change) and checkpoint. A create whose answer is lost
    /// (5xx, dropped connection) may still have been applied, so the next attempt looks first.
    /// </summary>
    private async Task<T> EnsureAsync<T>(StepContext ctx, string resource, string what, Func<Task<T?>> find, Func<Task<T>> create, Func<T, string> idOf,
        CancellationToken ct, Action<ClusterState, string>? alsoRecord = null) where T : class
    {
        for (var attempt = 1; ; attempt++)
        {
            var existing = await find().ConfigureAwait(false);
            if (existing is not null)
            {
                if (Recorded(ctx, resource) != idOf(existing)) logger.LogInformation("Civo {What} already exists ({Id}); adopting it.", what, idOf(existing));
                await RecordAsync(ctx, resource, idOf(existing), alsoRecord).ConfigureAwait(false);
                return existing;
            }
            try
            {
                logger.LogInformation("Creating Civo {What}.", what);
                var created = await create().ConfigureAwait(false);
                await RecordAsync(ctx, resource, idOf(created), alsoRecord).ConfigureAwait(false);
                return created;
            }
            catch (CivoTransientException e) when (attempt < CreateAttempts)
            {
                await BackOffAsync(attempt, what, e, ct).ConfigureAwait(false);
            }
            catch (CivoTransientException e)
            {
                throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ResourceUnavailable, e.Message, "Civo", e);
            }
        }
    }

    private async Task BackOffAsync(int attempt, string what, Exception e, CancellationToken ct)
    {
        var wait = CivoClient.Backoff(attempt);
        logger.LogWarning("Creating Civo {What}: {Error}; checking again in {Delay} ms.", what, e.Message, (int)wait.TotalMilliseconds);
        await Task.Delay(wait, time, ct).ConfigureAwait(false);
    }

    private static async Task RecordAsync(StepContext ctx, string resource, string id, Action<ClusterState, string>? alsoRecord)
    {
        ctx.Mutate(s =>
        {
            s.Resources[resource] = id;
            alsoRecord?.Invoke(s, id);
        });
        await ctx.Session.CheckpointAsync().ConfigureAwait(false);
    }

    private static string? Recorded(StepContext ctx, string resource) => ctx.Session.Read(s => s.Resources.GetValueOrDefault(resource));

    private static string RecordedOrThrow(StepContext ctx, string resource) => Recorded(ctx, resource)
        ?? throw new KsctlException("KsctlStateInconsistent", KsctlErrorCategory.InvalidData,
            $"No {resource} id is recorded for '{ctx.State.Id.Name}'; re-run the create to find or create it.", ctx.State.Id.Name);

    private static string Require(string? id, string what) => !string.IsNullOrEmpty(id) ? id
        : throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult, $"Civo created a {what} but returned no id.", "Civo");

    // ---------------------------------------------------------------- delete

    /// <summary>
    /// Deletes the instances of <paramref name="state"/>'s nodes. When those are all the instances the cluster has (a
    /// whole-cluster delete, or a create that failed early), also every other instance tagged for the cluster, then the
    /// firewalls, the SSH key and the network. A scale-down passes only the removed workers: the shared resources stay.
    /// </summary>
    /// <summary>Every instance (recorded, or a node whose record was lost), then the shared resources.</summary>
    public IReadOnlyList<PlanStep> DeleteSteps(ClusterState state)
    {
        var cluster = state.Id.Name;
        var region = state.Id.Region;
        var recorded = state.Resources.Keys.Where(k => k.StartsWith(VmResourcePrefix, StringComparison.Ordinal)).Select(k => k[VmResourcePrefix.Length..]);
        var steps = RemoveSteps(state, state.Nodes.Where(n => n.Key is not null).Select(n => n.Key!).Union(recorded)).ToList();
        var vmSteps = steps.Select(s => s.Name).ToArray();
        steps.Add(new PlanStep("civo:delete:vm-tagged", (ctx, ct) => DeleteTaggedMachinesAsync(ctx, region, ct))
        {
            DependsOn = vmSteps,
            Description = $"delete any other instance tagged {CivoProvider.NameTag(cluster)} (made by an attempt whose answer was lost)",
        });
        var firewallSteps = Roles.Select(role => new PlanStep($"civo:delete:firewall-{CivoFirewallRules.Short(role)}", (ctx, ct) => DeleteFirewallAsync(ctx, region, role, ct))
        {
            DependsOn = ["civo:delete:vm-tagged"],
            Description = $"delete firewall {FirewallName(cluster, role)}",
            Resources = [$"civo firewall {FirewallName(cluster, role)}"],
        }).ToList();
        steps.AddRange(firewallSteps);
        var afterFirewalls = firewallSteps.Select(s => s.Name).ToArray();
        steps.Add(new PlanStep("civo:delete:sshkey", (ctx, ct) => DeleteSshKeyAsync(ctx, ct))
        {
            DependsOn = afterFirewalls,
            Description = $"delete SSH key {SshKeyName(cluster)}",
            Resources = [$"civo ssh key {SshKeyName(cluster)}"],
        });
        steps.Add(new PlanStep("civo:delete:network", (ctx, ct) => DeleteNetworkAsync(ctx, region, ct))
        {
            DependsOn = ["civo:delete:sshkey"],
            Description = $"delete network {NetworkName(cluster)}",
            Resources = [$"civo network {NetworkName(cluster)}"],
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
            Description = $"delete instance {cluster}-vm-{key} and wait until it is gone",
            Resources = [$"civo instance {cluster}-vm-{key} ({state.Resources.GetValueOrDefault(VmResourcePrefix + key) ?? "found by name"})"],
        }).ToArray();
    }

    private async Task DeleteMachineAsync(StepContext ctx, string region, string key, CancellationToken ct)
    {
        var client = await clients(ct).ConfigureAwait(false);
        var cluster = ctx.State.Id.Name;
        var name = $"{cluster}-vm-{key}";
        var ids = new HashSet<string>(StringComparer.Ordinal);
        if (Recorded(ctx, VmResourcePrefix + key) is { } recorded) ids.Add(recorded);
        // Also by name: an instance whose create answer was lost is not recorded.
        foreach (var i in (await client.ListInstancesAsync(region, ct).ConfigureAwait(false)).Where(i => i.Hostname == name && i.Tags?.Contains(CivoProvider.NameTag(cluster)) == true))
            ids.Add(i.Id);
        foreach (var id in ids) await DeleteInstanceAndWaitAsync(client, region, id, name, ct).ConfigureAwait(false);
        ctx.Mutate(s =>
        {
            s.Resources.Remove(VmResourcePrefix + key);
            s.Nodes.RemoveAll(n => n.Key == key);
            CloudMachineKeys.ForgetHostKey(s, key);
        });
    }

    private async Task DeleteTaggedMachinesAsync(StepContext ctx, string region, CancellationToken ct)
    {
        var client = await clients(ct).ConfigureAwait(false);
        var tag = CivoProvider.NameTag(ctx.State.Id.Name);
        var left = (await client.ListInstancesAsync(region, ct).ConfigureAwait(false)).Where(i => i.Tags?.Contains(tag) == true).ToList();
        await Task.WhenAll(left.Select(i => DeleteInstanceAndWaitAsync(client, region, i.Id, i.Hostname ?? i.Id, ct))).ConfigureAwait(false);
        ctx.Mutate(s =>
        {
            foreach (var k in s.Resources.Keys.Where(k => k.StartsWith(VmResourcePrefix, StringComparison.Ordinal)).ToList()) s.Resources.Remove(k);
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
        await CivoPolling.UntilAsync<bool>(time, GoneTimeout, async c =>
            {
                var now = await client.GetInstanceAsync(id, region, c).ConfigureAwait(false);
                return (now is null, true, now?.Status);
            },
            status => $"Civo instance {name} ({id}) was still {status} {GoneTimeout.TotalMinutes:0} minutes after its deletion. Re-run the delete to keep waiting.",
            name, ct).ConfigureAwait(false);
    }

    private async Task DeleteFirewallAsync(StepContext ctx, string region, NodeRole role, CancellationToken ct)
    {
        var client = await clients(ct).ConfigureAwait(false);
        var name = FirewallName(ctx.State.Id.Name, role);
        var resource = FirewallResourcePrefix + CivoFirewallRules.Short(role);
        var network = Recorded(ctx, NetworkResource);
        var recorded = Recorded(ctx, resource);
        var ids = (await client.ListFirewallsAsync(region, ct).ConfigureAwait(false))
            .Where(f => f.Id == recorded || (f.Name == name && (network is null || f.NetworkId == network)))
            .Select(f => f.Id).ToList();
        foreach (var id in ids)
            if (!await WhileInUseAsync(() => client.DeleteFirewallAsync(id, region, ct), $"firewall {name}", ct).ConfigureAwait(false))
                logger.LogInformation("Civo firewall {Name} ({Id}) was already gone.", name, id);
        ctx.Mutate(s => s.Resources.Remove(resource));
    }

    /// <summary>
    /// Runs a delete that Civo may refuse with 409 "in use" for a while after the instances using the resource are gone
    /// (detaching lags behind): retried with growing delays until <see cref="InUseTimeout"/>, then the refusal surfaces.
    /// </summary>
    private async Task<bool> WhileInUseAsync(Func<Task<bool>> delete, string what, CancellationToken ct)
    {
        var deadline = time.GetUtcNow() + InUseTimeout;
        var delay = TimeSpan.FromMilliseconds(500);
        while (true)
        {
            try
            {
                return await delete().ConfigureAwait(false);
            }
            catch (KsctlException e) when (e.Category == KsctlErrorCategory.ResourceExists && time.GetUtcNow() + delay < deadline)
            {
                logger.LogInformation("Civo refuses to delete {What} while it is in use ({Reason}); trying again in {Delay} ms.", what, e.Message, (int)delay.TotalMilliseconds);
                await Task.Delay(delay, time, ct).ConfigureAwait(false);
                delay = TimeSpan.FromMilliseconds(Math.Min(10_000, delay.TotalMilliseconds * 1.5));
            }
        }
    }

    private async Task DeleteSshKeyAsync(StepContext ctx, CancellationToken ct)
    {
        var client = await clients(ct).ConfigureAwait(false);
        var name = SshKeyName(ctx.State.Id.Name);
        var recorded = Recorded(ctx, SshKeyResource);
        foreach (var key in (await client.ListSshKeysAsync(ct).ConfigureAwait(false)).Where(k => k.Id == recorded || (recorded is null && k.Name == name)))
            if (!await client.DeleteSshKeyAsync(key.Id, ct).ConfigureAwait(false)) logger.LogInformation("Civo SSH key {Name} was already gone.", name);
        ctx.Mutate(s => s.Resources.Remove(SshKeyResource));
    }

    private async Task DeleteNetworkAsync(StepContext ctx, string region, CancellationToken ct)
    {
        var client = await clients(ct).ConfigureAwait(false);
        var label = NetworkName(ctx.State.Id.Name);
        var recorded = Recorded(ctx, NetworkResource);
        foreach (var network in (await client.ListNetworksAsync(region, ct).ConfigureAwait(false)).Where(n => !n.Default && (n.Id == recorded || (recorded is null && n.Label == label))))
            if (!await WhileInUseAsync(() => client.DeleteNetworkAsync(network.Id, region, ct), $"network {label}", ct).ConfigureAwait(false))
                logger.LogInformation("Civo network {Name} was already gone.", label);
        ctx.Mutate(s =>
        {
            s.Resources.Remove(NetworkResource);
            s.Resources.Remove(NetworkCidrResource);
            s.Resources.Remove(ImageResource);
            s.Resources.Remove("civo:image-name");
        });
    }
}
