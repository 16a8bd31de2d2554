using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Xunit;

namespace Ksctl.Civo.Tests;

/// <summary>The Civo provider's live catalogue (what Tab offers for -Region and -NodeSize when a key is present).</summary>
[Collection(CivoEnvironmentCollection.Name)]
public sealed class CivoLiveCatalogTests : IAsyncLifetime
{
    private readonly string _home = Directory.CreateTempSubdirectory("ksctl-civo-live-").FullName;
    private CivoTestEnvironment _env = null!;
    private CivoEmulator _civo = null!;

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
    public async Task Regions_and_Kubernetes_node_sizes_come_from_the_API_and_a_missing_key_asks_nothing()
    {
        using var manager = new ClusterManager(KsctlSettings.Load(_home));
        var catalog = Assert.IsAssignableFrom<Ksctl.Core.Providers.ILiveCatalog>(manager.LiveCatalog(CloudProvider.Civo));
        Assert.Null(manager.LiveCatalog(CloudProvider.Local));

        Assert.Equal(["LON1", "FRA1", "MUM1", "NYC1", "PHX1"], await catalog.RegionsAsync(CancellationToken.None));
        Assert.Equal(["g4s.kube.small", "g4s.kube.medium"], await catalog.NodeSizesAsync("LON1", CancellationToken.None));

        _env.Set("CIVO_TOKEN", null);
        var sent = _civo.Requests.Count;
        var error = await Assert.ThrowsAsync<KsctlException>(() => catalog.RegionsAsync(CancellationToken.None));
        Assert.Equal("KsctlAuthenticationFailed", error.ErrorId);
        Assert.Equal(sent, _civo.Requests.Count);
    }
}
