using Ksctl.Core.Model;
using Ksctl.Core.Storage.Credentials;

namespace Ksctl.Gcp.Tests;

/// <summary>Live Tab lists from Compute, their fallback without a key, and -WhatIf plans that list every resource and send nothing.</summary>
[Collection(GcpEnvironmentCollection.Name)]
public sealed class GcpCatalogAndPlanTests : IAsyncLifetime
{
    private GcpTestBed _bed = null!;

    public async Task InitializeAsync() => _bed = await GcpTestBed.StartAsync();
    public async Task DisposeAsync() => await _bed.DisposeAsync();

    [Fact]
    public async Task Regions_zones_and_machine_types_come_live_from_Compute_with_a_stored_key_and_never_probe_without_one()
    {
        using var manager = _bed.NewManager();
        var catalog = manager.LiveCatalog(CloudProvider.Gcp)!;
        // No key anywhere: the catalog refuses (the completer then shows the static lists) and nothing is sent.
        await Assert.ThrowsAnyAsync<Exception>(() => catalog.RegionsAsync(CancellationToken.None));
        Assert.Empty(_bed.Gcp.Requests);

        var account = _bed.Gcp.Account;
        await _bed.Credentials.SetAsync(new StoredCredential { Provider = CloudProvider.Gcp, UserName = account.Email, Secret = account.KeyFileJson("https://oauth2.googleapis.com/token") }, CancellationToken.None);
        var regions = await catalog.RegionsAsync(CancellationToken.None);
        Assert.Equal(["europe-west1", "europe-west1-b", "europe-west1-c", "europe-west1-d", "us-central1", "us-central1-a", "us-central1-b", "us-central1-c", "us-central1-f"], regions);
        var sizes = await catalog.NodeSizesAsync("europe-west1", CancellationToken.None);
        Assert.Equal(GcpEmulator.MachineTypes.Order(), sizes);
        Assert.Contains(_bed.Gcp.Requests, r => r.Path.Contains("/zones/europe-west1-b/machineTypes"));
    }

    [Fact]
    public async Task WhatIf_plans_list_every_resource_and_send_nothing()
    {
        using var manager = _bed.NewManager();
        var (ha, _) = await manager.PlanCreateAsync(new ClusterSpec { Id = new ClusterId(CloudProvider.Gcp, ClusterType.SelfManaged, "plan", "us-central1"), WorkerCount = 2 }, CancellationToken.None);
        var text = ha.Render();
        var tag = Ksctl.Core.Providers.Gcp.GcpNames.Tag(ha.Cluster);
        Assert.Contains($"VPC network plan-{tag}-net", text);
        Assert.Contains("subnet plan-subnet 10.10.0.0/24", text);
        foreach (var fw in new[] { "internal", "ssh", "lb", "wp" }) Assert.Contains($"firewall rule plan-{tag}-fw-{fw}", text);
        foreach (var vm in new[] { "lb", "db-0", "db-1", "db-2", "cp-0", "cp-1", "cp-2", "wp-0", "wp-1" }) Assert.Contains($"Compute instance plan-vm-{vm}: e2-medium", text);

        var (gke, _) = await manager.PlanCreateAsync(new ClusterSpec { Id = new ClusterId(CloudProvider.Gcp, ClusterType.Managed, "plan", "europe-west1-c"), NodeCount = 3 }, CancellationToken.None);
        Assert.Contains("GKE cluster plan (europe-west1-c), node pool default-pool: 3 × e2-standard-2", gke.Render());
        Assert.Empty(_bed.Gcp.Requests);
        Assert.Empty(_bed.Gcp.TokenRequests);
    }
}

/// <summary>'ksctl gcp-token' (Get-KsctlGcpToken): an ExecCredential whose token the API accepts.</summary>
[Collection(GcpEnvironmentCollection.Name)]
public sealed class GcpTokenTests : IAsyncLifetime
{
    private GcpTestBed _bed = null!;

    public async Task InitializeAsync() => _bed = await GcpTestBed.StartAsync();
    public async Task DisposeAsync() => await _bed.DisposeAsync();

    [Fact]
    public async Task The_exec_credential_holds_a_token_from_the_chain_that_Compute_accepts()
    {
        using var manager = _bed.NewManager();
        var none = await Assert.ThrowsAsync<Ksctl.Core.Diagnostics.KsctlException>(() => manager.GcpExecCredentialAsync(CancellationToken.None));
        Assert.Equal("KsctlAuthenticationFailed", none.ErrorId);

        Environment.SetEnvironmentVariable("GOOGLE_APPLICATION_CREDENTIALS", _bed.KeyFile);
        var json = System.Text.Json.Nodes.JsonNode.Parse(await manager.GcpExecCredentialAsync(CancellationToken.None))!;
        Assert.Equal(("ExecCredential", "client.authentication.k8s.io/v1beta1"), (json["kind"]!.GetValue<string>(), json["apiVersion"]!.GetValue<string>()));
        var token = json["status"]!["token"]!.GetValue<string>();
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_bed.Gcp.ComputeUrl, $"projects/{GcpEmulator.Project}"));
        request.Headers.Authorization = new("Bearer", token);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await http.SendAsync(request)).StatusCode);
    }
}
