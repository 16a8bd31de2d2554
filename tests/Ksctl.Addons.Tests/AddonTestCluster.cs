using Ksctl.Core;
using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Model;
using Ksctl.Core.Processes;
using Ksctl.Core.Providers;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ksctl.Addons.Tests;

/// <summary>A Running cluster in a temporary store whose kubeconfig points at a <see cref="FakeKubeApi"/>.</summary>
public sealed class AddonTestCluster : IAsyncDisposable
{
    public FakeKubeApi Api { get; }
    public ClusterManager Manager { get; }
    public ClusterId Id { get; } = new(CloudProvider.Local, ClusterType.Managed, "addons", "LOCAL");
    private readonly string _home;

    private AddonTestCluster(FakeKubeApi api, string home, TimeProvider? time, IProgress<Ksctl.Core.Diagnostics.KsctlEvent>? events)
    {
        Api = api;
        _home = home;
        if (time is null) Manager = new ClusterManager(KsctlSettings.Load(home), events);
        else
        {
            // The manager's clock is injected the way the server's reconciler injects its own.
            var settings = KsctlSettings.Load(home);
            var services = new KsctlServices(settings, NullLoggerFactory.Instance, new ProcessRunner(), time);
            Manager = new ClusterManager(services, ProviderRegistry.CreateDefault(services), ClusterManager.CreateStore(settings), events);
        }
    }

    /// <param name="time">The manager's clock (the system clock when null).</param>
    /// <param name="events">The manager's events (step started/completed...).</param>
    public static async Task<AddonTestCluster> StartAsync(ClusterStatus status = ClusterStatus.Running, TimeProvider? time = null,
        IProgress<Ksctl.Core.Diagnostics.KsctlEvent>? events = null)
    {
        var api = await FakeKubeApi.StartAsync();
        var cluster = new AddonTestCluster(api, Directory.CreateTempSubdirectory("ksctl-addons-").FullName, time, events);
        var now = (time ?? TimeProvider.System).GetUtcNow();
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
