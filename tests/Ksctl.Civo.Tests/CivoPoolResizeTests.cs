using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Xunit;

namespace Ksctl.Civo.Tests;

/// <summary>Resize-KsctlCluster -NodeCount on a managed Civo cluster: its node pool's count, against the emulator.</summary>
[Collection(CivoEnvironmentCollection.Name)]
public sealed class CivoPoolResizeTests : IAsyncLifetime
{
    private readonly string _home = Directory.CreateTempSubdirectory("ksctl-civo-pool-").FullName;
    private CivoTestEnvironment _env = null!;
    private CivoEmulator _civo = null!;
    private static readonly ClusterId Id = new(CloudProvider.Civo, ClusterType.Managed, "pool", "LON1");

    public async Task InitializeAsync()
    {
        _civo = await CivoEmulator.StartAsync("good-key");
        _env = new CivoTestEnvironment(_home, _civo.BaseUrl);
    }

    public async Task DisposeAsync()
    {
        _env.Dispose();
        await _civo.DisposeAsync();
        try { Directory.Delete(_home, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task NodeCount_scales_the_pool_waits_for_ACTIVE_and_records_the_nodes()
    {
        using var manager = new ClusterManager(KsctlSettings.Load(_home));
        var created = await manager.CreateAsync(new ClusterSpec { Id = Id, NodeCount = 1 }, OperationOptions.Default, CancellationToken.None);
        Assert.Single(created.Nodes);

        var plan = await manager.PlanResizeNodesAsync(Id, 3, CancellationToken.None);
        Assert.Equal(["civo:pool-count", "civo:cluster-active", "civo:nodes"], plan.Steps.Select(s => s.Name));
        Assert.Empty(_civo.PoolCounts);

        var state = await manager.ResizeNodesAsync(Id, 3, OperationOptions.Default, CancellationToken.None);
        Assert.Equal((ClusterStatus.Running, 3, 3), (state.Status, state.Spec.NodeCount, state.Nodes.Count));
        Assert.Equal([3], _civo.PoolCounts);
        var cluster = Assert.Single(_civo.Inventory);
        Assert.Equal(("ACTIVE", 3), (cluster.Status, cluster.Nodes));

        // Down to 2, and the same count again sends nothing more (already there).
        state = await manager.ResizeNodesAsync(Id, 2, OperationOptions.Default, CancellationToken.None);
        Assert.Equal(2, state.Nodes.Count);
        await manager.ResizeNodesAsync(Id, 2, OperationOptions.Default, CancellationToken.None);
        Assert.Equal([3, 2], _civo.PoolCounts);
    }

    [Fact]
    public async Task A_zero_count_is_refused_before_any_request_and_a_self_managed_target_needs_WorkerCount()
    {
        using var manager = new ClusterManager(KsctlSettings.Load(_home));
        await manager.CreateAsync(new ClusterSpec { Id = Id, NodeCount = 1 }, OperationOptions.Default, CancellationToken.None);
        var before = _civo.Requests.Count;
        var e = await Assert.ThrowsAsync<InvalidSpecException>(() => manager.ResizeNodesAsync(Id, 0, OperationOptions.Default, CancellationToken.None));
        Assert.Equal("NodeCount", e.Parameter);
        Assert.Equal(before, _civo.Requests.Count);
        Assert.Equal(ClusterStatus.Running, (await manager.GetAsync(Id, CancellationToken.None)).Status);
        Assert.Empty(_civo.PoolCounts);
    }
}
