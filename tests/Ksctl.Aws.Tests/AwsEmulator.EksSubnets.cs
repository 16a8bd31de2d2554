namespace Ksctl.Aws.Tests;

/// <summary>
/// How EKS sees EC2's subnets: the VPC and availability zone of a live subnet of the region (null: none such).
/// Source: botocore data/eks/2017-11-01/service-2.json (VpcConfigRequest.subnetIds: "subnets in at least two different
/// Availability Zones"; InvalidParameterException otherwise) and data/ec2/2016-11-15/service-2.json (Subnet.VpcId,
/// Subnet.AvailabilityZone).
/// </summary>
public sealed partial class AwsEmulator
{
    private (string Vpc, string Zone)? SubnetInfo(string id, string region)
    {
        if (Find(id) is not { Kind: "subnet" } subnet || subnet.Region != region) return null;
        lock (subnet.Fields)
            return subnet.Fields.GetValueOrDefault("vpc") is string vpc && subnet.Fields.GetValueOrDefault("az") is string zone ? (vpc, zone) : null;
    }
}
