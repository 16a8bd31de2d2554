using Ksctl.Core.Clusters;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Providers.Azure;

namespace Ksctl.Azure.Tests;

/// <summary>
/// Issue #12 (Azure): a state document is not trusted to aim requests. A recorded id must be exactly the id Ksctl
/// computes for the cluster, or nothing is sent; endpoint overrides must be https (loopback excepted).
/// </summary>
[Collection(AzureEnvironmentCollection.Name)]
public sealed class AzureStateTrustTests : IAsyncLifetime
{
    private AzureTestBed _bed = null!;
    private ArmEmulator Arm => _bed.Arm;
    private static readonly OperationOptions Options = OperationOptions.Default;
    private const string Group = "/subscriptions/" + ArmEmulator.Subscription + "/resourceGroups/ksctl-resgrp-managed-demo";
    private const string Aks = Group + "/providers/Microsoft.ContainerService/managedClusters/demo";

    public async Task InitializeAsync()
    {
        _bed = await AzureTestBed.StartAsync();
        _bed.UseEnvironmentCredential();
    }

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    private static ClusterId Id(string name = "demo") => new(CloudProvider.Azure, ClusterType.Managed, name, "eastus");

    public static TheoryData<string, string> Tampered() => new()
    {
        { "azure:resource-group", "/subscriptions/" + ArmEmulator.Subscription + "/resourceGroups/production" },
        { "azure:resource-group", "https://attacker.example/subscriptions/" + ArmEmulator.Subscription + "/resourceGroups/ksctl-resgrp-managed-demo" },
        { "azure:resource-group", "//attacker.example/subscriptions/" + ArmEmulator.Subscription + "/resourceGroups/ksctl-resgrp-managed-demo" },
        { "azure:aks", Group + "/providers/Microsoft.ContainerService/managedClusters/demo/../../../../production" },
        { "azure:aks", Aks + "?api-version=2024-09-01&x=" },
        { "azure:aks", Group + "/providers/Microsoft.Compute/virtualMachines/demo" },
        { "azure:aks", "/subscriptions/99999999-0000-0000-0000-000000000000/resourceGroups/ksctl-resgrp-managed-demo/providers/Microsoft.ContainerService/managedClusters/demo" },
        { "azure:subscription", ArmEmulator.Subscription + "/resourceGroups/production/x" },
    };

    [Theory]
    [MemberData(nameof(Tampered))]
    public async Task A_tampered_recorded_id_is_refused_and_no_request_leaves(string key, string value)
    {
        using var manager = _bed.NewManager();
        await manager.CreateAsync(new ClusterSpec { Id = Id() }, Options, CancellationToken.None);
        // Someone who can write the state document (a shared container, an export file) changes one id.
        var state = (await manager.Store.ReadAsync(Id(), CancellationToken.None))!;
        state.Resources[key] = value;
        await manager.Store.WriteAsync(state, CancellationToken.None);
        var inventory = Arm.Inventory.Select(r => r.Id).ToList();
        var before = Arm.Requests.Count;

        var e = await Assert.ThrowsAsync<PlanFailedException>(() => manager.DeleteAsync(Id(), Options, CancellationToken.None));

        Assert.Equal("KsctlDeletionFailed", e.ErrorId);
        var cause = Assert.IsAssignableFrom<KsctlException>(e.InnerException);
        Assert.Equal("KsctlStateInvalid", cause.ErrorId);
        Assert.Equal(KsctlErrorCategory.InvalidData, cause.Category);
        Assert.Contains("Nothing was sent to Azure", cause.Message);
        // No ARM request at all (at most a token request to Entra), and everything is still there.
        Assert.DoesNotContain(Arm.Requests.Skip(before), r => !r.Path.Contains("/oauth2/"));
        Assert.Equal(inventory, Arm.Inventory.Select(r => r.Id));
        Assert.Equal(ClusterStatus.DeletionFailed, (await manager.GetAsync(Id(), CancellationToken.None)).Status);

        // The state repaired, the same delete resumes and finishes.
        state = (await manager.Store.ReadAsync(Id(), CancellationToken.None))!;
        state.Resources[key] = key switch { "azure:resource-group" => Group, "azure:aks" => Aks, _ => ArmEmulator.Subscription };
        await manager.Store.WriteAsync(state, CancellationToken.None);
        await manager.DeleteAsync(Id(), Options, CancellationToken.None);
        Assert.Empty(Arm.Inventory);
    }

    [Fact]
    public async Task A_resource_not_tagged_as_the_clusters_is_never_deleted()
    {
        // The state is rewritten consistently to another subscription the credential can see, where another team has a
        // group of the same name: every id then "matches", but that group does not carry this cluster's tags.
        const string other = "22222222-3333-4444-5555-666666666666";
        Arm.Principals[0] = Arm.Principals[0] with { Subscriptions = [ArmEmulator.Subscription, other] };
        using var manager = _bed.NewManager();
        await manager.CreateAsync(new ClusterSpec { Id = Id() }, Options, CancellationToken.None);
        var signIn = await AzureCredentials.ResolveAsync(null, null, _bed.Endpoints, CancellationToken.None);
        var client = new ArmRestClient(signIn, _bed.Endpoints, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, TimeProvider.System);
        var theirs = $"/subscriptions/{other}/resourceGroups/ksctl-resgrp-managed-demo";
        await client.PutAsync(theirs, AzureApiVersions.Resources, new System.Text.Json.Nodes.JsonObject { ["location"] = "eastus", ["tags"] = new System.Text.Json.Nodes.JsonObject { ["team"] = "payments" } }, "group", TimeSpan.FromMinutes(1), CancellationToken.None);
        var state = (await manager.Store.ReadAsync(Id(), CancellationToken.None))!;
        foreach (var key in state.Resources.Keys.ToList()) state.Resources[key] = state.Resources[key].Replace(ArmEmulator.Subscription, other);
        state.Resources.Remove("azure:aks");
        await manager.Store.WriteAsync(state, CancellationToken.None);

        var e = await Assert.ThrowsAsync<PlanFailedException>(() => manager.DeleteAsync(Id(), Options, CancellationToken.None));

        var cause = Assert.IsAssignableFrom<KsctlException>(e.InnerException);
        Assert.Equal("KsctlStateInvalid", cause.ErrorId);
        Assert.Contains("is not tagged ksctl-cluster=demo", cause.Message);
        Assert.Contains(Arm.Inventory, r => r.Id == theirs);
        Assert.Equal(0, Arm.Count("DELETE", "/"));
    }

    [Fact]
    public async Task The_delete_plan_lists_the_exact_ids_it_deletes()
    {
        using var manager = _bed.NewManager();
        await manager.CreateAsync(new ClusterSpec { Id = Id() }, Options, CancellationToken.None);
        var before = Arm.Requests.Count;

        var plan = await manager.PlanDeleteAsync(Id(), CancellationToken.None);

        Assert.Equal([Aks], plan.Steps.Single(s => s.Name == "azure:aks").Resources);
        Assert.Equal([Group], plan.Steps.Single(s => s.Name == "azure:delete-resource-group").Resources);
        Assert.Equal(before, Arm.Requests.Count);
    }

    [Theory]
    [InlineData("http://management.example.com/", null, "ResourceManager")]
    [InlineData(null, "http://login.example.com/", "Authority")]
    [InlineData("ftp://management.example.com/", null, "ResourceManager")]
    public async Task An_endpoint_override_must_be_https_except_on_loopback(string? arm, string? authority, string parameter)
    {
        var endpoints = _bed.Endpoints with
        {
            ResourceManager = arm is null ? _bed.Endpoints.ResourceManager : new Uri(arm),
            Authority = authority is null ? _bed.Endpoints.Authority : new Uri(authority),
        };
        using var manager = _bed.NewManager(endpoints);

        var e = await Assert.ThrowsAsync<InvalidSpecException>(() => manager.CreateAsync(new ClusterSpec { Id = Id() }, Options, CancellationToken.None));

        Assert.Equal(parameter, e.Parameter);
        Assert.Contains("https", e.Message);
        Assert.Empty(Arm.Requests);
        await Assert.ThrowsAsync<ClusterNotFoundException>(() => manager.GetAsync(Id(), CancellationToken.None));
        // Plain http on a loopback address (a local emulator or proxy) is allowed.
        (_bed.Endpoints with { ResourceManager = new Uri("http://127.0.0.1:8080/"), Authority = new Uri("http://[::1]:8081/") }).Validate();
    }
}
