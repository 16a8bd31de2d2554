using System.Text.Json.Nodes;
using Ksctl.Core;
using Ksctl.Core.Health;
using Ksctl.Core.Model;
using Ksctl.Core.Processes;
using Ksctl.Core.Providers;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ksctl.Gcp.Tests;

/// <summary>
/// The GCP drift inventory behind Test-KsctlCluster: instances with the cluster's labels in any zone of the recorded
/// project (aggregatedList, filtered by label, paged), compared with the state: a recorded machine that is gone is
/// missing, a labelled one the state does not know is extra, another cluster's instances are not this cluster's.
/// </summary>
[Collection(GcpEnvironmentCollection.Name)]
public sealed class GcpInventoryTests : IAsyncLifetime
{
    private GcpTestBed _bed = null!;

    public async Task InitializeAsync() => _bed = await GcpTestBed.StartAsync();
    public async Task DisposeAsync() => await _bed.DisposeAsync();

    private static JsonObject Instance(string cluster, string region, string status = "RUNNING") => new()
    {
        ["status"] = status,
        ["labels"] = new JsonObject { ["ksctl-cluster"] = cluster, ["ksctl-type"] = "selfmanaged", ["ksctl-region"] = region },
        ["networkInterfaces"] = new JsonArray(new JsonObject { ["network"] = "projects/p/global/networks/n" }),
    };

    [Fact]
    public async Task Missing_extra_and_stopped_instances_are_reported_and_other_clusters_are_not()
    {
        var gcp = _bed.Gcp;
        const string p = GcpEmulator.Project;
        var id = new ClusterId(CloudProvider.Gcp, ClusterType.SelfManaged, "inv", "us-central1");
        var state = new ClusterState
        {
            Id = id, Spec = new ClusterSpec { Id = id }, Status = ClusterStatus.Running,
            Resources = { ["gcp:project"] = p, ["gcp:zone"] = "us-central1-a" },
            Nodes =
            {
                new NodeState { Name = "inv-vm-lb", Key = "lb", Role = NodeRole.LoadBalancer, ResourceId = $"projects/{p}/zones/us-central1-a/instances/inv-vm-lb" },
                new NodeState { Name = "inv-vm-db-0", Key = "db-0", Role = NodeRole.Datastore, ResourceId = $"projects/{p}/zones/us-central1-a/instances/inv-vm-db-0" },
                new NodeState { Name = "inv-vm-cp-0", Key = "cp-0", Role = NodeRole.ControlPlane, ResourceId = $"projects/{p}/zones/us-central1-a/instances/inv-vm-cp-0" },
            },
        };
        gcp.AddOutOfBand("instances", $"projects/{p}/zones/us-central1-a/instances/inv-vm-lb", Instance("inv", "us-central1"));
        gcp.AddOutOfBand("instances", $"projects/{p}/zones/us-central1-a/instances/inv-vm-cp-0", Instance("inv", "us-central1", "TERMINATED"));
        // Made by hand in another zone with the cluster's labels: extra.
        gcp.AddOutOfBand("instances", $"projects/{p}/zones/us-central1-b/instances/inv-vm-wp-9", Instance("inv", "us-central1"));
        // Another cluster, and a cluster of the same name in another region: not this one's.
        gcp.AddOutOfBand("instances", $"projects/{p}/zones/us-central1-a/instances/other-vm-lb", Instance("other", "us-central1"));
        gcp.AddOutOfBand("instances", $"projects/{p}/zones/europe-west1-b/instances/inv-vm-lb", Instance("inv", "europe-west1"));
        gcp.MaxPageSize = 1;

        var services = new KsctlServices(_bed.Settings, NullLoggerFactory.Instance, new ProcessRunner(), TimeProvider.System, null);
        var provider = ProviderRegistry.CreateDefault(services, gcp: _bed.Endpoints)
            .Get(CloudProvider.Gcp, new ProviderCredential { CredentialPath = _bed.KeyFile });
        var inventory = Assert.IsAssignableFrom<IInventoryProvider>(provider);

        var live = await inventory.LiveMachinesAsync(state, CancellationToken.None);

        Assert.Equal(["inv-vm-cp-0", "inv-vm-lb", "inv-vm-wp-9"], live.Select(m => m.Name).Order());
        Assert.Contains(gcp.Requests, r => r.Path.Contains("/aggregated/instances?filter=", StringComparison.Ordinal) && r.Path.Contains("pageToken=", StringComparison.Ordinal));
        var results = InventoryDrift.Compare(state, live).ToDictionary(r => r.Target);
        Assert.True(results["lb"].Passed);
        Assert.False(results["db-0"].Passed);
        Assert.Contains("no longer has it", results["db-0"].Reason);
        Assert.False(results["cp-0"].Passed);
        Assert.Contains("TERMINATED", results["cp-0"].Reason);
        Assert.False(results["inv-vm-wp-9"].Passed);
        Assert.Contains("does not record", results["inv-vm-wp-9"].Reason);
        Assert.Equal(4, results.Count);

        // Nothing recorded yet (no project in state): nothing is asked.
        var before = gcp.Requests.Count;
        state.Resources.Clear();
        Assert.Empty(await inventory.LiveMachinesAsync(state, CancellationToken.None));
        Assert.Equal(before, gcp.Requests.Count);
    }
}
