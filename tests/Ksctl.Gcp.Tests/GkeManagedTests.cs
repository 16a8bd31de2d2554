using Ksctl.Core.Clusters;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;

namespace Ksctl.Gcp.Tests;

/// <summary>Managed GKE against the emulator: create (with faults and a lost create answer), kubeconfig, delete.</summary>
[Collection(GcpEnvironmentCollection.Name)]
public sealed class GkeManagedTests : IAsyncLifetime
{
    private GcpTestBed _bed = null!;
    private string? _path;

    public async Task InitializeAsync()
    {
        _bed = await GcpTestBed.StartAsync();
        _path = Environment.GetEnvironmentVariable("PATH");
    }

    public async Task DisposeAsync()
    {
        Environment.SetEnvironmentVariable("PATH", _path);
        await _bed.DisposeAsync();
    }

    private OperationOptions Options => GcpTestBed.WithKey(_bed.KeyFile);

    /// <summary>PATH of one folder, holding a gke-gcloud-auth-plugin or not.</summary>
    private void UsePath(bool withPlugin)
    {
        var dir = Directory.CreateDirectory(Path.Combine(_bed.Home, withPlugin ? "bin-plugin" : "bin-empty")).FullName;
        if (withPlugin)
        {
            var plugin = Path.Combine(dir, "gke-gcloud-auth-plugin");
            File.WriteAllText(plugin, "#!/bin/sh\nexit 0\n");
            File.SetUnixFileMode(plugin, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        Environment.SetEnvironmentVariable("PATH", dir);
    }

    [Fact]
    public async Task Regional_GKE_lifecycle_with_faults_and_a_lost_create_answer_creates_one_cluster_and_leaves_an_empty_inventory()
    {
        var gcp = _bed.Gcp;
        gcp.FailFraction(0.2);
        gcp.LoseNextClusterCreateAnswer = true;
        UsePath(withPlugin: false);
        var spec = new ClusterSpec { Id = new ClusterId(CloudProvider.Gcp, ClusterType.Managed, "gke1", "us-central1"), NodeCount = 2, NodeSize = "e2-standard-4" };
        using var manager = _bed.NewManager();

        var state = await manager.CreateAsync(spec, Options, CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Equal(1, gcp.ClusterCreates);
        var cluster = Assert.Single(gcp.Clusters).Value;
        Assert.Equal($"{GcpEmulator.Project}.svc.id.goog", cluster["workloadIdentityConfig"]!["workloadPool"]!.GetValue<string>());
        var pool = Assert.Single(cluster["nodePools"]!.AsArray())!;
        Assert.Equal((2, "e2-standard-4", "GKE_METADATA"), (pool["initialNodeCount"]!.GetValue<int>(), pool["config"]!["machineType"]!.GetValue<string>(), pool["config"]!["workloadMetadataConfig"]!["mode"]!.GetValue<string>()));
        Assert.Equal("gke1", cluster["resourceLabels"]!["ksctl-cluster"]!.GetValue<string>());
        var endpoint = cluster["endpoint"]!.GetValue<string>();
        Assert.Equal($"https://{endpoint}", state.Endpoint);
        Assert.Equal("1.33.5-gke.1201000", state.KubernetesVersion);
        var kubeconfig = state.Secrets[ClusterState.KubeconfigSecret];
        Assert.Contains($"server: https://{endpoint}", kubeconfig);
        Assert.Contains($"certificate-authority-data: {cluster["masterAuth"]!["clusterCaCertificate"]!.GetValue<string>()}", kubeconfig);
        Assert.Contains("command: ksctl", kubeconfig);
        Assert.Contains("- gcp-token", kubeconfig);
        Assert.Equal("gke1-us-central1-managed-gcp-ksctl", state.ContextName);
        Assert.Contains(gcp.Requests, r => r.Status is 429 or 503);

        await manager.DeleteAsync(spec.Id, Options, CancellationToken.None);

        Assert.Empty(gcp.Clusters);
        Assert.Null(await manager.Store.ReadAsync(spec.Id, CancellationToken.None));
    }

    [Fact]
    public async Task A_zonal_cluster_uses_gke_gcloud_auth_plugin_when_it_is_on_PATH()
    {
        UsePath(withPlugin: true);
        var spec = new ClusterSpec { Id = new ClusterId(CloudProvider.Gcp, ClusterType.Managed, "gke2", "us-central1-b") };
        using var manager = _bed.NewManager();

        var state = await manager.CreateAsync(spec, Options, CancellationToken.None);

        Assert.Contains("command: gke-gcloud-auth-plugin", state.Secrets[ClusterState.KubeconfigSecret]);
        Assert.Contains("provideClusterInfo: true", state.Secrets[ClusterState.KubeconfigSecret]);
        Assert.Equal("projects/ksctl-emulator-project/locations/us-central1-b/clusters/gke2", Assert.Single(_bed.Gcp.Clusters).Key);
        var node = Assert.Single(_bed.Gcp.Clusters).Value["nodePools"]![0]!;
        Assert.Equal(("e2-standard-2", 1), (node["config"]!["machineType"]!.GetValue<string>(), node["initialNodeCount"]!.GetValue<int>()));

        // Resize-KsctlCluster -NodeCount: the node pool's setSize, followed to DONE; the spec records the new count.
        var plan = await manager.PlanResizeNodesAsync(spec.Id, 3, CancellationToken.None);
        Assert.Contains("GKE node pool default-pool of gke2: 1 → 3", plan.Render());
        await Assert.ThrowsAsync<InvalidSpecException>(() => manager.ResizeNodesAsync(spec.Id, 101, Options, CancellationToken.None));
        var resized = await manager.ResizeNodesAsync(spec.Id, 3, Options, CancellationToken.None);
        Assert.Equal((ClusterStatus.Running, 3), (resized.Status, resized.Spec.NodeCount));
        Assert.Equal(3, Assert.Single(_bed.Gcp.Clusters).Value["nodePools"]![0]!["initialNodeCount"]!.GetValue<int>());
        Assert.Equal(1, _bed.Gcp.Count("POST", "/nodePools/default-pool:setSize"));

        await manager.DeleteAsync(spec.Id, Options, CancellationToken.None);
        Assert.Empty(_bed.Gcp.Clusters);
    }

    [Theory]
    [InlineData("a-name-of-forty-one-characters-is-too-lng", "Name")]
    [InlineData("cni", "Cni")]
    [InlineData("workers", "WorkerCount")]
    public async Task Invalid_managed_specs_send_nothing(string what, string parameter)
    {
        var id = new ClusterId(CloudProvider.Gcp, ClusterType.Managed, what.Length > 20 ? what : "gke3", "us-central1");
        var spec = what switch
        {
            "cni" => new ClusterSpec { Id = id, Cni = "cilium" },
            "workers" => new ClusterSpec { Id = id, WorkerCount = 2 },
            _ => new ClusterSpec { Id = id },
        };
        using var manager = _bed.NewManager();

        var e = await Assert.ThrowsAsync<InvalidSpecException>(() => manager.CreateAsync(spec, Options, CancellationToken.None));

        Assert.Equal(parameter, e.Parameter);
        Assert.Empty(_bed.Gcp.Requests);
    }
}
