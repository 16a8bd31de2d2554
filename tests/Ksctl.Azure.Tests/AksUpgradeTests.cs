using System.Text.Json.Nodes;
using Ksctl.Core.Clusters;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Providers.Azure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ksctl.Azure.Tests;

/// <summary>
/// Update-KsctlCluster on AKS against the ARM emulator: the emulator refuses what AKS refuses (a skipped minor, a
/// downgrade, an unlisted version, a node pool newer than its control plane); Ksctl refuses skew before any request;
/// the control plane is upgraded first, then the node pool; a failed upgrade operation resumes.
/// </summary>
[Collection(AzureEnvironmentCollection.Name)]
public sealed class AksUpgradeTests : IAsyncLifetime
{
    private AzureTestBed _bed = null!;
    private ArmEmulator Arm => _bed.Arm;
    private const string Aks = "/subscriptions/" + ArmEmulator.Subscription + "/resourceGroups/ksctl-resgrp-managed-demo/providers/Microsoft.ContainerService/managedClusters/demo";
    private static readonly ClusterId Id = new(CloudProvider.Azure, ClusterType.Managed, "demo", "eastus");
    private static readonly OperationOptions Options = OperationOptions.Default;

    public async Task InitializeAsync() => _bed = await AzureTestBed.StartAsync();
    public async Task DisposeAsync() => await _bed.DisposeAsync();

    private async Task<ClusterState> CreateAt141Async(ClusterManager manager)
    {
        _bed.UseEnvironmentCredential();
        var state = await manager.CreateAsync(new ClusterSpec { Id = Id, KubernetesVersion = "1.41" }, Options, CancellationToken.None);
        Assert.Equal("1.41.5", state.KubernetesVersion);
        return state;
    }

    private async Task<JsonObject> PutDirectAsync(Func<JsonObject, JsonObject> change)
    {
        var signIn = await AzureCredentials.ResolveAsync(null, null, _bed.Endpoints, CancellationToken.None);
        var client = new ArmRestClient(signIn, _bed.Endpoints, NullLogger.Instance, TimeProvider.System);
        var body = (await client.GetAsync(Aks, AzureApiVersions.ContainerService, CancellationToken.None))!;
        foreach (var key in new[] { "id", "name", "type" }) body.Remove(key);
        return await client.PutAsync(Aks, AzureApiVersions.ContainerService, change(body), "test", TimeSpan.FromMinutes(1), CancellationToken.None);
    }

    [Theory]
    [InlineData("1.43.0", null, "Upgrading Kubernetes version 1.41.5 to 1.43.0 is not allowed. Available upgrades: [1.42.4 1.42.1]")]
    [InlineData("1.41.3", null, "Downgrading Kubernetes version 1.41.5 to 1.41.3 is not allowed")]
    [InlineData("1.44.2", null, "Version 1.44.2 is not supported in this region")]
    [InlineData("1.42", "1.42.4", null)]
    public async Task The_emulator_refuses_what_AKS_refuses_on_an_upgrade(string version, string? pool, string? refusal)
    {
        using var manager = _bed.NewManager();
        await CreateAt141Async(manager);
        JsonObject Change(JsonObject body)
        {
            body["properties"]!["kubernetesVersion"] = version;
            if (pool is not null) body["properties"]!["agentPoolProfiles"]![0]!["orchestratorVersion"] = pool;
            return body;
        }
        if (refusal is null)
        {
            // A pool newer than the control plane it would run under is refused even in the same PUT's minor.
            var mismatch = await Assert.ThrowsAsync<KsctlException>(() => PutDirectAsync(b => { Change(b); b["properties"]!["kubernetesVersion"] = "1.42.1"; return b; }));
            Assert.Contains("NodePoolMcVersionIncompatible", mismatch.Message + mismatch.InnerException?.Message);
            return;
        }
        var error = await Assert.ThrowsAsync<KsctlException>(() => PutDirectAsync(Change));
        Assert.Contains(refusal, error.Message);
        Assert.Empty(Arm.AksUpgrades);
        var aks = Assert.Single(Arm.Inventory, r => r.Type == "Microsoft.ContainerService/managedClusters");
        Assert.Equal("1.41.5", aks.Body["properties"]!["currentKubernetesVersion"]!.GetValue<string>());
    }

    [Fact]
    public async Task Ksctl_refuses_skew_before_any_request_upgrades_the_control_plane_then_the_pool_and_resumes_a_failed_upgrade()
    {
        using var manager = _bed.NewManager();
        await CreateAt141Async(manager);
        var puts = Arm.Count("PUT", "/managedClusters/demo");

        foreach (var wrong in new[] { "1.43.0", "1.40.9" })
        {
            var refused = await Assert.ThrowsAsync<InvalidSpecException>(() => manager.UpgradeAsync(Id, wrong, 1, Options, CancellationToken.None));
            Assert.Equal("KubernetesVersion", refused.Parameter);
        }
        Assert.Equal(puts, Arm.Count("PUT", "/managedClusters/demo"));

        var plan = await manager.PlanUpgradeAsync(Id, "1.42", 1, CancellationToken.None);
        Assert.Equal([AzureProvider.UpgradeControlPlaneStep, AzureProvider.UpgradeNodePoolsStep], plan.Steps.Select(s => s.Name).Where(n => n.StartsWith("aks:", StringComparison.Ordinal)));
        Assert.Equal([AzureProvider.UpgradeControlPlaneStep], plan[AzureProvider.UpgradeNodePoolsStep].DependsOn);

        // The control plane's upgrade operation fails: KsctlUpgradeFailed, ConfiguringFailed, nothing upgraded.
        Arm.FailNextOperation("Microsoft.ContainerService/managedClusters", "UpgradeFailed", "Upgrade failed: a node could not be drained.");
        var error = await Assert.ThrowsAsync<PlanFailedException>(() => manager.UpgradeAsync(Id, "1.42", 1, Options, CancellationToken.None));
        Assert.Equal("KsctlUpgradeFailed", error.ErrorId);
        var failed = (await manager.Store.ReadAsync(Id, CancellationToken.None))!;
        Assert.Equal(ClusterStatus.ConfiguringFailed, failed.Status);
        Assert.Equal("1.42", failed.UpgradeTargetVersion);
        Assert.Equal(["cp:1.42.4"], Arm.AksUpgrades);

        // The re-run does the control plane, then the pool; AKS reports 1.42.4 for both.
        var state = await manager.UpgradeAsync(Id, "1.42", 1, Options, CancellationToken.None);
        Assert.Equal(["cp:1.42.4", "cp:1.42.4", $"pool:{AzureBodies.SystemPool}:1.42.4"], Arm.AksUpgrades);
        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Equal("1.42.4", state.KubernetesVersion);
        Assert.Equal("1.42", state.Spec.KubernetesVersion);
        Assert.Null(state.UpgradeTargetVersion);
        var aks = Assert.Single(Arm.Inventory, r => r.Type == "Microsoft.ContainerService/managedClusters");
        Assert.Equal("1.42.4", aks.Body["properties"]!["currentKubernetesVersion"]!.GetValue<string>());
        Assert.Equal("1.42.4", aks.Body["properties"]!["agentPoolProfiles"]![0]!["currentOrchestratorVersion"]!.GetValue<string>());
        Assert.Equal("Succeeded", aks.Body["properties"]!["provisioningState"]!.GetValue<string>());

        // Again: already there, no request changes anything.
        var after = Arm.Count("PUT", "/managedClusters/demo");
        await manager.UpgradeAsync(Id, "1.42", 1, Options, CancellationToken.None);
        Assert.Equal(after, Arm.Count("PUT", "/managedClusters/demo"));
        await manager.DeleteAsync(Id, Options, CancellationToken.None);
        Assert.Empty(Arm.Inventory);
    }
}
