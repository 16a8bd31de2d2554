namespace Ksctl.Aws.Tests;

/// <summary>
/// EC2 networking: CreateVpc (CidrBlock /16 to /28), CreateSubnet (inside its VPC, no overlap: InvalidSubnet.Range /
/// InvalidSubnet.Conflict), internet gateways (one per VPC: Resource.AlreadyAssociated; detach refused while
/// instances have public addresses; delete refused while attached), route tables (CreateRoute to an attached gateway,
/// RouteAlreadyExists; AssociateRouteTable within the VPC; delete refused while associated), and the
/// DependencyViolation each delete answers while something still depends on the resource (EC2 API reference for each
/// action; VPC User Guide "Delete your VPC").
/// </summary>
public sealed partial class AwsEmulator
{
    private Task CreateVpcAsync(AwsCall call)
    {
        var cidr = Required(call, "CidrBlock");
        var block = ParseCidr(cidr, "CidrBlock");
        if (block.Length is < 16 or > 28) throw new Ec2Fault("InvalidVpc.Range", $"The CIDR '{cidr}' is invalid.");
        var tags = TagsFor(call, "vpc");
        var vpc = Tagged(Add(new AwsResource { Kind = "vpc", Id = NewId("vpc"), Region = call.Region }), tags);
        vpc.Fields["cidr"] = cidr;
        return Xml(call, $"<vpc>{VpcXml(vpc)}</vpc>");
    }

    private static string VpcXml(AwsResource v) =>
        $"<vpcId>{v.Id}</vpcId><ownerId>{v.Owner}</ownerId><state>available</state><cidrBlock>{Field(v, "cidr")}</cidrBlock><dhcpOptionsId>dopt-00000000</dhcpOptionsId><instanceTenancy>default</instanceTenancy><isDefault>false</isDefault>{TagSet(v)}";

    private Task DescribeVpcsAsync(AwsCall call)
    {
        var vpcs = IdsOrAll(call, "VpcId", "vpc", "InvalidVpcID.NotFound", "vpc");
        vpcs = Filtered(call, vpcs, new() { ["vpc-id"] = r => [r.Id], ["cidr"] = r => [Field(r, "cidr")], ["state"] = _ => ["available"] });
        return Xml(call, "<vpcSet>" + string.Concat(vpcs.Select(v => $"<item>{VpcXml(v)}</item>")) + "</vpcSet>");
    }

    private Task DeleteVpcAsync(AwsCall call)
    {
        var vpc = Existing(call, "vpc", Required(call, "VpcId"), "InvalidVpcID.NotFound", "vpc");
        lock (_gate)
        {
            var dependents = All("subnet", call.Region).Concat(All("security-group", call.Region)).Concat(All("route-table", call.Region))
                .Where(r => Field(r, "vpc") == vpc.Id)
                .Concat(All("internet-gateway", call.Region).Where(g => Field(g, "vpc") == vpc.Id));
            if (dependents.Any() || EksHolds(call.Region, vpc.Id)) throw new Ec2Fault("DependencyViolation", $"The vpc '{vpc.Id}' has dependencies and cannot be deleted.");
            Remove(vpc.Id);
        }
        return Xml(call, "<return>true</return>");
    }

    private Task CreateSubnetAsync(AwsCall call)
    {
        var vpc = Existing(call, "vpc", Required(call, "VpcId"), "InvalidVpcID.NotFound", "vpc");
        var cidr = Required(call, "CidrBlock");
        var block = ParseCidr(cidr, "CidrBlock");
        if (!Within(block, ParseCidr(Field(vpc, "cidr"), "vpc")) || block.Length > 28) throw new Ec2Fault("InvalidSubnet.Range", $"The CIDR '{cidr}' is invalid.");
        var tags = TagsFor(call, "subnet");
        lock (_gate)
        {
            if (All("subnet", call.Region).Any(s => Field(s, "vpc") == vpc.Id && (Within(block, ParseCidr(Field(s, "cidr"), "s")) || Within(ParseCidr(Field(s, "cidr"), "s"), block))))
                throw new Ec2Fault("InvalidSubnet.Conflict", $"The CIDR '{cidr}' conflicts with another subnet");
            var subnet = Tagged(Add(new AwsResource { Kind = "subnet", Id = NewId("subnet"), Region = call.Region }), tags);
            subnet.Fields["vpc"] = vpc.Id;
            subnet.Fields["cidr"] = cidr;
            subnet.Fields["az"] = call.Param("AvailabilityZone") ?? call.Region + "a";
            subnet.Fields["next"] = block.Network + 4; // AWS reserves the first four addresses of a subnet.
            return Xml(call, $"<subnet>{SubnetXml(subnet)}</subnet>");
        }
    }

    private static string SubnetXml(AwsResource s) =>
        $"<subnetId>{s.Id}</subnetId><state>available</state><vpcId>{Field(s, "vpc")}</vpcId><cidrBlock>{Field(s, "cidr")}</cidrBlock><availabilityZone>{Field(s, "az")}</availabilityZone><availableIpAddressCount>4091</availableIpAddressCount><mapPublicIpOnLaunch>false</mapPublicIpOnLaunch><ownerId>{s.Owner}</ownerId>{TagSet(s)}";

    private Task DescribeSubnetsAsync(AwsCall call)
    {
        var subnets = IdsOrAll(call, "SubnetId", "subnet", "InvalidSubnetID.NotFound", "subnet");
        subnets = Filtered(call, subnets, new() { ["vpc-id"] = r => [Field(r, "vpc")], ["subnet-id"] = r => [r.Id] });
        return Xml(call, "<subnetSet>" + string.Concat(subnets.Select(s => $"<item>{SubnetXml(s)}</item>")) + "</subnetSet>");
    }

    private Task DeleteSubnetAsync(AwsCall call)
    {
        var subnet = Existing(call, "subnet", Required(call, "SubnetId"), "InvalidSubnetID.NotFound", "subnet");
        lock (_gate)
        {
            if (Holding(call.Region, i => Field(i, "subnet") == subnet.Id) || EksHolds(call.Region, subnet.Id))
                throw new Ec2Fault("DependencyViolation", $"The subnet '{subnet.Id}' has dependencies and cannot be deleted.");
            // A subnet's route table association goes with it.
            foreach (var table in All("route-table", call.Region)) Associations(table).RemoveAll(a => a.Subnet == subnet.Id);
            Remove(subnet.Id);
        }
        return Xml(call, "<return>true</return>");
    }

    private Task CreateGatewayAsync(AwsCall call)
    {
        var gateway = Tagged(Add(new AwsResource { Kind = "internet-gateway", Id = NewId("igw"), Region = call.Region }), TagsFor(call, "internet-gateway"));
        return Xml(call, $"<internetGateway>{GatewayXml(gateway)}</internetGateway>");
    }

    private static string GatewayXml(AwsResource g) =>
        $"<internetGatewayId>{g.Id}</internetGatewayId><ownerId>{g.Owner}</ownerId><attachmentSet>{(Field(g, "vpc") is { Length: > 0 } vpc ? $"<item><vpcId>{vpc}</vpcId><state>available</state></item>" : "")}</attachmentSet>{TagSet(g)}";

    private Task AttachGatewayAsync(AwsCall call)
    {
        var gateway = Existing(call, "internet-gateway", Required(call, "InternetGatewayId"), "InvalidInternetGatewayID.NotFound", "internet gateway");
        var vpc = Existing(call, "vpc", Required(call, "VpcId"), "InvalidVpcID.NotFound", "vpc");
        lock (_gate)
        {
            if (Field(gateway, "vpc").Length > 0) throw new Ec2Fault("Resource.AlreadyAssociated", $"resource {gateway.Id} is already attached to network {Field(gateway, "vpc")}");
            if (All("internet-gateway", call.Region).Any(g => Field(g, "vpc") == vpc.Id))
                throw new Ec2Fault("Resource.AlreadyAssociated", $"Network {vpc.Id} already has an internet gateway attached");
            gateway.Fields["vpc"] = vpc.Id;
        }
        return Xml(call, "<return>true</return>");
    }

    private Task DetachGatewayAsync(AwsCall call)
    {
        var gateway = Existing(call, "internet-gateway", Required(call, "InternetGatewayId"), "InvalidInternetGatewayID.NotFound", "internet gateway");
        var vpc = Required(call, "VpcId");
        lock (_gate)
        {
            if (Field(gateway, "vpc") != vpc) throw new Ec2Fault("Gateway.NotAttached", $"resource {gateway.Id} is not attached to network {vpc}");
            if (Holding(call.Region, i => Field(i, "vpc") == vpc && Field(i, "public").Length > 0))
                throw new Ec2Fault("DependencyViolation", $"Network {vpc} has some mapped public address(es). Please unmap those public address(es) before detaching the gateway.");
            gateway.Fields.Remove("vpc");
        }
        return Xml(call, "<return>true</return>");
    }

    private Task DeleteGatewayAsync(AwsCall call)
    {
        var gateway = Existing(call, "internet-gateway", Required(call, "InternetGatewayId"), "InvalidInternetGatewayID.NotFound", "internet gateway");
        lock (_gate)
        {
            if (Field(gateway, "vpc").Length > 0) throw new Ec2Fault("DependencyViolation", $"The internetGateway '{gateway.Id}' has dependencies and cannot be deleted.");
            Remove(gateway.Id);
        }
        return Xml(call, "<return>true</return>");
    }

    private Task DescribeGatewaysAsync(AwsCall call)
    {
        var gateways = IdsOrAll(call, "InternetGatewayId", "internet-gateway", "InvalidInternetGatewayID.NotFound", "internet gateway");
        gateways = Filtered(call, gateways, new() { ["attachment.vpc-id"] = r => [Field(r, "vpc")], ["internet-gateway-id"] = r => [r.Id] });
        return Xml(call, "<internetGatewaySet>" + string.Concat(gateways.Select(g => $"<item>{GatewayXml(g)}</item>")) + "</internetGatewaySet>");
    }

    private sealed record Association(string Id, string Subnet);
    private sealed record Route(string Destination, string Gateway);

    private static List<Association> Associations(AwsResource table) => (List<Association>)table.Fields["associations"]!;
    private static List<Route> Routes(AwsResource table) => (List<Route>)table.Fields["routes"]!;

    private Task CreateRouteTableAsync(AwsCall call)
    {
        var vpc = Existing(call, "vpc", Required(call, "VpcId"), "InvalidVpcID.NotFound", "vpc");
        var table = Tagged(Add(new AwsResource { Kind = "route-table", Id = NewId("rtb"), Region = call.Region }), TagsFor(call, "route-table"));
        table.Fields["vpc"] = vpc.Id;
        table.Fields["routes"] = new List<Route> { new(Field(vpc, "cidr"), "local") };
        table.Fields["associations"] = new List<Association>();
        return Xml(call, $"<routeTable>{RouteTableXml(table)}</routeTable>");
    }

    private static string RouteTableXml(AwsResource t) =>
        $"<routeTableId>{t.Id}</routeTableId><vpcId>{Field(t, "vpc")}</vpcId><ownerId>{t.Owner}</ownerId><routeSet>"
        + string.Concat(Routes(t).Select(r => $"<item><destinationCidrBlock>{r.Destination}</destinationCidrBlock><gatewayId>{r.Gateway}</gatewayId><state>active</state><origin>{(r.Gateway == "local" ? "CreateRouteTable" : "CreateRoute")}</origin></item>"))
        + "</routeSet><associationSet>"
        + string.Concat(Associations(t).Select(a => $"<item><routeTableAssociationId>{a.Id}</routeTableAssociationId><routeTableId>{t.Id}</routeTableId><subnetId>{a.Subnet}</subnetId><main>false</main><associationState><state>associated</state></associationState></item>"))
        + $"</associationSet><propagatingVgwSet/>{TagSet(t)}";

    private Task CreateRouteAsync(AwsCall call)
    {
        var table = Existing(call, "route-table", Required(call, "RouteTableId"), "InvalidRouteTableID.NotFound", "route table");
        var destination = Required(call, "DestinationCidrBlock");
        ParseCidr(destination, "DestinationCidrBlock");
        var gatewayId = call.Param("GatewayId") ?? throw new Ec2Fault("InvalidParameterCombination", "No route target was given (GatewayId, NatGatewayId, InstanceId, ...).");
        var gateway = Existing(call, "internet-gateway", gatewayId, "InvalidGatewayID.NotFound", "gateway");
        lock (_gate)
        {
            if (Field(gateway, "vpc") != Field(table, "vpc"))
                throw new Ec2Fault("InvalidParameterValue", $"route table {table.Id} and network gateway {gateway.Id} belong to different networks");
            if (Routes(table).Any(r => r.Destination == destination))
                throw new Ec2Fault("RouteAlreadyExists", $"The route identified by {destination} already exists.");
            Routes(table).Add(new Route(destination, gateway.Id));
        }
        return Xml(call, "<return>true</return>");
    }

    private Task AssociateRouteTableAsync(AwsCall call)
    {
        var table = Existing(call, "route-table", Required(call, "RouteTableId"), "InvalidRouteTableID.NotFound", "route table");
        var subnet = Existing(call, "subnet", Required(call, "SubnetId"), "InvalidSubnetID.NotFound", "subnet");
        lock (_gate)
        {
            if (Field(subnet, "vpc") != Field(table, "vpc"))
                throw new Ec2Fault("InvalidParameterValue", $"Route table {table.Id} and subnet {subnet.Id} belong to different networks");
            if (All("route-table", call.Region).Any(t => Associations(t).Any(a => a.Subnet == subnet.Id)))
                throw new Ec2Fault("Resource.AlreadyAssociated", $"the specified association for route table {table.Id} conflicts with an existing association");
            var association = new Association(NewId("rtbassoc"), subnet.Id);
            Associations(table).Add(association);
            return Xml(call, $"<associationId>{association.Id}</associationId><associationState><state>associated</state></associationState>");
        }
    }

    private Task DisassociateRouteTableAsync(AwsCall call)
    {
        var id = Required(call, "AssociationId");
        lock (_gate)
        {
            var table = All("route-table", call.Region).FirstOrDefault(t => Associations(t).Any(a => a.Id == id))
                ?? throw new Ec2Fault("InvalidAssociationID.NotFound", $"The association ID '{id}' does not exist");
            Associations(table).RemoveAll(a => a.Id == id);
        }
        return Xml(call, "<return>true</return>");
    }

    private Task DeleteRouteTableAsync(AwsCall call)
    {
        var table = Existing(call, "route-table", Required(call, "RouteTableId"), "InvalidRouteTableID.NotFound", "route table");
        lock (_gate)
        {
            if (Associations(table).Count > 0) throw new Ec2Fault("DependencyViolation", $"The routeTable '{table.Id}' has dependencies and cannot be deleted.");
            Remove(table.Id);
        }
        return Xml(call, "<return>true</return>");
    }

    private Task DescribeRouteTablesAsync(AwsCall call)
    {
        var tables = IdsOrAll(call, "RouteTableId", "route-table", "InvalidRouteTableID.NotFound", "route table");
        tables = Filtered(call, tables, new() { ["vpc-id"] = r => [Field(r, "vpc")], ["association.subnet-id"] = r => Associations(r).Select(a => a.Subnet) });
        return Xml(call, "<routeTableSet>" + string.Concat(tables.Select(t => $"<item>{RouteTableXml(t)}</item>")) + "</routeTableSet>");
    }

    /// <summary>The resources a describe names (Name.N), each of which must exist, or every one of the kind in the region.</summary>
    private List<AwsResource> IdsOrAll(AwsCall call, string listName, string kind, string notFoundCode, string noun)
    {
        var ids = call.List(listName);
        lock (_gate)
        {
            var all = All(kind, call.Region).ToList();
            if (ids.Count == 0) return all;
            foreach (var id in ids)
                if (all.All(r => r.Id != id)) throw new Ec2Fault(notFoundCode, $"The {noun} ID '{id}' does not exist");
            return all.Where(r => ids.Contains(r.Id)).ToList();
        }
    }

    /// <summary>Whether an instance that is not yet terminated matches (it still holds its subnet, groups and addresses).</summary>
    private bool Holding(string region, Func<AwsResource, bool> match) =>
        _resources.Values.Any(i => i.Kind == "instance" && i.Region == region && Field(i, "state") != "terminated" && match(i));

    /// <summary>
    /// Whether an EKS cluster or node group (until it is gone, DELETING included) still has network interfaces in a
    /// subnet or on a security group: EKS places its cross-account ENIs in the cluster's subnets and the node group's
    /// instances in its own, and EC2 refuses to delete a subnet, security group or VPC with interfaces in it
    /// (DependencyViolation; EKS User Guide "Amazon EKS VPC and subnet requirements", EC2 API reference DeleteSubnet,
    /// DeleteSecurityGroup, DeleteVpc).
    /// </summary>
    private bool EksHolds(string region, string id) =>
        _resources.Values.Any(r => !r.Gone && r.Region == region && r.Kind is "eks-cluster" or "eks-nodegroup"
            && ((r.Fields.GetValueOrDefault("subnets") as List<string>)?.Contains(id) == true
                || (r.Fields.GetValueOrDefault("securityGroups") as List<string>)?.Contains(id) == true
                || r.Fields.GetValueOrDefault("vpc") as string == id));
}
