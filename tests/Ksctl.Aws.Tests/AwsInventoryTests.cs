using Ksctl.Core.Health;
using Ksctl.Core.Model;
using Ksctl.Core.Providers;

namespace Ksctl.Aws.Tests;

/// <summary>
/// Drift for Test-KsctlCluster: the self-managed cluster's instances EC2 has now (tag ksctl-cluster and
/// ksctl-type=selfmanaged), compared with the state: a recorded machine EC2 no longer has is missing, an instance of the
/// cluster the state does not record is extra, a stopped one fails; terminated instances, other clusters' and a managed
/// cluster's of the same name are not this cluster's machines.
/// </summary>
[Collection(AwsEnvironmentCollection.Name)]
public sealed class AwsInventoryTests : IAsyncLifetime
{
    private AwsTestBed _bed = null!;
    private AwsEmulator Aws => _bed.Aws;
    private const string Region = "eu-west-1";
    private static readonly ClusterId Id = new(CloudProvider.Aws, ClusterType.SelfManaged, "inv", Region);

    public async Task InitializeAsync() => _bed = await AwsTestBed.StartAsync();
    public async Task DisposeAsync() => await _bed.DisposeAsync();

    private AwsResource Instance(string name, string state, string cluster = "inv", string type = "selfmanaged")
    {
        var i = Aws.Add(new AwsResource { Kind = "instance", Id = Aws.NewId("i"), Region = Region });
        foreach (var (k, v) in new Dictionary<string, string> { ["Name"] = name, ["ksctl-cluster"] = cluster, ["ksctl-type"] = type, ["ksctl-region"] = Region })
            i.Tags[k] = v;
        foreach (var (k, v) in new Dictionary<string, object?>
                 {
                     ["state"] = state, ["private"] = "172.31.0.10", ["type"] = "t3.medium", ["image"] = "ami-0123456789abcdef0", ["key"] = "inv-ssh",
                     ["subnet"] = "subnet-0a0000000000000001", ["vpc"] = "vpc-0a0000000000000001", ["group"] = "", ["reservation"] = Aws.NewId("r"),
                     ["httpTokens"] = "required", ["associatePublic"] = true,
                 })
            i.Fields[k] = v;
        return i;
    }

    [Fact]
    public async Task Missing_extra_and_stopped_instances_are_reported_and_nothing_else_is_the_cluster_s()
    {
        AwsTestBed.UseEnvironmentCredential();
        var cp = Instance("inv-vm-cp-0", "running");
        var stopped = Instance("inv-vm-db-0", "stopped");
        var extra = Instance("inv-vm-wp-1", "running");
        Instance("inv-vm-wp-9", "terminated");
        Instance("other-vm-cp-0", "running", cluster: "other");
        Instance("inv-vm-x", "running", type: "managed");
        var state = new ClusterState
        {
            Id = Id,
            Spec = new ClusterSpec { Id = Id },
            Nodes =
            [
                new NodeState { Name = "inv-vm-cp-0", Key = "cp-0", Role = NodeRole.ControlPlane, ResourceId = cp.Id },
                new NodeState { Name = "inv-vm-db-0", Key = "db-0", Role = NodeRole.Datastore, ResourceId = stopped.Id },
                new NodeState { Name = "inv-vm-wp-0", Key = "wp-0", Role = NodeRole.Worker, ResourceId = "i-0a00000000000dead" },
            ],
        };

        var live = await ((IInventoryProvider)_bed.Provider()).LiveMachinesAsync(state, CancellationToken.None);

        Assert.Equal(["inv-vm-cp-0", "inv-vm-db-0", "inv-vm-wp-1"], live.Select(m => m.Name).Order());
        Assert.Equal((extra.Id, "running"), live.Single(m => m.Name == "inv-vm-wp-1") is var e ? (e.ResourceId, e.State) : default);
        var results = InventoryDrift.Compare(state, live);
        Assert.True(results.Single(r => r.Target == "cp-0").Passed);
        Assert.Contains("stopped", results.Single(r => r.Target == "db-0").Reason);
        Assert.False(results.Single(r => r.Target == "db-0").Passed);
        Assert.Contains("no longer has it", results.Single(r => r.Target == "wp-0").Reason);
        Assert.Contains("does not record", results.Single(r => r.Target == "inv-vm-wp-1").Reason);
        // Read only: one kind of call, nothing changed.
        Assert.All(Aws.Requests.Where(r => r.Service == "ec2"), r => Assert.Equal("DescribeInstances", r.Action));
    }
}
