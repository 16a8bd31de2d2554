namespace Ksctl.Aws.Tests;

/// <summary>
/// What Tab completion reads: DescribeRegions (regionInfo: regionName, regionEndpoint, optInStatus) and
/// DescribeInstanceTypeOfferings (LocationType region, instanceTypeOfferingSet: instanceType, locationType, location;
/// paged by MaxResults/NextToken), as the EC2 API reference defines them.
/// </summary>
public sealed partial class AwsEmulator
{
    public List<string> Regions { get; } = ["us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"];
    public List<string> InstanceTypes { get; } = ["t3.micro", "t3.small", "t3.medium", "t3.large", "m7i.large", "m7i.xlarge", "c7i.large", "t4g.medium", "m7g.large"];

    private Task DescribeRegionsAsync(AwsCall call) =>
        Xml(call, "<regionInfo>" + string.Concat(Regions.Select(r =>
            $"<item><regionName>{r}</regionName><regionEndpoint>ec2.{r}.amazonaws.com</regionEndpoint><optInStatus>opt-in-not-required</optInStatus></item>")) + "</regionInfo>");

    private Task DescribeOfferingsAsync(AwsCall call)
    {
        var location = call.Param("LocationType") ?? "region";
        if (location is not ("region" or "availability-zone" or "availability-zone-id" or "outpost"))
            throw new Ec2Fault("InvalidParameterValue", $"Invalid value '{location}' for LocationType.");
        var max = int.TryParse(call.Param("MaxResults"), out var m) ? m : 1000;
        if (max is < 5 or > 1000) throw new Ec2Fault("InvalidParameterValue", "MaxResults must be between 5 and 1000.");
        var start = int.TryParse(call.Param("NextToken"), out var t) ? t : 0;
        var page = InstanceTypes.Skip(start).Take(max).ToList();
        var next = start + page.Count < InstanceTypes.Count ? $"<nextToken>{start + page.Count}</nextToken>" : "";
        return Xml(call, "<instanceTypeOfferingSet>" + string.Concat(page.Select(i =>
            $"<item><instanceType>{i}</instanceType><locationType>region</locationType><location>{call.Region}</location></item>")) + "</instanceTypeOfferingSet>" + next);
    }
}
