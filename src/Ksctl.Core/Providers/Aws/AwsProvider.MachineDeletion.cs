using Amazon.EC2.Model;
using Ksctl.Core.Distributions;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Microsoft.Extensions.Logging;
using K = Ksctl.Core.Providers.Aws.AwsNames.Keys;

namespace Ksctl.Core.Providers.Aws;

/// <summary>
/// Deleting a self-managed cluster's AWS resources, in reverse: every instance (terminate, wait until terminated),
/// then the security groups (EC2 answers DependencyViolation while a shutting-down instance still holds its network
/// interface: waited out), the key pair, the route table (its association first), the internet gateway (detached
/// first), the subnet and the VPC. Each resource is found by its recorded id, else by its tags (a create whose answer
/// was lost), and is deleted only when its tags say it is this cluster's.
/// </summary>
internal sealed partial class AwsProvider
{
    internal static readonly TimeSpan DeleteTimeout = TimeSpan.FromMinutes(10);

    public IReadOnlyList<PlanStep> MachineDeleteSteps(ClusterState state)
    {
        var recorded = state.Resources.Keys.Where(k => k.StartsWith("aws:instance:", StringComparison.Ordinal)).Select(k => k["aws:instance:".Length..]);
        var keys = state.Nodes.Where(n => n.Key is not null).Select(n => n.Key!).Union(recorded)
            .Union(SelfManagedTopology.From(state.Spec).All.Select(n => n.Key)).Distinct().Order(StringComparer.Ordinal).ToList();
        var steps = InstanceSteps(state, keys).ToList();
        var instances = steps.Select(s => s.Name).ToArray();
        var name = state.Id.Name;
        var groups = new List<string>();
        foreach (var role in Roles)
        {
            var step = $"aws:delete-sg:{AwsNames.RoleSuffix(role)}";
            steps.Add(new PlanStep(step, (ctx, ct) => Ec2Async(ctx, ct, e => DeleteSharedAsync(e, K.SecurityGroup(role), "sg", "security group",
                async c => (await e.CallAsync("DescribeSecurityGroups", x => e.Clients.Ec2.DescribeSecurityGroupsAsync(new() { Filters = AwsNames.ByTag(e.Id, K.SecurityGroup(role)) }, x), c).ConfigureAwait(false)).SecurityGroups?.FirstOrDefault()?.GroupId,
                async (id, c) => (await AwsSecurityGroups.DescribeAsync(e, id, c).ConfigureAwait(false))?.Tags,
                (id, c) => e.Clients.Ec2.DeleteSecurityGroupAsync(new() { GroupId = id }, c), ct)))
            {
                DependsOn = instances,
                Description = $"delete security group {AwsNames.SecurityGroup(name, role)}",
                Resources = Shown(state, K.SecurityGroup(role), $"security group {AwsNames.SecurityGroup(name, role)}"),
            });
            groups.Add(step);
        }
        steps.Add(new PlanStep("aws:delete-keypair", (ctx, ct) => Ec2Async(ctx, ct, e => DeleteSharedAsync(e, K.KeyPair, "key", "key pair",
            async c => (await e.CallAsync("DescribeKeyPairs", x => e.Clients.Ec2.DescribeKeyPairsAsync(new() { Filters = AwsNames.ByTag(e.Id, K.KeyPair) }, x), c).ConfigureAwait(false)).KeyPairs?.FirstOrDefault()?.KeyPairId,
            async (id, c) => await TagsOrNull(() => e.CallAsync("DescribeKeyPairs", x => e.Clients.Ec2.DescribeKeyPairsAsync(new() { KeyPairIds = [id] }, x), c, notFoundIsFinal: true), r => r.KeyPairs?.FirstOrDefault()?.Tags).ConfigureAwait(false),
            (id, c) => e.Clients.Ec2.DeleteKeyPairAsync(new() { KeyPairId = id }, c), ct)))
        {
            DependsOn = instances,
            Description = $"delete key pair {AwsNames.KeyPair(name)}",
            Resources = Shown(state, K.KeyPair, $"key pair {AwsNames.KeyPair(name)}"),
        });
        steps.Add(new PlanStep("aws:delete-routes", (ctx, ct) => Ec2Async(ctx, ct, e => DeleteSharedAsync(e, K.RouteTable, "rtb", "route table",
            async c => (await e.CallAsync("DescribeRouteTables", x => e.Clients.Ec2.DescribeRouteTablesAsync(new() { Filters = AwsNames.ByTag(e.Id, K.RouteTable) }, x), c).ConfigureAwait(false)).RouteTables?.FirstOrDefault()?.RouteTableId,
            async (id, c) => await TagsOrNull(() => e.CallAsync("DescribeRouteTables", x => e.Clients.Ec2.DescribeRouteTablesAsync(new() { RouteTableIds = [id] }, x), c, notFoundIsFinal: true), r => r.RouteTables?.FirstOrDefault()?.Tags).ConfigureAwait(false),
            async (id, c) =>
            {
                var table = (await e.Clients.Ec2.DescribeRouteTablesAsync(new() { RouteTableIds = [id] }, c).ConfigureAwait(false)).RouteTables.Single();
                foreach (var association in table.Associations?.Where(a => a.Main != true) ?? [])
                    await e.TolerateAsync("DisassociateRouteTable", x => e.Clients.Ec2.DisassociateRouteTableAsync(new() { AssociationId = association.RouteTableAssociationId }, x), c,
                        "InvalidAssociationID.NotFound").ConfigureAwait(false);
                await e.Clients.Ec2.DeleteRouteTableAsync(new() { RouteTableId = id }, c).ConfigureAwait(false);
            }, ct)))
        {
            DependsOn = instances,
            Description = $"delete route table {AwsNames.RouteTable(name)} (its subnet association first)",
            Resources = Shown(state, K.RouteTable, $"route table {AwsNames.RouteTable(name)}"),
        });
        steps.Add(new PlanStep("aws:delete-igw", (ctx, ct) => Ec2Async(ctx, ct, e => DeleteSharedAsync(e, K.Gateway, "igw", "internet gateway",
            async c => (await e.CallAsync("DescribeInternetGateways", x => e.Clients.Ec2.DescribeInternetGatewaysAsync(new() { Filters = AwsNames.ByTag(e.Id, K.Gateway) }, x), c).ConfigureAwait(false)).InternetGateways?.FirstOrDefault()?.InternetGatewayId,
            async (id, c) => await TagsOrNull(() => e.CallAsync("DescribeInternetGateways", x => e.Clients.Ec2.DescribeInternetGatewaysAsync(new() { InternetGatewayIds = [id] }, x), c, notFoundIsFinal: true), r => r.InternetGateways?.FirstOrDefault()?.Tags).ConfigureAwait(false),
            async (id, c) =>
            {
                var gateway = (await e.Clients.Ec2.DescribeInternetGatewaysAsync(new() { InternetGatewayIds = [id] }, c).ConfigureAwait(false)).InternetGateways.Single();
                foreach (var attachment in gateway.Attachments ?? [])
                    await e.DeleteAsync("DetachInternetGateway", x => e.Clients.Ec2.DetachInternetGatewayAsync(new() { InternetGatewayId = id, VpcId = attachment.VpcId }, x), DeleteTimeout, c).ConfigureAwait(false);
                await e.Clients.Ec2.DeleteInternetGatewayAsync(new() { InternetGatewayId = id }, c).ConfigureAwait(false);
            }, ct)))
        {
            DependsOn = [.. instances, "aws:delete-routes"],
            Description = $"detach and delete internet gateway {AwsNames.Gateway(name)}",
            Resources = Shown(state, K.Gateway, $"internet gateway {AwsNames.Gateway(name)}"),
        });
        steps.Add(new PlanStep("aws:delete-subnet", (ctx, ct) => Ec2Async(ctx, ct, e => DeleteSharedAsync(e, K.Subnet, "subnet", "subnet",
            async c => (await e.CallAsync("DescribeSubnets", x => e.Clients.Ec2.DescribeSubnetsAsync(new() { Filters = AwsNames.ByTag(e.Id, K.Subnet) }, x), c).ConfigureAwait(false)).Subnets?.FirstOrDefault()?.SubnetId,
            async (id, c) => await TagsOrNull(() => e.CallAsync("DescribeSubnets", x => e.Clients.Ec2.DescribeSubnetsAsync(new() { SubnetIds = [id] }, x), c, notFoundIsFinal: true), r => r.Subnets?.FirstOrDefault()?.Tags).ConfigureAwait(false),
            (id, c) => e.Clients.Ec2.DeleteSubnetAsync(new() { SubnetId = id }, c), ct)))
        {
            DependsOn = [.. instances, "aws:delete-routes"],
            Description = $"delete subnet {AwsNames.Subnet(name)}",
            Resources = Shown(state, K.Subnet, $"subnet {AwsNames.Subnet(name)}"),
        });
        steps.Add(new PlanStep("aws:delete-vpc", (ctx, ct) => Ec2Async(ctx, ct, async e =>
        {
            await DeleteSharedAsync(e, K.Vpc, "vpc", "VPC",
                async c => (await e.CallAsync("DescribeVpcs", x => e.Clients.Ec2.DescribeVpcsAsync(new() { Filters = AwsNames.ByTag(e.Id, K.Vpc) }, x), c).ConfigureAwait(false)).Vpcs?.FirstOrDefault()?.VpcId,
                async (id, c) => await TagsOrNull(() => e.CallAsync("DescribeVpcs", x => e.Clients.Ec2.DescribeVpcsAsync(new() { VpcIds = [id] }, x), c, notFoundIsFinal: true), r => r.Vpcs?.FirstOrDefault()?.Tags).ConfigureAwait(false),
                (id, c) => e.Clients.Ec2.DeleteVpcAsync(new() { VpcId = id }, c), ct).ConfigureAwait(false);
            ctx.Mutate(s => { foreach (var k in s.Resources.Keys.Where(k => k.StartsWith("aws:ami:", StringComparison.Ordinal)).ToList()) s.Resources.Remove(k); });
        }))
        {
            DependsOn = [.. groups, "aws:delete-igw", "aws:delete-subnet", "aws:delete-routes"],
            Description = $"delete VPC {AwsNames.Vpc(name)}",
            Resources = Shown(state, K.Vpc, $"VPC {AwsNames.Vpc(name)}"),
        });
        return steps;
    }

    public IReadOnlyList<PlanStep> RemoveMachineSteps(ClusterState state, IReadOnlyList<NodeState> nodes) =>
        InstanceSteps(state, nodes.Select(n => n.Key!).Distinct().Order(StringComparer.Ordinal).ToList()).ToList();

    private IEnumerable<PlanStep> InstanceSteps(ClusterState state, IReadOnlyList<string> keys) =>
        keys.Select(key => new PlanStep($"aws:delete-instance:{key}", (ctx, ct) => Ec2Async(ctx, ct, e => AwsInstances.TerminateAsync(e, key, ct)))
        {
            Description = $"terminate EC2 instance {AwsNames.Instance(state.Id.Name, key)} and wait until it is terminated (its volume goes with it)",
            Resources = Shown(state, K.Instance(key), $"EC2 instance {AwsNames.Instance(state.Id.Name, key)}"),
        });

    /// <summary>What -WhatIf shows: the recorded id with the name, or the name and "found by tag" when none is recorded.</summary>
    private static IReadOnlyList<string> Shown(ClusterState state, string key, string what) =>
        [state.Resources.TryGetValue(key, out var id) ? $"{what} ({id})" : $"{what} (none recorded; looked up by tag)"];

    /// <summary>Deletes a shared resource found by id or tag, if its tags say it is this cluster's; forgets its id.</summary>
    private static async Task DeleteSharedAsync(AwsEc2 e, string key, string prefix, string what,
        Func<CancellationToken, Task<string?>> findByTag, Func<string, CancellationToken, Task<IReadOnlyList<Tag>?>> tagsById,
        Func<string, CancellationToken, Task> delete, CancellationToken ct)
    {
        if (await e.IdOrTagAsync(key, prefix, what, findByTag, ct).ConfigureAwait(false) is { } id)
        {
            if (await tagsById(id, ct).ConfigureAwait(false) is { } tags)
            {
                if (!AwsNames.Owned(tags, e.Id)) throw e.NotOwned(what, id);
                await e.DeleteAsync($"delete {what} {id}", c => delete(id, c), DeleteTimeout, ct).ConfigureAwait(false);
                e.Provider.Logger.LogInformation("AWS {What} {Id} deleted.", what, id);
            }
        }
        e.Forget(key);
    }

    private static async Task<IReadOnlyList<Tag>?> TagsOrNull<T>(Func<Task<T>> describe, Func<T, List<Tag>?> tags)
    {
        try
        {
            return tags(await describe().ConfigureAwait(false));
        }
        catch (Diagnostics.KsctlException x) when (x.InnerException is Amazon.Runtime.AmazonServiceException s && AwsErrors.IsNotYetVisible(s))
        {
            return null;
        }
    }
}
