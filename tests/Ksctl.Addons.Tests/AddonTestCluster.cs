using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Model;

namespace Ksctl.Addons.Tests;

/// <summary>A Running cluster in a temporary store whose kubeconfig points at a <see cref="FakeKubeApi"/>.</summary>
public sealed class AddonTestCluster : IAsyncDisposable
{
    public FakeKubeApi Api { get; }
    public ClusterManager Manager { get; }
    public ClusterId Id { get; } = new(CloudProvider.Local, ClusterType.Managed, "addons", "LOCAL");
    private readonly string _home;

    private AddonTestCluster(FakeKubeApi api, string home)
    {
        Api = api;
        _home = home;
        Manager = new ClusterManager(KsctlSettings.Load(home));
    }

    public static async Task<AddonTestCluster> StartAsync(ClusterStatus status = ClusterStatus.Running)
    {
        var api = await FakeKubeApi.StartAsync();
        var cluster = new AddonTestCluster(api, Directory.CreateTempSubdirectory("ksctl-addons-").FullName);
        var now = DateTimeOffset.UtcNow;
        var state = new ClusterState
        {
            Id = cluster.Id,
            Spec = new ClusterSpec { Id = cluster.Id, NodeCount = 1 },
            Status = status,
            Distribution = "Kind",
            CreatedAt = now,
            UpdatedAt = now,
            ContextName = "kind-addons",
        };
        state.Secrets[ClusterState.KubeconfigSecret] = api.Kubeconfig("kind-addons");
        await cluster.Manager.Store.WriteAsync(state, CancellationToken.None);
        return cluster;
    }

    public Task<ClusterState> StateAsync() => Manager.GetAsync(Id, CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        Manager.Dispose();
        await Api.DisposeAsync();
        try { Directory.Delete(_home, true); } catch (IOException) { }
    }
}
