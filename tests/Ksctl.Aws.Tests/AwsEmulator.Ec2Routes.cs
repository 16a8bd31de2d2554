namespace Ksctl.Aws.Tests;

/// <summary>EC2 subnets, internet gateways and route tables (rules in AwsEmulator.Ec2Network.cs's header).</summary>
public sealed partial class AwsEmulator
{
    private async Task Ec2SubnetsAndRoutesAsync(AwsCall call)
    {
        switch (call.Action)
        {
            case "CreateSubnet":
            {
                if (Live(call, "vpc", call.Param("VpcId")) is not { } vpc) { await NotFound(call, "vpc", "InvalidVpcID.NotFound", call.Param("VpcId")); return; }
                var zone = call.Param("AvailabilityZone") ?? Zones(call.Region)[0];
                if (!Zones(call.Region).Contains(zone))
                {
                    await Fail(call, 400, "InvalidParameterValue", $"Value ({zone}) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: {string.Join(", ", Zones(call.Region))}.");
                    return;
                }
                var cidr = call.Param("CidrBlock");
                if (Cidr.Parse(cidr) is not { } block || !Cidr.Parse((string)vpc.Fields["cidr"]!)!.Value.Contains(block) || block.Prefix > 28)
                {
                    await Fail(call, 400, "InvalidSubnet.Range", $"The CIDR '{cidr}' is invalid.");
                    return;
                }
                if (All("subnet", call.Region).Any(s => (string?)s.Fields["vpcId"] == vpc.Id && Cidr.Parse((string)s.Fields["cidr"]!)!.Value.Overlaps(block)))
                {
                    await Fail(call, 400, "InvalidSubnet.Conflict", $"The CIDR '{cidr}' conflicts with another subnet");
                    return;
                }
                var subnet = Ec2New(call, "subnet", "subnet");
                subnet.Fields["vpcId"] = vpc.Id;
                subnet.Fields["cidr"] = cidr;
                subnet.Fields["availabilityZone"] = zone;
                subnet.Fields["mapPublicIp"] = false;
                await Xml(call, $"<subnet>{SubnetXml(subnet)}</subnet>");
                return;
            }
            case "DescribeSubnets":
                await DescribeAsync(call, "subnet", "SubnetId", "subnetSet", "InvalidSubnetID.NotFound", "subnet", SubnetXml,
                    r => new() { ["vpc-id"] = (string?)r.Fields.GetValueOrDefault("vpcId"), ["subnet-id"] = r.Id, ["availability-zone"] = (string?)r.Fields.GetValueOrDefault("availabilityZone") },
                    "vpc-id", "subnet-id", "availability-zone");
                return;
            case "ModifySubnetAttribute":
            {
                if (Live(call, "subnet", call.Param("SubnetId")) is not { } subnet) { await NotFound(call, "subnet", "InvalidSubnetID.NotFound", call.Param("SubnetId")); return; }
                if (call.Param("MapPublicIpOnLaunch.Value") is not { } value) { await Fail(call, 400, "InvalidParameterCombination", "No attribute specified."); return; }
                lock (subnet.Fields) subnet.Fields["mapPublicIp"] = value == "true";
                await Xml(call, "<return>true</return>");
                return;
            }
            case "DeleteSubnet":
            {
                if (Live(call, "subnet", call.Param("SubnetId")) is not { } subnet) { await NotFound(call, "subnet", "InvalidSubnetID.NotFound", call.Param("SubnetId")); return; }
                // EKS's network interfaces (cluster and nodes) hold the subnets while the cluster or a node group exists.
                var held = All("eks-cluster", call.Region).Any(c => ((List<string>)c.Fields["subnets"]!).Contains(subnet.Id))
                    || All("eks-nodegroup", call.Region).Any(g => ((List<string>)g.Fields["subnets"]!).Contains(subnet.Id));
                if (held) { await Fail(call, 400, "DependencyViolation", $"The subnet '{subnet.Id}' has dependencies and cannot be deleted."); return; }
                foreach (var table in All("route-table", call.Region))
                    lock (table.Fields) ((Dictionary<string, string>)table.Fields["associations"]!).Remove(subnet.Id);
                Remove(subnet.Id);
                await Xml(call, "<return>true</return>");
                return;
            }
            case "CreateInternetGateway":
            {
                var igw = Ec2New(call, "internet-gateway", "igw");
                igw.Fields["vpcId"] = null;
                await Xml(call, $"<internetGateway>{GatewayXml(igw)}</internetGateway>");
                return;
            }
            case "DescribeInternetGateways":
                await DescribeAsync(call, "internet-gateway", "InternetGatewayId", "internetGatewaySet", "InvalidInternetGatewayID.NotFound", "internetGateway", GatewayXml,
                    r => new() { ["internet-gateway-id"] = r.Id, ["attachment.vpc-id"] = (string?)r.Fields.GetValueOrDefault("vpcId") }, "internet-gateway-id", "attachment.vpc-id");
                return;
            case "AttachInternetGateway":
            case "DetachInternetGateway":
            {
                if (Live(call, "internet-gateway", call.Param("InternetGatewayId")) is not { } igw) { await NotFound(call, "internetGateway", "InvalidInternetGatewayID.NotFound", call.Param("InternetGatewayId")); return; }
                if (Live(call, "vpc", call.Param("VpcId")) is not { } vpc) { await NotFound(call, "vpc", "InvalidVpcID.NotFound", call.Param("VpcId")); return; }
                (string Code, string Message)? refusal = null;
                lock (igw.Fields)
                {
                    var current = (string?)igw.Fields["vpcId"];
                    if (call.Action == "AttachInternetGateway" && current is not null) refusal = ("Resource.AlreadyAssociated", $"resource {igw.Id} is already attached to network {current}");
                    else if (call.Action == "DetachInternetGateway" && current != vpc.Id) refusal = ("Gateway.NotAttached", $"resource {igw.Id} is not attached to network {vpc.Id}");
                    else igw.Fields["vpcId"] = call.Action == "AttachInternetGateway" ? vpc.Id : null;
                }
                if (refusal is { } r) { await Fail(call, 400, r.Code, r.Message); return; }
                await Xml(call, "<return>true</return>");
                return;
            }
            case "DeleteInternetGateway":
            {
                if (Live(call, "internet-gateway", call.Param("InternetGatewayId")) is not { } igw) { await NotFound(call, "internetGateway", "InvalidInternetGatewayID.NotFound", call.Param("InternetGatewayId")); return; }
                if (igw.Fields["vpcId"] is not null) { await Fail(call, 400, "DependencyViolation", $"The internetGateway '{igw.Id}' has dependencies and cannot be deleted."); return; }
                Remove(igw.Id);
                await Xml(call, "<return>true</return>");
                return;
            }
            default:
                await Ec2RouteTablesAsync(call);
                return;
        }
    }

    private static string SubnetXml(AwsResource s) =>
        $"<subnetId>{s.Id}</subnetId><vpcId>{s.Fields["vpcId"]}</vpcId><state>available</state><cidrBlock>{s.Fields["cidr"]}</cidrBlock>" +
        $"<availabilityZone>{s.Fields["availabilityZone"]}</availabilityZone><mapPublicIpOnLaunch>{((bool)s.Fields["mapPublicIp"]! ? "true" : "false")}</mapPublicIpOnLaunch>" +
        $"<ownerId>{Account}</ownerId>{TagSet(s)}";

    private static string GatewayXml(AwsResource g) =>
        $"<internetGatewayId>{g.Id}</internetGatewayId><ownerId>{Account}</ownerId><attachmentSet>" +
        (g.Fields["vpcId"] is string vpc ? $"<item><vpcId>{vpc}</vpcId><state>available</state></item>" : "") + $"</attachmentSet>{TagSet(g)}";

    private async Task Ec2RouteTablesAsync(AwsCall call)
    {
        switch (call.Action)
        {
            case "CreateRouteTable":
            {
                if (Live(call, "vpc", call.Param("VpcId")) is not { } vpc) { await NotFound(call, "vpc", "InvalidVpcID.NotFound", call.Param("VpcId")); return; }
                var table = Ec2New(call, "route-table", "rtb");
                table.Fields["vpcId"] = vpc.Id;
                table.Fields["routes"] = new Dictionary<string, string> { [(string)vpc.Fields["cidr"]!] = "local" };
                table.Fields["associations"] = new Dictionary<string, string>();
                await Xml(call, $"<routeTable>{RouteTableXml(table)}</routeTable>");
                return;
            }
            case "DescribeRouteTables":
                await DescribeAsync(call, "route-table", "RouteTableId", "routeTableSet", "InvalidRouteTableID.NotFound", "route table", RouteTableXml,
                    r => new() { ["route-table-id"] = r.Id, ["vpc-id"] = (string?)r.Fields.GetValueOrDefault("vpcId") }, "route-table-id", "vpc-id");
                return;
            case "CreateRoute":
            {
                if (Live(call, "route-table", call.Param("RouteTableId")) is not { } table) { await NotFound(call, "route table", "InvalidRouteTableID.NotFound", call.Param("RouteTableId")); return; }
                if (Live(call, "internet-gateway", call.Param("GatewayId")) is not { } igw) { await NotFound(call, "gateway", "InvalidGatewayID.NotFound", call.Param("GatewayId")); return; }
                if ((string?)igw.Fields["vpcId"] != (string?)table.Fields["vpcId"])
                {
                    await Fail(call, 400, "InvalidParameterValue", $"route table {table.Id} and network gateway {igw.Id} belong to different networks");
                    return;
                }
                var destination = call.Param("DestinationCidrBlock") ?? "";
                bool added;
                lock (table.Fields) added = ((Dictionary<string, string>)table.Fields["routes"]!).TryAdd(destination, igw.Id);
                if (!added) { await Fail(call, 400, "RouteAlreadyExists", $"The route identified by {destination} already exists."); return; }
                await Xml(call, "<return>true</return>");
                return;
            }
            case "AssociateRouteTable":
            {
                if (Live(call, "route-table", call.Param("RouteTableId")) is not { } table) { await NotFound(call, "route table", "InvalidRouteTableID.NotFound", call.Param("RouteTableId")); return; }
                if (Live(call, "subnet", call.Param("SubnetId")) is not { } subnet) { await NotFound(call, "subnet", "InvalidSubnetID.NotFound", call.Param("SubnetId")); return; }
                var other = All("route-table", call.Region).FirstOrDefault(t => ((Dictionary<string, string>)t.Fields["associations"]!).ContainsKey(subnet.Id));
                if (other is not null) { await Fail(call, 400, "Resource.AlreadyAssociated", $"the specified association for route table {other.Id} conflicts with an existing association"); return; }
                var association = NewId("rtbassoc");
                lock (table.Fields) ((Dictionary<string, string>)table.Fields["associations"]!)[subnet.Id] = association;
                await Xml(call, $"<associationId>{association}</associationId><associationState><state>associated</state></associationState>");
                return;
            }
            case "DeleteRouteTable":
            {
                if (Live(call, "route-table", call.Param("RouteTableId")) is not { } table) { await NotFound(call, "route table", "InvalidRouteTableID.NotFound", call.Param("RouteTableId")); return; }
                if (((Dictionary<string, string>)table.Fields["associations"]!).Count > 0) { await Fail(call, 400, "DependencyViolation", $"The routeTable '{table.Id}' has dependencies and cannot be deleted."); return; }
                Remove(table.Id);
                await Xml(call, "<return>true</return>");
                return;
            }
        }
    }

    private static string RouteTableXml(AwsResource t) =>
        $"<routeTableId>{t.Id}</routeTableId><vpcId>{t.Fields["vpcId"]}</vpcId><ownerId>{Account}</ownerId><routeSet>" +
        string.Concat(((Dictionary<string, string>)t.Fields["routes"]!).Select(r => $"<item><destinationCidrBlock>{r.Key}</destinationCidrBlock><gatewayId>{r.Value}</gatewayId><state>active</state></item>")) +
        "</routeSet><associationSet>" +
        string.Concat(((Dictionary<string, string>)t.Fields["associations"]!).Select(a => $"<item><routeTableAssociationId>{a.Value}</routeTableAssociationId><routeTableId>{t.Id}</routeTableId><subnetId>{a.Key}</subnetId><main>false</main></item>")) +
        $"</associationSet>{TagSet(t)}";
}
