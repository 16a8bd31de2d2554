using System.Collections.Concurrent;
using Ksctl.Core;
using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Processes;
using Ksctl.Core.Providers;
using Ksctl.Core.Providers.Gcp;
using Ksctl.Core.Storage;
using Ksctl.Core.Storage.Credentials;
using Microsoft.Extensions.Logging;

namespace Ksctl.Gcp.Tests;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GcpEnvironmentCollection
{
    public const string Name = "GCP environment";
}

/// <summary>
/// One GCP emulator and a ClusterManager wired to it the way production wires Google: the same provider, only the
/// endpoints and timings differ, and Application Default Credentials are off (nothing of the host signs in). The
/// GOOGLE_* and CLOUDSDK_* variables are process-wide, so tests using this run in one non-parallel collection and
/// every one is cleared and restored.
/// </summary>
public sealed class GcpTestBed : IAsyncDisposable
{
    private readonly Dictionary<string, string?> _saved = new();
    private readonly ILoggerFactory _loggers;

    private GcpTestBed(GcpEmulator gcp)
    {
        Gcp = gcp;
        foreach (var v in Environment.GetEnvironmentVariables().Keys.Cast<string>()
                     .Where(k => k.StartsWith("GOOGLE_", StringComparison.OrdinalIgnoreCase) || k.StartsWith("CLOUDSDK_", StringComparison.OrdinalIgnoreCase) || k == "GCE_METADATA_HOST")
                     .Concat(["GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_PROJECT", "CLOUDSDK_CONFIG", "GCE_METADATA_HOST"]).Distinct())
        {
            _saved[v] = Environment.GetEnvironmentVariable(v);
            Environment.SetEnvironmentVariable(v, null);
        }
        Home = Directory.CreateTempSubdirectory("ksctl-gcp-").FullName;
        Settings = KsctlSettings.LoadFile(Home);
        Endpoints = new GcpEndpoints
        {
            Compute = gcp.ComputeUrl,
            Container = gcp.ContainerUrl,
            TokenUrl = gcp.TokenUrl,
            UseApplicationDefault = false,
            Timings = new GcpTimings
            {
                FirstPoll = TimeSpan.FromMilliseconds(5),
                MaxPoll = TimeSpan.FromMilliseconds(40),
                RetryDelay = TimeSpan.FromMilliseconds(10),
                InUse = TimeSpan.FromSeconds(20),
                // Deadlines that a stuck emulator would reach in seconds, not the 10 and 40 minutes of production.
                OperationDeadline = TimeSpan.FromSeconds(60),
                ClusterDeadline = TimeSpan.FromSeconds(60),
            },
        };
        _loggers = LoggerFactory.Create(b =>
        {
            b.SetMinimumLevel(LogLevel.Debug);
            b.AddProvider(new EventLoggerProvider(Events));
            b.AddProvider(new FileLoggerProvider(Settings.LogPath));
        });
        Store = new FileStateStore(Settings.StatePath);
        Credentials = CredentialStore.For(Store, TimeProvider.System);
        KeyFile = WriteKeyFile(gcp.Account, "key.json");
    }

    public static async Task<GcpTestBed> StartAsync() => new(await GcpEmulator.StartAsync());

    public GcpEmulator Gcp { get; }
    public string Home { get; }
    public KsctlSettings Settings { get; }
    internal GcpEndpoints Endpoints { get; }
    public IStateStore Store { get; }
    public CredentialStore Credentials { get; }
    public EventSink Events { get; } = new();
    /// <summary>The emulator's service account key file, as gcloud writes it.</summary>
    public string KeyFile { get; }
    public Func<Ksctl.Core.Remote.RemoteShellOptions, Ksctl.Core.Remote.IRemoteShellFactory>? RemoteShells { get; set; }

    public string WriteKeyFile(GcpEmulator.ServiceAccount account, string name)
    {
        var path = Path.Combine(Home, name);
        // The file's token_uri is Google's: Ksctl must use its configured token endpoint, not the file's.
        File.WriteAllText(path, account.KeyFileJson("https://oauth2.googleapis.com/token"));
        return path;
    }

    internal ClusterManager NewManager(GcpEndpoints? endpoints = null)
    {
        var services = new KsctlServices(Settings, _loggers, new ProcessRunner(), TimeProvider.System, RemoteShells);
        var providers = ProviderRegistry.CreateDefault(services, (p, ct) => Credentials.GetAsync(p, ct), gcp: endpoints ?? Endpoints);
        return new ClusterManager(services, providers, Store, Events);
    }

    public static OperationOptions WithKey(string path, string? project = null) =>
        new() { Credential = new ProviderCredential { CredentialPath = path, Project = project } };

    public async Task<string> AllOutputAsync()
    {
        var text = string.Join('\n', Events.All.Select(e => e.Message));
        if (Directory.Exists(Settings.LogPath))
            foreach (var log in Directory.EnumerateFiles(Settings.LogPath, "*", SearchOption.AllDirectories))
                text += "\n" + await File.ReadAllTextAsync(log);
        return text;
    }

    public sealed class EventSink : IProgress<KsctlEvent>
    {
        public ConcurrentQueue<KsctlEvent> All { get; } = new();
        public void Report(KsctlEvent value) => All.Enqueue(value);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (name, value) in _saved) Environment.SetEnvironmentVariable(name, value);
        _loggers.Dispose();
        await Gcp.DisposeAsync();
        try { Directory.Delete(Home, recursive: true); } catch (IOException) { }
    }
}
