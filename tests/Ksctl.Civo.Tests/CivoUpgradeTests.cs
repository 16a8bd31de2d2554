using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Providers.Civo;
using Xunit;

namespace Ksctl.Civo.Tests;

/// <summary>
/// Update-KsctlCluster on a managed Civo cluster against the emulator: the emulator refuses what Civo refuses (an
/// unlisted version, a skipped minor, a downgrade); Ksctl refuses skew before any request; the version changes through
/// civogo's PUT and is waited on; a Ctrl+C while Civo upgrades resumes without asking again.
/// </summary>
[Collection(CivoEnvironmentCollection.Name)]
public sealed class CivoUpgradeTests : IAsyncLifetime
{
    private readonly string _home = Directory.CreateTempSubdirectory("ksctl-civo-upgrade-").FullName;
    private CivoTestEnvironment _env = null!;
    private CivoEmulator _civo = null!;
    private static readonly ClusterId Id = new(CloudProvider.Civo, ClusterType.Managed, "demo", "LON1");
    /// <summary>Polls every few milliseconds instead of Civo's seconds (the emulator counts polls, not time).</summary>
    private static readonly CivoTimings Fast = CivoTimings.Default with { FirstPoll = TimeSpan.FromMilliseconds(10), MaxPoll = TimeSpan.FromMilliseconds(50) };

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

    private async Task<(HttpStatusCode Status, string Body)> PutAsync(string id, string version)
    {
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "good-key");
        using var response = await http.PutAsync($"{_civo.BaseUrl}/kubernetes/clusters/{id}",
            new StringContent($$"""{"region":"LON1","kubernetes_version":"{{version}}"}""", Encoding.UTF8, "application/json"));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("1.32.1-k3s1", "skips a minor version")]
    [InlineData("1.29.8-k3s1", "downgrades are not possible")]
    [InlineData("1.31.9-k3s1", "is not available")]
    public async Task The_emulator_refuses_what_Civo_refuses(string version, string says)
    {
        using var fast = CivoTimings.Use(Fast);
        using var manager = new ClusterManager(KsctlSettings.Load(_home));
        await manager.CreateAsync(new ClusterSpec { Id = Id, KubernetesVersion = "1.30.5-k3s1" }, OperationOptions.Default, CancellationToken.None);
        var cluster = Assert.Single(_civo.Inventory);
        var (status, body) = await PutAsync(cluster.Id, version);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("database_kubernetes_cluster_invalid_version", body);
        Assert.Contains(says, body);
        Assert.Equal("1.30.5-k3s1", cluster.Version);
        Assert.Empty(_civo.Upgrades);
    }

    [Fact]
    public async Task Ksctl_refuses_skew_then_upgrades_through_the_API_and_a_cancelled_wait_resumes_without_a_second_request()
    {
        using var fast = CivoTimings.Use(Fast);
        using var manager = new ClusterManager(KsctlSettings.Load(_home));
        await manager.CreateAsync(new ClusterSpec { Id = Id, KubernetesVersion = "1.30.5-k3s1" }, OperationOptions.Default, CancellationToken.None);
        foreach (var wrong in new[] { "1.32.1-k3s1", "1.29.8-k3s1", "1.31.2" })
        {
            var refused = await Assert.ThrowsAsync<InvalidSpecException>(() => manager.UpgradeAsync(Id, wrong, 1, OperationOptions.Default, CancellationToken.None));
            Assert.Equal("KubernetesVersion", refused.Parameter);
        }
        Assert.Empty(_civo.Upgrades);
        Assert.Equal([CivoProvider.UpgradeStep], (await manager.PlanUpgradeAsync(Id, "1.31.2-k3s1", 1, CancellationToken.None)).Steps.Select(s => s.Name));

        // Ctrl+C once Civo has accepted the upgrade (while the cluster is UPGRADING): ConfiguringFailed, resumable.
        _civo.PollsToActive = 1000;
        using var cancel = new CancellationTokenSource();
        var upgrading = manager.UpgradeAsync(Id, "1.31.2-k3s1", 1, OperationOptions.Default, cancel.Token);
        var accepted = Task.Run(async () => { while (_civo.Upgrades.Count == 0) await Task.Delay(10); });
        Assert.Same(accepted, await Task.WhenAny(accepted, upgrading));
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => upgrading);
        var cancelled = (await manager.Store.ReadAsync(Id, CancellationToken.None))!;
        Assert.Equal(ClusterStatus.ConfiguringFailed, cancelled.Status);
        Assert.Equal("1.31.2-k3s1", cancelled.UpgradeTargetVersion);
        Assert.Equal("UPGRADING", Assert.Single(_civo.Inventory).Status);

        // The re-run finds the upgrade under way: no second request, it waits until Civo reports ACTIVE at the version.
        _civo.PollsToActive = 2;
        var state = await manager.UpgradeAsync(Id, "1.31.2-k3s1", 1, OperationOptions.Default, CancellationToken.None);
        Assert.Equal([("demo", "1.30.5-k3s1", "1.31.2-k3s1")], _civo.Upgrades);
        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Equal("1.31.2-k3s1", state.KubernetesVersion);
        Assert.Equal("1.31.2-k3s1", state.Spec.KubernetesVersion);
        var cluster = Assert.Single(_civo.Inventory);
        Assert.Equal(("ACTIVE", "1.31.2-k3s1"), (cluster.Status, cluster.Version));

        await manager.DeleteAsync(Id, OperationOptions.Default, CancellationToken.None);
    }
}
