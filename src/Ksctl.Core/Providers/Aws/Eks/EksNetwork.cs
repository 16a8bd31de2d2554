using Amazon.EC2;
using Amazon.EC2.Model;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Aws.Eks;

/// <summary>
/// The VPC of an EKS cluster, as the EKS user guide's "View Amazon EKS networking requirements for VPC and subnets"
/// asks: DNS support and hostnames on, subnets in at least two availability zones (CreateCluster refuses fewer), public
/// subnets (an internet gateway, a 0.0.0.0/0 route, MapPublicIpOnLaunch so managed nodes reach the endpoint, and the
/// kubernetes.io/role/elb tag for load balancers). Every resource is tagged with its Name and ksctl-cluster, found again
/// by recorded id or tag on a re-run, and deleted only when its tags say it is this cluster's.
/// </summary>
internal static class EksNetwork
{
    public const string VpcKey = "aws:eks-vpc";
    public const string GatewayKey = "aws:eks-igw";
    public const string RouteTableKey = "aws:eks-route-table";
    public const string SubnetKeyPrefix = "aws:eks-subnet:";
    public const string StepName = "aws:network";
    public const string VpcCidr = "10.0.0.0/16";
    public const int SubnetCount = 2;
    public static string SubnetCidr(int index) => $"10.0.{index * 16}.0/20";

    public static PlanStep CreateStep(EksSessionSource session, ClusterId id) =>
        new(StepName, (ctx, ct) => CreateAsync(ctx, session, ct))
        {
            Description = $"create VPC {EksNames.Vpc(id)} ({VpcCidr}) with {SubnetCount} public subnets in different availability zones, an internet gateway and a route table",
            Resources = [$"VPC {EksNames.Vpc(id)}", .. Enumerable.Range(0, SubnetCount).Select(i => $"subnet {EksNames.Subnet(id, i)} ({SubnetCidr(i)})"),
                $"internet gateway {EksNames.Gateway(id)}", $"route table {EksNames.RouteTable(id)}"],
        };

    public static PlanStep DeleteStep(EksSessionSource session, ClusterId id, IReadOnlyList<string> after) =>
        new("aws:delete-network", (ctx, ct) => DeleteAsync(ctx, session, ct))
        {
            DependsOn = after,
            Description = $"delete the subnets, route table, internet gateway and VPC {EksNames.Vpc(id)} (waiting out DependencyViolation while EKS's network interfaces go)",
            Resources = [$"VPC {EksNames.Vpc(id)} and what is in it"],
        };

    public static IReadOnlyList<string> SubnetIds(ClusterState state) =>
        Enumerable.Range(0, SubnetCount).Select(i => state.Resources.GetValueOrDefault(SubnetKeyPrefix + i))
            .Where(s => s is not null && AwsIds.IsValid(s, "subnet")).Select(s => s!).ToList();

    private static List<TagSpecification> TagsOn(ResourceType type, ClusterId id, string name, params Tag[] extra) =>
    [
        new TagSpecification
        {
            ResourceType = type,
            Tags = [new Tag("Name", name), .. EksNames.Tags(id).Select(t => new Tag(t.Key, t.Value)), .. extra],
        },
    ];

    private static List<Filter> Ours(ClusterId id, string name) =>
        [new Filter("tag:Name", [name]), new Filter("tag:" + EksNames.TagCluster, [id.Name]), new Filter("tag:" + EksNames.TagType, [EksNames.TypeValue])];

    private static async Task CreateAsync(StepContext ctx, EksSessionSource session, CancellationToken ct)
    {
        var id = ctx.State.Id;
        using var s = await session(ctx, ct).ConfigureAwait(false);
        var ec2 = s.Ec2;
        var zones = (await ec2.DescribeAvailabilityZonesAsync(new DescribeAvailabilityZonesRequest
        {
            Filters = [new Filter("state", ["available"]), new Filter("zone-type", ["availability-zone"])],
        }, ct).ConfigureAwait(false)).AvailabilityZones?.Select(z => z.ZoneName).Where(z => z is not null).OrderBy(z => z, StringComparer.Ordinal).ToList() ?? [];
        if (zones.Count < SubnetCount)
            throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult,
                $"Region {id.Region} lists {zones.Count} available zone(s); EKS needs subnets in at least {SubnetCount}.", id.Region);

        var vpcId = await FindAsync(ctx, VpcKey, "vpc", async () => (await ec2.DescribeVpcsAsync(new DescribeVpcsRequest { Filters = Ours(id, EksNames.Vpc(id)) }, ct)
            .ConfigureAwait(false)).Vpcs?.FirstOrDefault()?.VpcId).ConfigureAwait(false);
        if (vpcId is null)
        {
            vpcId = (await ec2.CreateVpcAsync(new CreateVpcRequest { CidrBlock = VpcCidr, TagSpecifications = TagsOn(ResourceType.Vpc, id, EksNames.Vpc(id)) }, ct).ConfigureAwait(false)).Vpc.VpcId;
            ctx.Logger.LogInformation("Created VPC {Vpc}.", vpcId);
        }
        Record(ctx, VpcKey, vpcId, "vpc");
        await ec2.ModifyVpcAttributeAsync(new ModifyVpcAttributeRequest { VpcId = vpcId, EnableDnsSupport = true }, ct).ConfigureAwait(false);
        await ec2.ModifyVpcAttributeAsync(new ModifyVpcAttributeRequest { VpcId = vpcId, EnableDnsHostnames = true }, ct).ConfigureAwait(false);

        var igw = await FindAsync(ctx, GatewayKey, "igw", async () => (await ec2.DescribeInternetGatewaysAsync(new DescribeInternetGatewaysRequest { Filters = Ours(id, EksNames.Gateway(id)) }, ct)
            .ConfigureAwait(false)).InternetGateways?.FirstOrDefault()?.InternetGatewayId).ConfigureAwait(false);
        igw ??= (await ec2.CreateInternetGatewayAsync(new CreateInternetGatewayRequest { TagSpecifications = TagsOn(ResourceType.InternetGateway, id, EksNames.Gateway(id)) }, ct)
            .ConfigureAwait(false)).InternetGateway.InternetGatewayId;
        Record(ctx, GatewayKey, igw, "igw");
        var attached = (await ec2.DescribeInternetGatewaysAsync(new DescribeInternetGatewaysRequest { InternetGatewayIds = [igw] }, ct).ConfigureAwait(false))
            .InternetGateways?.FirstOrDefault()?.Attachments?.Any(a => a.VpcId == vpcId) == true;
        if (!attached) await ec2.AttachInternetGatewayAsync(new AttachInternetGatewayRequest { InternetGatewayId = igw, VpcId = vpcId }, ct).ConfigureAwait(false);

        var rtb = await FindAsync(ctx, RouteTableKey, "rtb", async () => (await ec2.DescribeRouteTablesAsync(new DescribeRouteTablesRequest { Filters = Ours(id, EksNames.RouteTable(id)) }, ct)
            .ConfigureAwait(false)).RouteTables?.FirstOrDefault()?.RouteTableId).ConfigureAwait(false);
        rtb ??= (await ec2.CreateRouteTableAsync(new CreateRouteTableRequest { VpcId = vpcId, TagSpecifications = TagsOn(ResourceType.RouteTable, id, EksNames.RouteTable(id)) }, ct)
            .ConfigureAwait(false)).RouteTable.RouteTableId;
        Record(ctx, RouteTableKey, rtb, "rtb");
        try { await ec2.CreateRouteAsync(new CreateRouteRequest { RouteTableId = rtb, DestinationCidrBlock = "0.0.0.0/0", GatewayId = igw }, ct).ConfigureAwait(false); }
        catch (AmazonEC2Exception e) when (e.ErrorCode == "RouteAlreadyExists") { }

        for (var i = 0; i < SubnetCount; i++)
        {
            var index = i;
            var name = EksNames.Subnet(id, index);
            var subnet = await FindAsync(ctx, SubnetKeyPrefix + index, "subnet", async () => (await ec2.DescribeSubnetsAsync(new DescribeSubnetsRequest { Filters = Ours(id, name) }, ct)
                .ConfigureAwait(false)).Subnets?.FirstOrDefault()?.SubnetId).ConfigureAwait(false);
            if (subnet is null)
            {
                subnet = (await ec2.CreateSubnetAsync(new CreateSubnetRequest
                {
                    VpcId = vpcId, CidrBlock = SubnetCidr(index), AvailabilityZone = zones[index],
                    TagSpecifications = TagsOn(ResourceType.Subnet, id, name, new Tag("kubernetes.io/role/elb", "1")),
                }, ct).ConfigureAwait(false)).Subnet.SubnetId;
                ctx.Logger.LogInformation("Created subnet {Subnet} in {Zone}.", subnet, zones[index]);
            }
            Record(ctx, SubnetKeyPrefix + index, subnet, "subnet");
            await ec2.ModifySubnetAttributeAsync(new ModifySubnetAttributeRequest { SubnetId = subnet, MapPublicIpOnLaunch = true }, ct).ConfigureAwait(false);
            try { await ec2.AssociateRouteTableAsync(new AssociateRouteTableRequest { RouteTableId = rtb, SubnetId = subnet }, ct).ConfigureAwait(false); }
            catch (AmazonEC2Exception e) when (e.ErrorCode == "Resource.AlreadyAssociated") { }
        }
    }

    /// <summary>The recorded id (checked against the id's form) or the one found by tag; null when neither exists.</summary>
    private static async Task<string?> FindAsync(StepContext ctx, string key, string prefix, Func<Task<string?>> byTag)
    {
        if (ctx.State.Resources.TryGetValue(key, out var recorded))
        {
            if (!AwsIds.IsValid(recorded, prefix))
                throw new KsctlException("KsctlStateInvalid", KsctlErrorCategory.InvalidData, $"The state records '{recorded}' as {key}, which is not an EC2 {prefix} id.", key);
            return recorded;
        }
        return await byTag().ConfigureAwait(false);
    }

    private static void Record(StepContext ctx, string key, string value, string prefix)
    {
        if (!AwsIds.IsValid(value, prefix))
            throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult, $"EC2 returned '{value}' where a {prefix} id was expected.", key);
        ctx.Mutate(s => s.Resources[key] = value);
    }

    private static async Task DeleteAsync(StepContext ctx, EksSessionSource session, CancellationToken ct)
    {
        var id = ctx.State.Id;
        using var s = await session(ctx, ct).ConfigureAwait(false);
        var ec2 = s.Ec2;
        var vpc = (await ec2.DescribeVpcsAsync(new DescribeVpcsRequest { Filters = Ours(id, EksNames.Vpc(id)) }, ct).ConfigureAwait(false)).Vpcs?.FirstOrDefault();
        var limit = s.Timings.NetworkInUse;
        if (vpc is not null)
        {
            var subnets = (await ec2.DescribeSubnetsAsync(new DescribeSubnetsRequest
            {
                Filters = [new Filter("vpc-id", [vpc.VpcId]), new Filter("tag:" + EksNames.TagCluster, [id.Name])],
            }, ct).ConfigureAwait(false)).Subnets ?? [];
            foreach (var subnet in subnets)
                await Ec2RetryAsync(s.Timings, ctx, $"deleting subnet {subnet.SubnetId}", limit, c => ec2.DeleteSubnetAsync(new DeleteSubnetRequest { SubnetId = subnet.SubnetId }, c), ct).ConfigureAwait(false);
        }
        foreach (var rtb in (await ec2.DescribeRouteTablesAsync(new DescribeRouteTablesRequest { Filters = Ours(id, EksNames.RouteTable(id)) }, ct).ConfigureAwait(false)).RouteTables ?? [])
            await Ec2RetryAsync(s.Timings, ctx, $"deleting route table {rtb.RouteTableId}", limit, c => ec2.DeleteRouteTableAsync(new DeleteRouteTableRequest { RouteTableId = rtb.RouteTableId }, c), ct).ConfigureAwait(false);
        foreach (var igw in (await ec2.DescribeInternetGatewaysAsync(new DescribeInternetGatewaysRequest { Filters = Ours(id, EksNames.Gateway(id)) }, ct).ConfigureAwait(false)).InternetGateways ?? [])
        {
            foreach (var a in igw.Attachments ?? [])
                await Ec2RetryAsync(s.Timings, ctx, $"detaching internet gateway {igw.InternetGatewayId}", limit,
                    c => ec2.DetachInternetGatewayAsync(new DetachInternetGatewayRequest { InternetGatewayId = igw.InternetGatewayId, VpcId = a.VpcId }, c), ct).ConfigureAwait(false);
            await Ec2RetryAsync(s.Timings, ctx, $"deleting internet gateway {igw.InternetGatewayId}", limit,
                c => ec2.DeleteInternetGatewayAsync(new DeleteInternetGatewayRequest { InternetGatewayId = igw.InternetGatewayId }, c), ct).ConfigureAwait(false);
        }
        if (vpc is not null)
            await Ec2RetryAsync(s.Timings, ctx, $"deleting VPC {vpc.VpcId}", limit, c => ec2.DeleteVpcAsync(new DeleteVpcRequest { VpcId = vpc.VpcId }, c), ct).ConfigureAwait(false);
        ctx.Mutate(st =>
        {
            foreach (var key in st.Resources.Keys.Where(k => k is VpcKey or GatewayKey or RouteTableKey || k.StartsWith(SubnetKeyPrefix, StringComparison.Ordinal)).ToList())
                st.Resources.Remove(key);
        });
    }

    /// <summary>An EC2 delete, repeated while EC2 answers DependencyViolation (what used the resource is still going); gone counts as done.</summary>
    private static async Task Ec2RetryAsync(EksTimings timings, StepContext ctx, string what, TimeSpan limit, Func<CancellationToken, Task> action, CancellationToken ct)
    {
        var started = DateTimeOffset.UtcNow;
        var delay = timings.FirstPoll;
        while (true)
        {
            try { await action(ct).ConfigureAwait(false); return; }
            catch (AmazonEC2Exception e) when (e.ErrorCode is not null && e.ErrorCode.EndsWith(".NotFound", StringComparison.Ordinal)) { return; }
            catch (AmazonEC2Exception e) when (e.ErrorCode is "Gateway.NotAttached") { return; }
            catch (AmazonEC2Exception e) when (e.ErrorCode == "DependencyViolation" && DateTimeOffset.UtcNow - started < limit)
            {
                ctx.Logger.LogInformation("{What}: DependencyViolation ({Message}); trying again in {Delay:0.#} s.", what, e.Message, delay.TotalSeconds);
                await Task.Delay(delay, ct).ConfigureAwait(false);
                delay = timings.Next(delay);
            }
        }
    }
}

/// <summary>The forms of EC2 resource ids (prefix, '-', 8 or 17 lowercase hex digits), checked before an id read back drives a request.</summary>
internal static class AwsIds
{
    public static bool IsValid(string? value, string prefix) =>
        value is not null && System.Text.RegularExpressions.Regex.IsMatch(value, $"^{prefix}-([0-9a-f]{{8}}|[0-9a-f]{{17}})$");
}
