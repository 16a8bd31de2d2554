using Xunit;

namespace Ksctl.PowerShell.Tests;

/// <summary>AWS through the cmdlets: -WhatIf lists every EC2 resource, and -ProfileName binds and is AWS's alone.</summary>
[Collection(PowerShellCollection.Name)]
public sealed class AwsCmdletTests
{
    [Fact]
    public void WhatIf_lists_every_AWS_resource_of_a_self_managed_cluster_and_sends_nothing()
    {
        using var session = new KsctlSession();
        var result = session.Run("New-KsctlCluster ha -Provider Aws -Type SelfManaged -Region eu-west-1 -Distribution Kubeadm -WorkerCount 2 -WhatIf");

        Assert.Empty(result.Errors);
        var text = result.HostText;
        foreach (var expected in new[]
        {
            "VPC ha-net 172.31.0.0/16 in eu-west-1", "subnet ha-subnet", "internet gateway ha-igw", "route table ha-rt", "key pair ha-ssh",
            "security group ha-fw-lb", "security group ha-fw-db", "security group ha-fw-cp", "security group ha-fw-wp",
            "EC2 instance ha-vm-lb: t3.small", "EC2 instance ha-vm-cp-2: t3.medium", "EC2 instance ha-vm-wp-1: t3.large", "IMDSv2 required",
        })
            Assert.Contains(expected, text);
        Assert.Empty(session.StateFiles());
    }

    [Fact]
    public void ProfileName_is_refused_for_other_providers_naming_the_parameter()
    {
        using var session = new KsctlSession();
        var result = session.Run("New-KsctlCluster demo -Provider Local -ProfileName dev");
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("KsctlInvalidSpec", error.FullyQualifiedErrorId);
        Assert.Contains("-ProfileName", error.Exception.Message);
        Assert.Contains("Aws only", error.Exception.Message);
        Assert.Empty(session.StateFiles());
    }
}
