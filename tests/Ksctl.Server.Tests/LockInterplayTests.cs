using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Server.Security;
using Ksctl.Server.Tests.Harness;
using Xunit;

namespace Ksctl.Server.Tests;

/// <summary>
/// The server and the cmdlets share one per-cluster lock (the store's): a cluster the server is changing is refused to
/// the ClusterManager the cmdlets call with KsctlClusterLocked, and a cluster a cmdlet holds is refused by the API.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class LockInterplayTests
{
    private static readonly ClusterId Gated = new(CloudProvider.Local, ClusterType.Managed, "gated", "LOCAL");

    [Fact]
    public async Task Cluster_the_server_is_creating_is_refused_to_the_cmdlets_use_cases_with_KsctlClusterLocked()
    {
        await using var server = await TestServer.StartAsync();
        var gate = Path.Combine(server.Root, "gate");
        Environment.SetEnvironmentVariable("KIND_STANDIN_CREATE_GATE", gate);
        using var api = await server.ApiAsync(ApiRole.Operator);
        var created = await api.PostAsync("/api/v1/clusters", """{"name":"gated","provider":"Local"}""");
        Assert.Equal(202, created.Status);
        await SseWait.UntilAsync(api.Http, created.Location + "/events", (type, e) => type == "StepStarted" && e["step"]?.GetValue<string>() == "kind:cluster");

        // What Remove-KsctlCluster / New-KsctlCluster run, in this process as a cmdlet would in its own.
        using var cmdlet = new ClusterManager(KsctlSettings.Load(server.Home));
        var deleting = await Assert.ThrowsAsync<ClusterLockedException>(() => cmdlet.DeleteAsync(Gated, OperationOptions.Default, CancellationToken.None));
        Assert.Equal("KsctlClusterLocked", deleting.ErrorId);
        Assert.Contains("create", deleting.Holder);
        await Assert.ThrowsAsync<ClusterLockedException>(() => cmdlet.CreateAsync(new ClusterSpec { Id = Gated }, OperationOptions.Default, CancellationToken.None));
        // And the API refuses a second change the same way, before accepting it.
        var second = await api.DeleteAsync("/api/v1/clusters/gated");
        Assert.Equal(409, second.Status);
        Assert.Equal("KsctlClusterLocked", second.ErrorId);

        File.WriteAllText(gate, "");
        var events = await Sse.ReadAllAsync(api.Http, created.Location + "/events");
        Assert.Equal("Succeeded", events[^1].Data["status"]!.GetValue<string>());
        Assert.Equal(ClusterStatus.Running, (await cmdlet.GetAsync(Gated, CancellationToken.None)).Status);
        Assert.Single(server.KindCalls(), c => c.StartsWith("create cluster", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cluster_a_cmdlet_holds_is_refused_by_the_API_until_it_is_released()
    {
        await using var server = await TestServer.StartAsync();
        using var api = await server.ApiAsync(ApiRole.Operator);
        var created = await api.PostAsync("/api/v1/clusters", """{"name":"gated","provider":"Local"}""");
        await Sse.ReadAllAsync(api.Http, created.Location + "/events");

        using var cmdlet = new ClusterManager(KsctlSettings.Load(server.Home));
        var held = await cmdlet.Store.AcquireLockAsync(Gated, "resize", breakStale: false, CancellationToken.None);
        var refused = await api.DeleteAsync("/api/v1/clusters/gated");
        Assert.Equal(409, refused.Status);
        Assert.Equal("KsctlClusterLocked", refused.ErrorId);
        Assert.Contains("resize", refused.Json["detail"]!.GetValue<string>());
        Assert.DoesNotContain(server.KindCalls(), c => c.StartsWith("delete", StringComparison.Ordinal));

        await held.DisposeAsync();
        var deleted = await api.DeleteAsync("/api/v1/clusters/gated");
        Assert.Equal(202, deleted.Status);
        var events = await Sse.ReadAllAsync(api.Http, deleted.Location + "/events");
        Assert.Equal("Succeeded", events[^1].Data["status"]!.GetValue<string>());
    }
}
