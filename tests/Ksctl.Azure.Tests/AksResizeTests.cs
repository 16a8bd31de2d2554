using Ksctl.Core.Clusters;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;

namespace Ksctl.Azure.Tests;

/// <summary>Resize-KsctlCluster -NodeCount on AKS: the system agent pool's count through ARM, against the emulator.</summary>
[Collection(AzureEnvironmentCollection.Name)]
public sealed class AksResizeTests : IAsyncLifetime
{
    private AzureTestBed _bed = null!;
    private ArmEmulator Arm => _bed.Arm;
    private static readonly ClusterId Id = new(CloudProvider.Azure, ClusterType.Managed, "scale", "eastus");

    public async Task InitializeAsync()
    {
        _bed = await AzureTestBed.StartAsync();
        _bed.UseEnvironmentCredential();
    }

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    [Fact]
    public async Task NodeCount_scales_the_agent_pool_keeps_its_size_and_a_failure_resumes()
    {
        using var manager = _bed.NewManager();
        await manager.CreateAsync(new ClusterSpec { Id = Id, NodeCount = 1 }, OperationOptions.Default, CancellationToken.None);

        var plan = await manager.PlanResizeNodesAsync(Id, 3, CancellationToken.None);
        Assert.Equal(["azure:agent-pool-count"], plan.Steps.Select(s => s.Name));
        Assert.Empty(Arm.AgentPoolCounts); // -WhatIf sends nothing

        var state = await manager.ResizeNodesAsync(Id, 3, OperationOptions.Default, CancellationToken.None);
        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Equal(3, state.Spec.NodeCount);
        Assert.Equal([3], Arm.AgentPoolCounts);
        var pool = Assert.Single(Arm.Inventory, r => r.Type == "Microsoft.ContainerService/managedClusters").Body["properties"]!["agentPoolProfiles"]![0]!;
        Assert.Equal(("systempool", 3, "Standard_DS2_v2", "System"),
            (pool["name"]!.GetValue<string>(), pool["count"]!.GetValue<int>(), pool["vmSize"]!.GetValue<string>(), pool["mode"]!.GetValue<string>()));
        Assert.True(Arm.Count("GET", "/operations/") >= 1, "the agent pool's update was polled through Azure-AsyncOperation");

        // The operation fails (AKS reports it Failed): ConfiguringFailed with ARM's message; the same command resumes.
        Arm.FailNextOperation("Microsoft.ContainerService/managedClusters", "ReconcileVMSSAgentPoolFailed", "Code=\"OperationNotAllowed\" Message=\"Operation could not be completed as it results in exceeding approved standardDSv2Family Cores quota.\"");
        var failed = await Assert.ThrowsAsync<PlanFailedException>(() => manager.ResizeNodesAsync(Id, 5, OperationOptions.Default, CancellationToken.None));
        Assert.Equal("KsctlResizeFailed", failed.ErrorId);
        Assert.Contains("exceeding approved standardDSv2Family Cores quota", failed.Message);
        var afterFailure = await manager.GetAsync(Id, CancellationToken.None);
        Assert.Equal(ClusterStatus.ConfiguringFailed, afterFailure.Status);
        Assert.Equal(3, afterFailure.Spec.NodeCount);
        state = await manager.ResizeNodesAsync(Id, 2, OperationOptions.Default, CancellationToken.None);
        Assert.Equal((ClusterStatus.Running, 2), (state.Status, state.Spec.NodeCount));
        Assert.Equal([3, 5, 2], Arm.AgentPoolCounts);
    }

    [Fact]
    public async Task Bad_counts_and_self_managed_targets_are_refused_before_any_request()
    {
        using var manager = _bed.NewManager();
        await manager.CreateAsync(new ClusterSpec { Id = Id, NodeCount = 1 }, OperationOptions.Default, CancellationToken.None);
        var before = Arm.Requests.Count;
        foreach (var bad in new[] { 0, -1, 1001 })
        {
            var e = await Assert.ThrowsAsync<InvalidSpecException>(() => manager.ResizeNodesAsync(Id, bad, OperationOptions.Default, CancellationToken.None));
            Assert.Equal(("KsctlInvalidSpec", "NodeCount"), (e.ErrorId, e.Target));
            Assert.Contains("1 to 1000", e.Message);
        }
        var worker = await Assert.ThrowsAsync<OperationNotAllowedException>(() => manager.ResizeAsync(Id, 2, OperationOptions.Default, CancellationToken.None));
        Assert.Contains("node pool", worker.Message);
        Assert.Equal(before, Arm.Requests.Count);
        Assert.Equal(ClusterStatus.Running, (await manager.GetAsync(Id, CancellationToken.None)).Status);
        Assert.Empty(Arm.AgentPoolCounts);
    }
}
