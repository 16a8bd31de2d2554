using Ksctl.Core.Clusters;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;

namespace Ksctl.Aws.Tests;

/// <summary>Validation and defaults of AWS specs (nothing is sent for a bad one), and the plan -WhatIf shows.</summary>
[Collection(AwsEnvironmentCollection.Name)]
public sealed class AwsSpecTests : IAsyncLifetime
{
    private AwsTestBed _bed = null!;

    public async Task InitializeAsync() => _bed = await AwsTestBed.StartAsync();
    public async Task DisposeAsync() => await _bed.DisposeAsync();

    private static ClusterSpec HA(string name = "ha", string region = "us-east-1") => new() { Id = new ClusterId(CloudProvider.Aws, ClusterType.SelfManaged, name, region) };

    [Theory]
    [InlineData("ControlPlaneSize", "Standard_F2s")]
    [InlineData("WorkerSize", "t3.huge; rm -rf /")]
    [InlineData("EtcdCount", "4")]
    [InlineData("ControlPlaneCount", "1")]
    [InlineData("Region", "mars-north-1")]
    [InlineData("NodeSize", "t3.medium")]
    [InlineData("TrustOnFirstUse", "true")]
    public async Task An_invalid_spec_is_KsctlInvalidSpec_naming_the_parameter_and_sends_nothing(string parameter, string value)
    {
        AwsTestBed.UseEnvironmentCredential();
        var spec = parameter switch
        {
            "ControlPlaneSize" => HA() with { ControlPlaneSize = value },
            "WorkerSize" => HA() with { WorkerSize = value },
            "EtcdCount" => HA() with { EtcdCount = int.Parse(value) },
            "ControlPlaneCount" => HA() with { ControlPlaneCount = int.Parse(value) },
            "Region" => HA(region: value),
            "NodeSize" => HA() with { NodeSize = value },
            _ => HA() with { TrustOnFirstUse = true },
        };
        using var manager = _bed.NewManager();

        var e = await Assert.ThrowsAsync<InvalidSpecException>(() => manager.CreateAsync(spec, OperationOptions.Default, CancellationToken.None));

        Assert.Equal(parameter, e.Parameter);
        Assert.Empty(_bed.Aws.Requests);
        await Assert.ThrowsAsync<ClusterNotFoundException>(() => manager.GetAsync(spec.Id, CancellationToken.None));
    }

    [Fact]
    public async Task The_defaults_are_us_east_1_current_generation_types_and_the_plan_lists_every_resource_without_a_request()
    {
        Assert.Equal("us-east-1", _bed.Provider().Descriptor.DefaultRegion);
        Assert.Equal([ClusterType.SelfManaged], _bed.Provider().Descriptor.SupportedTypes.Where(t => t == ClusterType.SelfManaged));
        using var manager = _bed.NewManager();
        var (plan, existing) = await manager.PlanCreateAsync(HA(), CancellationToken.None);

        Assert.Null(existing);
        Assert.Empty(_bed.Aws.Requests);
        var text = plan.Render();
        foreach (var expected in new[]
        {
            "VPC ha-net 172.31.0.0/16 in us-east-1", "subnet ha-subnet 172.31.0.0/20", "internet gateway ha-igw", "route table ha-rt: 0.0.0.0/0 -> ha-igw",
            "key pair ha-ssh", "security group ha-fw-lb: inbound TCP 22 from anywhere", "TCP 6443 from anywhere", "security group ha-fw-wp", "TCP 30000-32767 from anywhere",
            "EC2 instance ha-vm-lb: t3.small", "EC2 instance ha-vm-db-2: t3.medium", "EC2 instance ha-vm-cp-0: t3.medium", "EC2 instance ha-vm-wp-0: t3.large",
            "IMDSv2 required", "30 GB gp3, encrypted", "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id",
        })
            Assert.Contains(expected, text);
        Assert.Equal(1 + 3 + 3 + 1, plan.Steps.Count(s => s.Name.StartsWith("machine:", StringComparison.Ordinal)));

        // Graviton types take the arm64 image; a type with no family digit is refused.
        var (arm, _) = await manager.PlanCreateAsync(HA("arm") with { WorkerSize = "m7g.large" }, CancellationToken.None);
        Assert.Contains("current/arm64/hvm/ebs-gp3/ami-id", arm.Render());
        Assert.Contains("current/amd64/hvm/ebs-gp3/ami-id", arm.Render());
        Assert.Empty(_bed.Aws.Requests);
    }
}
