namespace Ksctl.Aws.Tests;

/// <summary>
/// The EC2 actions an EKS cluster's VPC needs beyond the self-managed network (AwsEmulator.Ec2Network.cs), added to
/// <see cref="Ec2Actions"/>: DescribeAvailabilityZones (availabilityZoneInfo items with zoneName, zoneState,
/// regionName, zoneId, zoneType; filters state, zone-type, zone-name, region-name), ModifyVpcAttribute (exactly one of
/// EnableDnsSupport.Value / EnableDnsHostnames.Value per call, else InvalidParameterCombination) and
/// ModifySubnetAttribute (MapPublicIpOnLaunch.Value). Sources: botocore data/ec2/2016-11-15/service-2.json and the EC2
/// API reference pages of these actions. Zones: every region offers a, b and c here; CreateSubnet in another zone of
/// the region is what EC2 refuses (checked by EKS's subnet rules through <see cref="SubnetInfo"/>).
/// </summary>
public sealed partial class AwsEmulator
{
    static AwsEmulator()
    {
        Ec2Actions["DescribeAvailabilityZones"] = (e, c) => e.DescribeZonesAsync(c);
        Ec2Actions["ModifyVpcAttribute"] = (e, c) => e.ModifyVpcAttributeAsync(c);
        Ec2Actions["ModifySubnetAttribute"] = (e, c) => e.ModifySubnetAttributeAsync(c);
    }

    /// <summary>The availability zones of a region (three here).</summary>
    public static IReadOnlyList<string> Zones(string region) => [$"{region}a", $"{region}b", $"{region}c"];

    private sealed record Zone(string Name, string Region, string Id);

    private Task DescribeZonesAsync(AwsCall call)
    {
        var zones = Zones(call.Region).Select((z, i) => new AwsResource { Kind = "zone", Id = z, Region = call.Region, Fields = { ["zoneId"] = $"{call.Region}-az{i + 1}" } });
        var found = Filtered(call, zones, new()
        {
            ["state"] = _ => ["available"], ["zone-type"] = _ => ["availability-zone"], ["zone-name"] = r => [r.Id], ["region-name"] = r => [r.Region],
        });
        return Xml(call, "<availabilityZoneInfo>" + string.Concat(found.Select(z =>
            $"<item><zoneName>{z.Id}</zoneName><zoneState>available</zoneState><regionName>{z.Region}</regionName><zoneId>{Field(z, "zoneId")}</zoneId><zoneType>availability-zone</zoneType></item>")) + "</availabilityZoneInfo>");
    }

    private Task ModifyVpcAttributeAsync(AwsCall call)
    {
        var vpc = Existing(call, "vpc", Required(call, "VpcId"), "InvalidVpcID.NotFound", "vpc");
        var given = new[] { "EnableDnsSupport.Value", "EnableDnsHostnames.Value" }.Where(a => call.Param(a) is not null).ToList();
        if (given.Count != 1)
            throw new Ec2Fault("InvalidParameterCombination", given.Count == 0 ? "No attribute specified." : "Fields for multiple attribute types specified: enableDnsSupport, enableDnsHostnames");
        lock (vpc.Fields) vpc.Fields[given[0] == "EnableDnsSupport.Value" ? "dnsSupport" : "dnsHostnames"] = call.Param(given[0]) == "true";
        return Xml(call, "<return>true</return>");
    }

    private Task ModifySubnetAttributeAsync(AwsCall call)
    {
        var subnet = Existing(call, "subnet", Required(call, "SubnetId"), "InvalidSubnetID.NotFound", "subnet");
        var value = call.Param("MapPublicIpOnLaunch.Value") ?? throw new Ec2Fault("InvalidParameterCombination", "No attribute specified.");
        lock (subnet.Fields) subnet.Fields["mapPublicIp"] = value == "true";
        return Xml(call, "<return>true</return>");
    }
}
