using System.Security.Cryptography;
using System.Text;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Distributions;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Providers.CloudMachines;
using Ksctl.Core.Remote;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Azure;

/// <summary>
/// Self-managed HA clusters on Azure VMs: resource group ksctl-resgrp-selfmanaged-&lt;name&gt;, VNet 10.1.0.0/16 with
/// one subnet, one NSG per role, and per node a public IP, a NIC and an Ubuntu 24.04 VM (user azureuser) whose
/// cloud-init customData installs the host key Ksctl generated for it — so the key is pinned from the first SSH
/// connection. VMs are created in parallel (one plan step per node); the distribution's bootstrap then runs unchanged.
/// </summary>
internal sealed partial class AzureProvider : ISelfManagedProvider
{
    public bool KeepsMachines => false;

    public RemoteMachine Connection(ClusterState state, NodeState node) => CloudMachineKeys.Connection(state, node);

    internal static readonly NodeRole[] Roles = [NodeRole.LoadBalancer, NodeRole.Datastore, NodeRole.ControlPlane, NodeRole.Worker];

    internal static string SizeOf(ClusterSpec spec, NodeRole role) => role switch
    {
        NodeRole.LoadBalancer => spec.LoadBalancerSize!,
        NodeRole.Datastore => spec.EtcdSize!,
        NodeRole.ControlPlane => spec.ControlPlaneSize!,
        _ => spec.WorkerSize!,
    };

    internal static string NsgStep(NodeRole role) => AzureResourceKeys.SecurityGroup(role);

    public IReadOnlyList<PlanStep> MachineSteps(ClusterSpec spec, SelfManagedTopology topology, MachineAccess access)
    {
        var id = spec.Id;
        var name = id.Name;
        var group = AzureNames.ResourceGroupName(id);
        var steps = new List<PlanStep>
        {
            GroupStep(id),
            new(AzureResourceKeys.Network, (ctx, ct) => PutSharedAsync(ctx, AzureResourceKeys.Network, n => n.NetworkId, AzureBodies.Network(id), $"virtual network {AzureNames.NetworkName(name)}", ct))
            {
                DependsOn = [AzureResourceKeys.ResourceGroup],
                Description = $"create virtual network {AzureNames.NetworkName(name)} ({AzureBodies.VnetPrefix}) with subnet {AzureNames.SubnetName(name)} ({AzureBodies.SubnetPrefix})",
                Resources = [$"virtual network {AzureNames.NetworkName(name)} {AzureBodies.VnetPrefix}, subnet {AzureNames.SubnetName(name)} {AzureBodies.SubnetPrefix} (in {group})"],
                IsAlreadyDone = (ctx, ct) => ProvisionedAsync(ctx, AzureResourceKeys.Network, AzureApiVersions.Network, ct),
            },
        };
        // All four NSGs exist even with no workers, so that a later resize only adds machines.
        foreach (var role in Roles)
        {
            var nsg = AzureNames.SecurityGroupName(name, role);
            var rules = AzureBodies.RulesFor(role);
            steps.Add(new PlanStep(NsgStep(role), (ctx, ct) => PutSharedAsync(ctx, NsgStep(role), n => n.SecurityGroupId(role), AzureBodies.SecurityGroup(id, role), $"network security group {nsg}", ct))
            {
                DependsOn = [AzureResourceKeys.ResourceGroup],
                Description = $"create network security group {nsg} for the {role} machines",
                Resources = [$"network security group {nsg}: inbound TCP {string.Join(", ", rules.Select(r => $"{r.Ports} from {(r.Source == "*" ? "anywhere" : r.Source)}"))}"],
                IsAlreadyDone = (ctx, ct) => ProvisionedAsync(ctx, NsgStep(role), AzureApiVersions.Network, ct),
            });
        }
        foreach (var node in topology.All)
        {
            var vm = AzureNames.VmName(name, node);
            var size = SizeOf(spec, node.Role);
            steps.Add(new PlanStep(node.MachineStep, (ctx, ct) => CreateMachineAsync(ctx, spec, node, access, ct))
            {
                DependsOn = [AzureResourceKeys.Network, NsgStep(node.Role)],
                Description = $"create VM {vm} ({size}, Ubuntu 24.04, user {AzureBodies.AdminUser}) with its public IP and NIC; its generated host key is installed by cloud-init and pinned",
                Resources =
                [
                    $"virtual machine {vm}: {size}, Ubuntu 24.04 LTS, 30 GB StandardSSD OS disk {AzureNames.OsDiskName(vm)}",
                    $"public IP {AzureNames.PublicIpName(vm)} (Standard, static)",
                    $"network interface {AzureNames.NicName(vm)} in {AzureNames.SubnetName(name)}, NSG {AzureNames.SecurityGroupName(name, node.Role)}",
                ],
            });
        }
        return steps;
    }

    /// <summary>Every machine (recorded, or a node whose record was lost), then NSGs, network and group.</summary>
    public IReadOnlyList<PlanStep> MachineDeleteSteps(ClusterState state)
    {
        var recorded = state.Resources.Keys.Where(k => k.StartsWith("azure:vm:", StringComparison.Ordinal) || k.StartsWith("azure:nic:", StringComparison.Ordinal) || k.StartsWith("azure:pip:", StringComparison.Ordinal))
            .Select(k => k[(k.IndexOf(':', 6) + 1)..]);
        return DeleteMachinesSteps(state, state.Nodes.Where(n => n.Key is not null).Select(n => n.Key!).Union(recorded), whole: true);
    }

    /// <summary>Just these machines (a resize down): the network, NSGs and group stay.</summary>
    public IReadOnlyList<PlanStep> RemoveMachineSteps(ClusterState state, IReadOnlyList<NodeState> nodes) =>
        DeleteMachinesSteps(state, nodes.Select(n => n.Key!), whole: false);

    private IReadOnlyList<PlanStep> DeleteMachinesSteps(ClusterState state, IEnumerable<string> nodeKeys, bool whole)
    {
        var keys = nodeKeys.Distinct(StringComparer.Ordinal).OrderBy(k => k, StringComparer.Ordinal).ToList();
        var name = state.Id.Name;
        // Every recorded id is checked before the first request; each step's Resources are the exact ids it deletes.
        var steps = new List<PlanStep> { AzureRecordedIds.VerifyStep(state) };
        string[] verified = [AzureRecordedIds.StepName];
        var nicSteps = new List<string>();
        var all = new List<string>();
        foreach (var key in keys)
        {
            var vm = $"{name}-vm-{key}";
            var vmStep = $"azure:delete-vm:{key}";
            var nicStep = $"azure:delete-nic:{key}";
            var pipStep = $"azure:delete-pip:{key}";
            steps.Add(new PlanStep(vmStep, async (ctx, ct) =>
            {
                await DeleteRecordedAsync(ctx, AzureResourceKeys.Vm(key), AzureApiVersions.Compute, ResourceTimeout, ct).ConfigureAwait(false);
                ctx.Mutate(s =>
                {
                    // A re-created node is a new machine: it gets a new host key and hostname.
                    CloudMachineKeys.ForgetHostKey(s, key);
                    s.Resources.Remove(AzureResourceKeys.Hostname(key));
                });
            })
            {
                DependsOn = verified,
                Description = $"delete VM {vm} (its OS disk {AzureNames.OsDiskName(vm)} goes with it)",
                Resources = AzureRecordedIds.ForDisplay(state, AzureResourceKeys.Vm(key)),
            });
            steps.Add(new PlanStep(nicStep, (ctx, ct) => DeleteRecordedAsync(ctx, AzureResourceKeys.Nic(key), AzureApiVersions.Network, ResourceTimeout, ct))
            {
                DependsOn = [vmStep],
                Description = $"delete network interface {AzureNames.NicName(vm)}",
                Resources = AzureRecordedIds.ForDisplay(state, AzureResourceKeys.Nic(key)),
            });
            steps.Add(new PlanStep(pipStep, (ctx, ct) => DeleteRecordedAsync(ctx, AzureResourceKeys.PublicIp(key), AzureApiVersions.Network, ResourceTimeout, ct))
            {
                DependsOn = [nicStep],
                Description = $"delete public IP {AzureNames.PublicIpName(vm)}",
                Resources = AzureRecordedIds.ForDisplay(state, AzureResourceKeys.PublicIp(key)),
            });
            nicSteps.Add(nicStep);
            all.AddRange([vmStep, nicStep, pipStep]);
        }
        all.Add(AzureRecordedIds.StepName);
        if (!whole) return steps;
        foreach (var role in Roles)
        {
            var step = $"azure:delete-nsg:{AzureNames.RoleSuffix(role)}";
            var nsg = AzureNames.SecurityGroupName(name, role);
            steps.Add(new PlanStep(step, (ctx, ct) => DeleteRecordedAsync(ctx, NsgStep(role), AzureApiVersions.Network, ResourceTimeout, ct))
            {
                DependsOn = [.. nicSteps, .. verified],
                Description = $"delete network security group {nsg}",
                Resources = AzureRecordedIds.ForDisplay(state, NsgStep(role)),
            });
            all.Add(step);
        }
        steps.Add(new PlanStep("azure:delete-network", (ctx, ct) => DeleteRecordedAsync(ctx, AzureResourceKeys.Network, AzureApiVersions.Network, ResourceTimeout, ct))
        {
            DependsOn = [.. nicSteps, .. verified],
            Description = $"delete virtual network {AzureNames.NetworkName(name)}",
            Resources = AzureRecordedIds.ForDisplay(state, AzureResourceKeys.Network),
        });
        all.Add("azure:delete-network");
        steps.Add(DeleteGroupStep(state, all));
        return steps;
    }

    /// <summary>PUT of a cluster-wide resource (network, NSG): id recorded first, then created or confirmed.</summary>
    private async Task PutSharedAsync(StepContext ctx, string key, Func<AzureNames, string> idOf, System.Text.Json.Nodes.JsonObject body, string what, CancellationToken ct)
    {
        var (client, names) = await SessionAsync(ctx, ct).ConfigureAwait(false);
        var id = idOf(names);
        await RecordAsync(ctx, key, id).ConfigureAwait(false);
        await client.PutAsync(id, AzureApiVersions.Network, body, what, ResourceTimeout, ct).ConfigureAwait(false);
    }

    private async Task CreateMachineAsync(StepContext ctx, ClusterSpec spec, TopologyNode node, MachineAccess access, CancellationToken ct)
    {
        var id = spec.Id;
        var (client, names) = await SessionAsync(ctx, ct).ConfigureAwait(false);
        var vm = AzureNames.VmName(id.Name, node);
        var size = SizeOf(spec, node.Role);
        // Keys and the computer name are saved in state before any PUT: a resumed create sends the same VM body.
        var login = await CloudMachineKeys.LoginKeyAsync(ctx, ct).ConfigureAwait(false);
        var hostKey = await CloudMachineKeys.HostKeyAsync(ctx, node.Key, ct).ConfigureAwait(false);
        var computerName = await ComputerNameAsync(ctx, vm, node.Key).ConfigureAwait(false);

        var pipId = names.PublicIpId(vm);
        await RecordAsync(ctx, AzureResourceKeys.PublicIp(node.Key), pipId).ConfigureAwait(false);
        await client.PutAsync(pipId, AzureApiVersions.Network, AzureBodies.PublicIp(id), $"public IP {AzureNames.PublicIpName(vm)}", ResourceTimeout, ct).ConfigureAwait(false);

        var nicId = names.NicId(vm);
        await RecordAsync(ctx, AzureResourceKeys.Nic(node.Key), nicId).ConfigureAwait(false);
        await client.PutAsync(nicId, AzureApiVersions.Network, AzureBodies.Nic(id, names.SubnetId, pipId, names.SecurityGroupId(node.Role)),
            $"network interface {AzureNames.NicName(vm)}", ResourceTimeout, ct).ConfigureAwait(false);

        var vmId = names.VmId(vm);
        await RecordAsync(ctx, AzureResourceKeys.Vm(node.Key), vmId).ConfigureAwait(false);
        var customData = Convert.ToBase64String(Encoding.UTF8.GetBytes(MachineUserData.CloudConfig(hostKey, AzureBodies.AdminUser, login.PublicKey)));
        _logger.LogInformation("Creating VM {Vm} ({Size}); host key {Fingerprint} is installed by cloud-init.", vm, size, hostKey.Fingerprint);
        await client.PutAsync(vmId, AzureApiVersions.Compute, AzureBodies.VirtualMachine(id, vm, computerName, size, nicId, login.PublicKey, customData),
            $"VM {vm} ({size})", ResourceTimeout, ct).ConfigureAwait(false);

        // The addresses are read once the VM runs: the NIC's private address and the public IP's address.
        var nic = await client.GetAsync(nicId, AzureApiVersions.Network, ct).ConfigureAwait(false);
        var pip = await client.GetAsync(pipId, AzureApiVersions.Network, ct).ConfigureAwait(false);
        // Addresses end up in SSH targets, scripts and HAProxy's configuration: only a plain IP address is recorded.
        var privateIp = Address(nic?["properties"]?["ipConfigurations"]?[0]?["properties"]?["privateIPAddress"], "private", vm);
        var publicIp = Address(pip?["properties"]?["ipAddress"], "public", vm);
        ctx.Mutate(s =>
        {
            s.Nodes.RemoveAll(n => n.Key == node.Key);
            s.Nodes.Add(new NodeState
            {
                Key = node.Key, Name = vm, Role = node.Role, Index = node.Index, Size = size,
                PublicIP = publicIp, PrivateIP = privateIp, ResourceId = vmId, HostKey = hostKey.Fingerprint,
                SshUser = AzureBodies.AdminUser, SshPort = 22, Hostname = computerName,
            });
        });
        await ctx.Session.CheckpointAsync().ConfigureAwait(false);

        // Reachable with the pinned key (waits for the boot within the connect deadline); the hostname it reports is its Node name.
        var shell = await access.ShellAsync(ctx, node.Key, ct).ConfigureAwait(false);
        var facts = await shell.RunAsync(new RemoteScript("machine:facts", "hostname\n", retries: 1), ct).ConfigureAwait(false);
        var hostname = facts.StandardOutput.Trim();
        if (hostname.Length > 0) ctx.Mutate(s => { if (s.Nodes.FirstOrDefault(n => n.Key == node.Key) is { } n) n.Hostname = hostname; });
    }

    /// <summary>&lt;vm&gt;-&lt;4 random characters&gt; (REFERENCE.md: hostnames get a short random suffix), chosen once and kept in state.</summary>
    private static async Task<string> ComputerNameAsync(StepContext ctx, string vm, string key)
    {
        var stateKey = AzureResourceKeys.Hostname(key);
        if (ctx.Session.Read(s => s.Resources.GetValueOrDefault(stateKey)) is { } existing) return existing;
        var name = $"{vm}-{RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz0123456789", 4)}";
        ctx.Mutate(s => s.Resources.TryAdd(stateKey, name));
        await ctx.Session.CheckpointAsync().ConfigureAwait(false);
        return ctx.Session.Read(s => s.Resources[stateKey]);
    }

    /// <summary>An address ARM reports, in canonical form, once it parses as an IPv4/IPv6 address; else nothing is recorded.</summary>
    internal static string Address(System.Text.Json.Nodes.JsonNode? node, string which, string vm)
    {
        var text = node is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        if (string.IsNullOrEmpty(text))
            throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult, $"Azure reports no {which} address for VM {vm}; re-run to look again.", vm);
        if (!System.Net.IPAddress.TryParse(text, out var ip) || ip.ToString() != text
            || ip.AddressFamily is not (System.Net.Sockets.AddressFamily.InterNetwork or System.Net.Sockets.AddressFamily.InterNetworkV6))
            throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult,
                $"Azure reports a {which} address for VM {vm} that is not an IP address ({text.Length} characters, not shown); it was not recorded.", vm);
        return text;
    }
}
