using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Ksctl.Core.Clusters;

namespace Ksctl.Aws.Tests;

/// <summary>An EKS cluster's network: named and tagged like every provider's, and held by EKS while the cluster lives.</summary>
[Collection(AwsEnvironmentCollection.Name)]
public sealed class EksNetworkTests : IAsyncLifetime
{
    private AwsTestBed _bed = null!;
    private AwsEmulator Aws => _bed.Aws;
    private const string Region = "us-east-1";

    public async Task InitializeAsync() => _bed = await AwsTestBed.StartAsync();
    public async Task DisposeAsync() => await _bed.DisposeAsync();

    [Fact]
    public async Task The_EKS_network_is_named_like_every_provider_tagged_managed_held_while_EKS_uses_it_and_never_mistaken_for_a_self_managed_one()
    {
        AwsTestBed.UseEnvironmentCredential();
        // A self-managed cluster of the same name in the region: its VPC is also shop-net, tagged ksctl-type=selfmanaged.
        var foreign = Aws.Add(new AwsResource { Kind = "vpc", Id = Aws.NewId("vpc"), Region = Region });
        foreign.Fields["cidr"] = "172.31.0.0/16";
        foreach (var (k, v) in new Dictionary<string, string> { ["Name"] = "shop-net", ["ksctl-cluster"] = "shop", ["ksctl-type"] = "selfmanaged", ["ksctl-region"] = Region })
            foreign.Tags[k] = v;
        using var manager = _bed.NewManager();

        await manager.CreateAsync(EksManagedTests.Spec(), OperationOptions.Default, CancellationToken.None);

        var vpc = Assert.Single(Aws.All("vpc", Region), v => v.Id != foreign.Id);
        Assert.Equal(("shop-net", "shop", "managed", Region), (vpc.Tags["Name"], vpc.Tags["ksctl-cluster"], vpc.Tags["ksctl-type"], vpc.Tags["ksctl-region"]));
        Assert.Equal(["shop-subnet-0", "shop-subnet-1"], Aws.All("subnet", Region).Select(s => s.Tags["Name"]).Order());
        Assert.Equal("shop-igw", Assert.Single(Aws.All("internet-gateway", Region)).Tags["Name"]);
        Assert.Equal("shop-rt", Assert.Single(Aws.All("route-table", Region)).Tags["Name"]);
        Assert.All(Aws.Inventory.Where(r => r.Id != foreign.Id && r.Kind is "vpc" or "subnet" or "internet-gateway" or "route-table" or "eks-cluster" or "eks-nodegroup"),
            r => Assert.Equal(("shop", "managed"), (r.Tags["ksctl-cluster"], r.Tags["ksctl-type"])));

        // EKS holds its subnets (its network interfaces are in them) and so the VPC: EC2 refuses both deletions.
        using var ec2 = new AmazonEC2Client(new BasicAWSCredentials(AwsEmulator.AccessKeyId, AwsEmulator.SecretKey),
            new AmazonEC2Config { ServiceURL = Aws.BaseUrl.ToString(), AuthenticationRegion = Region, MaxErrorRetry = 0 });
        var subnet = Aws.All("subnet", Region).First();
        var held = await Assert.ThrowsAsync<AmazonEC2Exception>(() => ec2.DeleteSubnetAsync(new DeleteSubnetRequest { SubnetId = subnet.Id }));
        Assert.Equal("DependencyViolation", held.ErrorCode);
        Aws.Remove(Aws.All("route-table", Region).Single().Id);
        foreach (var s in Aws.All("subnet", Region).ToList()) Aws.Remove(s.Id);
        Aws.Remove(Aws.All("internet-gateway", Region).Single().Id);
        var vpcHeld = await Assert.ThrowsAsync<AmazonEC2Exception>(() => ec2.DeleteVpcAsync(new DeleteVpcRequest { VpcId = vpc.Id }));
        Assert.Equal("DependencyViolation", vpcHeld.ErrorCode);
    }

    [Fact]
    public async Task Deleting_the_EKS_cluster_leaves_a_self_managed_network_of_the_same_name_alone()
    {
        AwsTestBed.UseEnvironmentCredential();
        var foreign = Aws.Add(new AwsResource { Kind = "vpc", Id = Aws.NewId("vpc"), Region = Region });
        foreign.Fields["cidr"] = "172.31.0.0/16";
        foreach (var (k, v) in new Dictionary<string, string> { ["Name"] = "shop-net", ["ksctl-cluster"] = "shop", ["ksctl-type"] = "selfmanaged" })
            foreign.Tags[k] = v;
        using var manager = _bed.NewManager();

        await manager.CreateAsync(EksManagedTests.Spec(), OperationOptions.Default, CancellationToken.None);
        await manager.DeleteAsync(EksManagedTests.Id(), OperationOptions.Default, CancellationToken.None);

        Assert.Equal([foreign.Id], Aws.Inventory.Select(r => r.Id));
        Assert.Equal(1, Aws.Creates["vpc"] - 1); // one VPC made by Ksctl (the other was seeded)
    }
}
