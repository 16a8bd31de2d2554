namespace Ksctl.Aws.Tests;

/// <summary>How EKS sees EC2's subnets: the VPC and availability zone of a live subnet of the region (null: none such).</summary>
public sealed partial class AwsEmulator
{
    private (string Vpc, string Zone)? SubnetInfo(string id, string region)
    {
        if (Find(id) is not { Kind: "subnet" } subnet || subnet.Region != region) return null;
        lock (subnet.Fields)
            return subnet.Fields.GetValueOrDefault("vpc") is string vpc && subnet.Fields.GetValueOrDefault("az") is string zone ? (vpc, zone) : null;
    }
}
