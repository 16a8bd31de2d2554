using Ksctl.Core.Clusters;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;

namespace Ksctl.Aws.Tests;

/// <summary>EKS specs: refused before any request when invalid; -WhatIf lists every resource without calling AWS.</summary>
[Collection(AwsEnvironmentCollection.Name)]
public sealed class EksSpecTests : IAsyncLifetime
{
    private AwsTestBed _bed = null!;

    public async Task InitializeAsync() => _bed = await AwsTestBed.StartAsync();
    public async Task DisposeAsync() => await _bed.DisposeAsync();

    private static ClusterId Id => new(CloudProvider.Aws, ClusterType.Managed, "shop", "us-east-1");

    [Theory]
    [InlineData(0, null, null, null, "NodeCount")]
    [InlineData(451, null, null, null, "NodeCount")]
    [InlineData(2, "large", null, null, "NodeSize")]
    [InlineData(2, "t3.medium", "v1.33", null, "KubernetesVersion")]
    [InlineData(2, "t3.medium", null, 3, "WorkerCount")]
    public async Task Invalid_specs_are_refused_before_any_request(int count, string? size, string? version, int? workers, string parameter)
    {
        AwsTestBed.UseEnvironmentCredential();
        using var manager = _bed.NewManager();
        var spec = new ClusterSpec { Id = Id, NodeCount = count, NodeSize = size, KubernetesVersion = version, WorkerCount = workers };

        var e = await Assert.ThrowsAsync<InvalidSpecException>(() => manager.CreateAsync(spec, OperationOptions.Default, CancellationToken.None));

        Assert.Equal(parameter, e.Parameter);
        Assert.Empty(_bed.Aws.Requests);
        await Assert.ThrowsAsync<ClusterNotFoundException>(() => manager.GetAsync(Id, CancellationToken.None));
    }

    [Fact]
    public async Task WhatIf_lists_every_resource_in_order_and_calls_nothing()
    {
        using var manager = _bed.NewManager();

        var (plan, existing) = await manager.PlanCreateAsync(new ClusterSpec { Id = Id, NodeCount = 3, NodeSize = "m7g.large" }, CancellationToken.None);

        Assert.Null(existing);
        Assert.Equal(["aws:iam-role:cluster", "aws:iam-role:nodes", "aws:network", "eks:cluster", "eks:admin-access", "eks:nodegroup", "kubeconfig"],
            plan.Steps.Select(s => s.Name));
        var text = plan.Render();
        foreach (var expected in new[]
                 {
                     "IAM role ksctl-shop-us-east-1-eks-cluster", "IAM role ksctl-shop-us-east-1-eks-nodes", "VPC shop-net",
                     "subnet shop-subnet-0", "subnet shop-subnet-1", "internet gateway shop-igw",
                     "EKS cluster shop (us-east-1)", "EKS node group ksctl-nodes (3 × m7g.large)", "AL2023_ARM_64_STANDARD", "context shop-us-east-1-managed-aws-ksctl",
                 })
            Assert.Contains(expected, text);
        Assert.Empty(_bed.Aws.Requests);
    }
}
