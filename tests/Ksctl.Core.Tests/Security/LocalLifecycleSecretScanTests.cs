using System.Text;
using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Processes;
using Ksctl.Core.Providers;
using Ksctl.Core.Storage;
using Ksctl.Core.Storage.Protection;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Tests.Security;

/// <summary>
/// Issue #12 item 9's secret scan over a whole Local lifecycle (create, list, get, delete) driving the kind and docker
/// stand-ins as real processes: no secret of the cluster shows in any event, log file or (encrypted) state file.
/// </summary>
[Collection(ProcessEnvironmentCollection.Name)]
public sealed class LocalLifecycleSecretScanTests : IDisposable
{
    private readonly TempDir _home = new("ksctl-scan-home");
    private readonly TempDir _bin = new("ksctl-scan-bin");
    private readonly EnvironmentScope _env = new();
    private readonly string _kindState = Path.Combine(Path.GetTempPath(), "kind-standin-" + Guid.NewGuid().ToString("N"));

    public LocalLifecycleSecretScanTests()
    {
        foreach (var tool in new[] { "kind", "docker" })
            File.CreateSymbolicLink(_bin.Combine(tool), Path.Combine(Samples.StandinsDirectory(), tool));
        _env.Set("PATH", string.Join(Path.PathSeparator, _bin.Path, "/usr/bin", "/bin"))
            .Set(KsctlSettings.HomeVariable, _home.Path)
            .Set("KIND_STANDIN_LOG", _home.Combine("kind.log"))
            .Set("KIND_STANDIN_STATE", _kindState)
            .Set("KIND_STANDIN_FAIL_CREATE", null)
            .Set("KIND_STANDIN_CREATE_DELAY", null)
            .Set("DOCKER_STANDIN_DOWN", null);
    }

    public void Dispose()
    {
        _env.Dispose();
        _bin.Dispose();
        _home.Dispose();
        try { Directory.Delete(_kindState, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task A_full_Local_lifecycle_shows_no_secret_in_any_stream_log_or_state_file()
    {
        var events = new EventSink();
        var settings = KsctlSettings.Load(_home.Path);
        var store = new FileStateStore(settings.StatePath, StateKey.FromBase64(StateKey.Generate()));
        var loggers = LoggerFactory.Create(b =>
        {
            b.SetMinimumLevel(LogLevel.Trace);
            b.AddProvider(new EventLoggerProvider(events));
            b.AddProvider(new FileLoggerProvider(settings.LogPath));
        });
        var services = new KsctlServices(settings, loggers, new ProcessRunner(), TimeProvider.System);
        var scan = new SecretScan();
        var places = new List<(string, string)>();
        using (var manager = new ClusterManager(services, ProviderRegistry.CreateDefault(services), store, events))
        {
            var created = await manager.CreateAsync(new ClusterSpec { Id = Samples.LocalId("scan") }, OperationOptions.Default, default);
            var kubeconfig = created.Secrets[ClusterState.KubeconfigSecret];
            scan.Add(kubeconfig);
            Assert.Contains("client-key-data", kubeconfig);
            places.Add(("state.json", File.ReadAllText(store.DocumentPath(created.Id))));
            var listing = await manager.ListSummariesAsync(ClusterQuery.All, default);
            places.AddRange(listing.Clusters.Select(c => ("listing", Encoding.UTF8.GetString(StateSerializer.Serialize(c)))));
            try { await manager.ResizeAsync(created.Id, 3, OperationOptions.Default, default); }
            catch (KsctlException ex) { places.Add(SecretScan.Error(ex)); }
            await manager.DeleteAsync(created.Id, OperationOptions.Default, default);
        }
        loggers.Dispose();
        places.AddRange(SecretScan.Events(events));
        places.AddRange(SecretScan.Files(settings.LogPath));
        places.AddRange(SecretScan.Files(settings.StatePath));

        Assert.True(scan.Count >= 2, "the kubeconfig's credentials are what is looked for");
        Assert.NotEmpty(SecretScan.Files(settings.LogPath));
        Assert.Empty(scan.Findings(places));
    }
}
