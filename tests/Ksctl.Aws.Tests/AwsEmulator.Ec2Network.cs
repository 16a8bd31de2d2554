using System.Net;

namespace Ksctl.Aws.Tests;

/// <summary>
/// EC2 (the "ec2" query protocol, API version 2016-11-15, namespace http://ec2.amazonaws.com/doc/2016-11-15/): the
/// network actions an EKS cluster's VPC needs. Member and answer names from botocore data/ec2/2016-11-15/service-2.json
/// (TagSpecification.N.Tag.M.Key, Filter.N.Name/Value.M, EnableDnsHostnames.Value, MapPublicIpOnLaunch.Value; answers
/// vpcSet/subnetSet/internetGatewaySet/routeTableSet with tagSet items); rules and codes from the EC2 API reference
/// and its "Error codes" page: unknown ids are InvalidVpcID.NotFound / InvalidSubnetID.NotFound /
/// InvalidInternetGatewayID.NotFound / InvalidRouteTableID.NotFound; a subnet's CIDR must lie in its VPC's
/// (InvalidSubnet.Range) and not overlap another (InvalidSubnet.Conflict), in a zone of the region
/// (InvalidParameterValue); ModifyVpcAttribute takes one attribute per call (InvalidParameterCombination); a route
/// to a gateway not attached to the table's VPC is refused (InvalidParameterValue), a second 0.0.0.0/0 is
/// RouteAlreadyExists; deleting what something still uses is DependencyViolation (a VPC with subnets, gateways or
/// route tables; a subnet an EKS cluster or node group uses, as their network interfaces hold it; an attached gateway;
/// a route table with associations). Unknown filters are InvalidParameterValue.
/// This is the EKS helper's network part of the EC2 emulator; the self-managed part (instances, security groups, key
/// pairs) is the AWS helper's.
/// </summary>
public sealed partial class AwsEmulator
{
    private static readonly HashSet<string> Ec2NetworkActions =
    [
        "DescribeAvailabilityZones", "CreateVpc", "DescribeVpcs", "ModifyVpcAttribute", "DeleteVpc", "CreateSubnet", "DescribeSubnets",
        "ModifySubnetAttribute", "DeleteSubnet", "CreateInternetGateway", "DescribeInternetGateways", "AttachInternetGateway",
        "DetachInternetGateway", "DeleteInternetGateway", "CreateRouteTable", "DescribeRouteTables", "CreateRoute", "AssociateRouteTable",
        "DeleteRouteTable",
    ];

    /// <summary>The availability zones of every region: a, b, c (us-east-1 has six; three are enough here).</summary>
    public static IReadOnlyList<string> Zones(string region) => [$"{region}a", $"{region}b", $"{region}c"];

    [AwsService("ec2", AwsProtocol.Ec2Query, XmlNamespace = "http://ec2.amazonaws.com/doc/2016-11-15/", ApiVersion = "2016-11-15")]
    private async Task Ec2Async(AwsCall call)
    {
        if (!await QueryEnvelopeAsync(call, Ec2NetworkActions)) return;
        await Ec2NetworkAsync(call);
    }

    private Task NotFound(AwsCall call, string kind, string code, string? id) => Fail(call, 400, code, $"The {kind} ID '{id}' does not exist");

    private AwsResource? Live(AwsCall call, string kind, string? id) =>
        id is not null && Find(id) is { } r && r.Kind == kind && r.Region == call.Region ? r : null;

    private async Task Ec2NetworkAsync(AwsCall call)
    {
        switch (call.Action)
        {
            case "DescribeAvailabilityZones":
            {
                if (await FiltersRefusedAsync(call, "state", "zone-type", "zone-name", "region-name")) return;
                var items = Zones(call.Region).Where(z => Matches(call, new() { ["state"] = "available", ["zone-type"] = "availability-zone", ["zone-name"] = z, ["region-name"] = call.Region }, new Dictionary<string, string>()))
                    .Select((z, i) => $"<item><zoneName>{z}</zoneName><zoneState>available</zoneState><regionName>{call.Region}</regionName><zoneId>{call.Region[..2]}{call.Region.Split('-')[1][..1]}1-az{i + 1}</zoneId><zoneType>availability-zone</zoneType></item>");
                await Xml(call, $"<availabilityZoneInfo>{string.Concat(items)}</availabilityZoneInfo>");
                return;
            }
            case "CreateVpc":
            {
                var cidr = call.Param("CidrBlock");
                if (Cidr.Parse(cidr) is not { } block || block.Prefix is < 16 or > 28)
                {
                    await Fail(call, 400, "InvalidVpc.Range", $"The CIDR '{cidr}' is invalid.");
                    return;
                }
                var vpc = Ec2New(call, "vpc", "vpc");
                vpc.Fields["cidr"] = cidr;
                vpc.Fields["dnsSupport"] = true;
                vpc.Fields["dnsHostnames"] = false;
                await Xml(call, $"<vpc>{VpcXml(vpc)}</vpc>");
                return;
            }
            case "DescribeVpcs":
                await DescribeAsync(call, "vpc", "VpcId", "vpcSet", "InvalidVpcID.NotFound", "vpc", VpcXml, r => new() { ["vpc-id"] = r.Id, ["cidr"] = (string?)r.Fields["cidr"] }, "vpc-id", "cidr");
                return;
            case "ModifyVpcAttribute":
            {
                if (Live(call, "vpc", call.Param("VpcId")) is not { } vpc) { await NotFound(call, "vpc", "InvalidVpcID.NotFound", call.Param("VpcId")); return; }
                var given = new[] { "EnableDnsSupport.Value", "EnableDnsHostnames.Value" }.Where(a => call.Param(a) is not null).ToList();
                if (given.Count != 1)
                {
                    await Fail(call, 400, "InvalidParameterCombination", given.Count == 0 ? "No attribute specified." : "Fields for multiple attribute types specified: enableDnsSupport, enableDnsHostnames");
                    return;
                }
                lock (vpc.Fields) vpc.Fields[given[0] == "EnableDnsSupport.Value" ? "dnsSupport" : "dnsHostnames"] = call.Param(given[0]) == "true";
                await Xml(call, "<return>true</return>");
                return;
            }
            case "DeleteVpc":
            {
                if (Live(call, "vpc", call.Param("VpcId")) is not { } vpc) { await NotFound(call, "vpc", "InvalidVpcID.NotFound", call.Param("VpcId")); return; }
                var users = All("subnet", call.Region).Any(s => (string?)s.Fields["vpcId"] == vpc.Id)
                    || All("route-table", call.Region).Any(t => (string?)t.Fields["vpcId"] == vpc.Id)
                    || All("internet-gateway", call.Region).Any(g => (string?)g.Fields["vpcId"] == vpc.Id);
                if (users) { await Fail(call, 400, "DependencyViolation", $"The vpc '{vpc.Id}' has dependencies and cannot be deleted."); return; }
                Remove(vpc.Id);
                await Xml(call, "<return>true</return>");
                return;
            }
            default:
                await Ec2SubnetsAndRoutesAsync(call);
                return;
        }
    }

    private AwsResource Ec2New(AwsCall call, string kind, string prefix)
    {
        var resource = new AwsResource { Kind = kind, Id = NewId(prefix), Region = call.Region };
        foreach (var spec in call.Structures("TagSpecification"))
            for (var i = 1; spec.TryGetValue($"Tag.{i}.Key", out var key); i++)
                resource.Tags[key] = spec.GetValueOrDefault($"Tag.{i}.Value") ?? "";
        return Add(resource);
    }

    private static string TagSet(AwsResource r) =>
        "<tagSet>" + string.Concat(r.Tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"<item><key>{X(t.Key)}</key><value>{X(t.Value)}</value></item>")) + "</tagSet>";

    private static string VpcXml(AwsResource vpc) =>
        $"<vpcId>{vpc.Id}</vpcId><state>available</state><cidrBlock>{vpc.Fields["cidr"]}</cidrBlock><ownerId>{Account}</ownerId><isDefault>false</isDefault>{TagSet(vpc)}";

    /// <summary>Filters this describe understands; an unknown one is refused as EC2 does. Returns true when refused (answer written).</summary>
    private async Task<bool> FiltersRefusedAsync(AwsCall call, params string[] known)
    {
        foreach (var filter in call.Structures("Filter"))
        {
            var name = filter.GetValueOrDefault("Name") ?? "";
            if (!name.StartsWith("tag:", StringComparison.Ordinal) && !known.Contains(name))
            {
                await Fail(call, 400, "InvalidParameterValue", $"The filter '{name}' is invalid");
                return true;
            }
        }
        return false;
    }

    /// <summary>Every filter matches (a filter matches when any of its values equals the field, or a tag:Key tag).</summary>
    private static bool Matches(AwsCall call, Dictionary<string, string?> fields, IReadOnlyDictionary<string, string> tags)
    {
        foreach (var filter in call.Structures("Filter"))
        {
            var name = filter.GetValueOrDefault("Name") ?? "";
            var values = filter.Where(p => p.Key.StartsWith("Value.", StringComparison.Ordinal)).Select(p => p.Value).ToList();
            var actual = name.StartsWith("tag:", StringComparison.Ordinal) ? tags.GetValueOrDefault(name[4..]) : fields.GetValueOrDefault(name);
            if (actual is null || !values.Contains(actual)) return false;
        }
        return true;
    }

    private async Task DescribeAsync(AwsCall call, string kind, string idList, string set, string notFoundCode, string noun,
        Func<AwsResource, string> xml, Func<AwsResource, Dictionary<string, string?>> fields, params string[] known)
    {
        var ids = call.List(idList);
        foreach (var id in ids)
            if (Live(call, kind, id) is null) { await NotFound(call, noun, notFoundCode, id); return; }
        if (await FiltersRefusedAsync(call, known)) return;
        var found = All(kind, call.Region).Where(r => (ids.Count == 0 || ids.Contains(r.Id)) && Matches(call, fields(r), r.Tags)).ToList();
        string items;
        lock (_gate) items = string.Concat(found.Select(r => { lock (r.Fields) return $"<item>{xml(r)}</item>"; }));
        await Xml(call, $"<{set}>{items}</{set}>");
    }

    /// <summary>An IPv4 CIDR block (for range and overlap checks).</summary>
    internal readonly record struct Cidr(uint Address, int Prefix)
    {
        public uint Mask => Prefix == 0 ? 0 : uint.MaxValue << (32 - Prefix);
        public bool Contains(Cidr other) => other.Prefix >= Prefix && (other.Address & Mask) == Address;
        public bool Overlaps(Cidr other) => Contains(other) || other.Contains(this);

        public static Cidr? Parse(string? text)
        {
            var parts = text?.Split('/');
            if (parts is not { Length: 2 } || !IPAddress.TryParse(parts[0], out var ip) || ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork
                || !int.TryParse(parts[1], out var prefix) || prefix is < 0 or > 32) return null;
            var bytes = ip.GetAddressBytes();
            var address = (uint)(bytes[0] << 24 | bytes[1] << 16 | bytes[2] << 8 | bytes[3]);
            var cidr = new Cidr(address, prefix);
            return (address & cidr.Mask) == address ? cidr : null;
        }
    }
}
