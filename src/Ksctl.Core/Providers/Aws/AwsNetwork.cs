using Amazon.EC2.Model;
using Ksctl.Core.Model;
using K = Ksctl.Core.Providers.Aws.AwsNames.Keys;

namespace Ksctl.Core.Providers.Aws;

/// <summary>
/// The shared network of a self-managed cluster: a VPC (172.31.0.0/16), one subnet (172.31.0.0/20), an internet
/// gateway attached to the VPC, and a route table with 0.0.0.0/0 to the gateway associated with the subnet; and the
/// imported key pair. Each create is idempotent: found by recorded id, then by tag, before it is made; the attach,
/// route and association are checked before they are made (EC2 API reference: CreateVpc, CreateSubnet,
/// CreateInternetGateway/AttachInternetGateway, CreateRouteTable/CreateRoute/AssociateRouteTable, ImportKeyPair).
/// </summary>
internal static class AwsNetwork
{
    public static Task<string> VpcAsync(AwsEc2 ec2, CancellationToken ct) =>
        ec2.EnsureAsync(K.Vpc, "vpc", "VPC",
            async (id, c) => await Safe(() => ec2.CallAsync("DescribeVpcs", x => ec2.Clients.Ec2.DescribeVpcsAsync(new() { VpcIds = [id] }, x), c, notFoundIsFinal: true), r => r.Vpcs?.FirstOrDefault()?.Tags).ConfigureAwait(false),
            async c => (await ec2.CallAsync("DescribeVpcs", x => ec2.Clients.Ec2.DescribeVpcsAsync(new() { Filters = AwsNames.ByTag(ec2.Id, K.Vpc) }, x), c).ConfigureAwait(false))
                .Vpcs?.FirstOrDefault()?.VpcId,
            async c => (await ec2.CallAsync("CreateVpc", x => ec2.Clients.Ec2.CreateVpcAsync(new()
            {
                CidrBlock = AwsNames.VpcCidr,
                TagSpecifications = [AwsNames.TagSpec("vpc", ec2.Id, K.Vpc, AwsNames.Vpc(ec2.Id.Name))],
            }, x), c).ConfigureAwait(false)).Vpc.VpcId, ct);

    public static async Task<string> SubnetAsync(AwsEc2 ec2, CancellationToken ct)
    {
        var vpc = AwsNames.CheckId(ec2.Recorded(K.Vpc), "vpc", "VPC");
        return await ec2.EnsureAsync(K.Subnet, "subnet", "subnet",
            async (id, c) => await Safe(() => ec2.CallAsync("DescribeSubnets", x => ec2.Clients.Ec2.DescribeSubnetsAsync(new() { SubnetIds = [id] }, x), c, notFoundIsFinal: true), r => r.Subnets?.FirstOrDefault()?.Tags).ConfigureAwait(false),
            async c => (await ec2.CallAsync("DescribeSubnets", x => ec2.Clients.Ec2.DescribeSubnetsAsync(new() { Filters = AwsNames.ByTag(ec2.Id, K.Subnet) }, x), c).ConfigureAwait(false))
                .Subnets?.FirstOrDefault()?.SubnetId,
            async c => (await ec2.CallAsync("CreateSubnet", x => ec2.Clients.Ec2.CreateSubnetAsync(new()
            {
                VpcId = vpc,
                CidrBlock = AwsNames.SubnetCidr,
                TagSpecifications = [AwsNames.TagSpec("subnet", ec2.Id, K.Subnet, AwsNames.Subnet(ec2.Id.Name))],
            }, x), c).ConfigureAwait(false)).Subnet.SubnetId, ct).ConfigureAwait(false);
    }

    public static async Task<string> GatewayAsync(AwsEc2 ec2, CancellationToken ct)
    {
        var vpc = AwsNames.CheckId(ec2.Recorded(K.Vpc), "vpc", "VPC");
        var igw = await ec2.EnsureAsync(K.Gateway, "igw", "internet gateway",
            async (id, c) => await Safe(() => ec2.CallAsync("DescribeInternetGateways", x => ec2.Clients.Ec2.DescribeInternetGatewaysAsync(new() { InternetGatewayIds = [id] }, x), c, notFoundIsFinal: true), r => r.InternetGateways?.FirstOrDefault()?.Tags).ConfigureAwait(false),
            async c => (await ec2.CallAsync("DescribeInternetGateways", x => ec2.Clients.Ec2.DescribeInternetGatewaysAsync(new() { Filters = AwsNames.ByTag(ec2.Id, K.Gateway) }, x), c).ConfigureAwait(false))
                .InternetGateways?.FirstOrDefault()?.InternetGatewayId,
            async c => (await ec2.CallAsync("CreateInternetGateway", x => ec2.Clients.Ec2.CreateInternetGatewayAsync(new()
            {
                TagSpecifications = [AwsNames.TagSpec("internet-gateway", ec2.Id, K.Gateway, AwsNames.Gateway(ec2.Id.Name))],
            }, x), c).ConfigureAwait(false)).InternetGateway.InternetGatewayId, ct).ConfigureAwait(false);
        var gateway = (await ec2.CallAsync("DescribeInternetGateways", x => ec2.Clients.Ec2.DescribeInternetGatewaysAsync(new() { InternetGatewayIds = [igw] }, x), ct).ConfigureAwait(false))
            .InternetGateways.Single();
        if (gateway.Attachments?.Any(a => a.VpcId == vpc) != true)
            await ec2.TolerateAsync("AttachInternetGateway", x => ec2.Clients.Ec2.AttachInternetGatewayAsync(new() { InternetGatewayId = igw, VpcId = vpc }, x), ct,
                "Resource.AlreadyAssociated").ConfigureAwait(false);
        return igw;
    }

    public static async Task<string> RoutesAsync(AwsEc2 ec2, CancellationToken ct)
    {
        var vpc = AwsNames.CheckId(ec2.Recorded(K.Vpc), "vpc", "VPC");
        var subnet = AwsNames.CheckId(ec2.Recorded(K.Subnet), "subnet", "subnet");
        var igw = AwsNames.CheckId(ec2.Recorded(K.Gateway), "igw", "internet gateway");
        var rtb = await ec2.EnsureAsync(K.RouteTable, "rtb", "route table",
            async (id, c) => await Safe(() => ec2.CallAsync("DescribeRouteTables", x => ec2.Clients.Ec2.DescribeRouteTablesAsync(new() { RouteTableIds = [id] }, x), c, notFoundIsFinal: true), r => r.RouteTables?.FirstOrDefault()?.Tags).ConfigureAwait(false),
            async c => (await ec2.CallAsync("DescribeRouteTables", x => ec2.Clients.Ec2.DescribeRouteTablesAsync(new() { Filters = AwsNames.ByTag(ec2.Id, K.RouteTable) }, x), c).ConfigureAwait(false))
                .RouteTables?.FirstOrDefault()?.RouteTableId,
            async c => (await ec2.CallAsync("CreateRouteTable", x => ec2.Clients.Ec2.CreateRouteTableAsync(new()
            {
                VpcId = vpc,
                TagSpecifications = [AwsNames.TagSpec("route-table", ec2.Id, K.RouteTable, AwsNames.RouteTable(ec2.Id.Name))],
            }, x), c).ConfigureAwait(false)).RouteTable.RouteTableId, ct).ConfigureAwait(false);
        var table = (await ec2.CallAsync("DescribeRouteTables", x => ec2.Clients.Ec2.DescribeRouteTablesAsync(new() { RouteTableIds = [rtb] }, x), ct).ConfigureAwait(false))
            .RouteTables.Single();
        if (table.Routes?.Any(r => r.DestinationCidrBlock == "0.0.0.0/0" && r.GatewayId == igw) != true)
            await ec2.TolerateAsync("CreateRoute", x => ec2.Clients.Ec2.CreateRouteAsync(new() { RouteTableId = rtb, DestinationCidrBlock = "0.0.0.0/0", GatewayId = igw }, x), ct,
                "RouteAlreadyExists").ConfigureAwait(false);
        if (table.Associations?.Any(a => a.SubnetId == subnet) != true)
            await ec2.TolerateAsync("AssociateRouteTable", x => ec2.Clients.Ec2.AssociateRouteTableAsync(new() { RouteTableId = rtb, SubnetId = subnet }, x), ct,
                "Resource.AlreadyAssociated").ConfigureAwait(false);
        return rtb;
    }

    /// <summary>The login key imported as &lt;name&gt;-ssh (EC2 installs it for the default user too); its id is recorded.</summary>
    public static async Task<string> KeyPairAsync(AwsEc2 ec2, string publicKey, CancellationToken ct)
    {
        var name = AwsNames.KeyPair(ec2.Id.Name);
        return await ec2.EnsureAsync(K.KeyPair, "key", "key pair",
            async (id, c) => await Safe(() => ec2.CallAsync("DescribeKeyPairs", x => ec2.Clients.Ec2.DescribeKeyPairsAsync(new() { KeyPairIds = [id] }, x), c, notFoundIsFinal: true), r => r.KeyPairs?.FirstOrDefault()?.Tags).ConfigureAwait(false),
            async c => (await ec2.CallAsync("DescribeKeyPairs", x => ec2.Clients.Ec2.DescribeKeyPairsAsync(new() { Filters = AwsNames.ByTag(ec2.Id, K.KeyPair) }, x), c).ConfigureAwait(false))
                .KeyPairs?.FirstOrDefault()?.KeyPairId,
            async c => (await ec2.CallAsync("ImportKeyPair", x => ec2.Clients.Ec2.ImportKeyPairAsync(new()
            {
                KeyName = name,
                // The query API takes the key material base64-encoded; the .NET SDK sends the string as given.
                PublicKeyMaterial = Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(publicKey.Trim())),
                TagSpecifications = [AwsNames.TagSpec("key-pair", ec2.Id, K.KeyPair, name)],
            }, x), c).ConfigureAwait(false)).KeyPairId, ct).ConfigureAwait(false);
    }

    /// <summary>Canonical's Ubuntu 24.04 AMI for an architecture, from its public SSM parameter; recorded so a resume uses the same image.</summary>
    public static async Task<string> ImageAsync(AwsEc2 ec2, string architecture, CancellationToken ct)
    {
        var key = K.Image(architecture);
        if (ec2.Recorded(key) is { } recorded) return AwsNames.CheckId(recorded, "ami", "AMI");
        var parameter = $"/aws/service/canonical/ubuntu/server/24.04/stable/current/{architecture}/hvm/ebs-gp3/ami-id";
        var answer = await ec2.Clients.CallAsync("SSM", "GetParameter", c => ec2.Clients.Ssm.GetParameterAsync(
            new Amazon.SimpleSystemsManagement.Model.GetParameterRequest { Name = parameter }, c), ct).ConfigureAwait(false);
        var ami = AwsNames.CheckId(answer.Parameter?.Value, "ami", "AMI");
        await ec2.RecordAsync(key, ami).ConfigureAwait(false);
        return ami;
    }

    /// <summary>The tags of what a describe-by-id found, or null when EC2 says the id does not exist.</summary>
    private static async Task<IReadOnlyList<Tag>?> Safe<T>(Func<Task<T>> describe, Func<T, List<Tag>?> tags)
    {
        try
        {
            var result = await describe().ConfigureAwait(false);
            return tags(result) is { } t ? t : null;
        }
        catch (Diagnostics.KsctlException e) when (e.InnerException is Amazon.Runtime.AmazonServiceException s && AwsErrors.IsNotYetVisible(s))
        {
            return null;
        }
    }
}
