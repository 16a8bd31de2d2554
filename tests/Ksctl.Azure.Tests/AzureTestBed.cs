using System.Collections.Concurrent;
using Ksctl.Core;
using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Processes;
using Ksctl.Core.Providers;
using Ksctl.Core.Providers.Azure;
using Ksctl.Core.Storage;
using Ksctl.Core.Storage.Credentials;
using Microsoft.Extensions.Logging;

namespace Ksctl.Azure.Tests;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AzureEnvironmentCollection
{
    public const string Name = "Azure environment";
}

/// <summary>
/// One ARM emulator and a ClusterManager wired to it the way production wires the public cloud: the same provider,
/// only the endpoints and the trust of the emulator's certificate differ. AZURE_* variables are process-wide, so
/// tests that use this run in one non-parallel collection and every variable is cleared and restored. Nothing of the
/// host signs in: every AZURE_* variable and the managed-identity ones (IDENTITY_ENDPOINT, MSI_ENDPOINT, IMDS_ENDPOINT...)
/// are cleared, and DefaultAzureCredential tries no host source (no IMDS, az, Az PowerShell, VS Code).
/// </summary>
public sealed class AzureTestBed : IAsyncDisposable
{
    public static readonly string[] Variables = ["AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_SUBSCRIPTION_ID", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME",
        "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT", "IMDS_ENDPOINT", "MSI_ENDPOINT", "MSI_SECRET"];

    /// <summary>The fixed list plus whatever other AZURE_* variable the host has set (AZURE_FEDERATED_TOKEN_FILE, AZURE_AUTHORITY_HOST...).</summary>
    private static IEnumerable<string> HostVariables() =>
        Variables.Concat(Environment.GetEnvironmentVariables().Keys.Cast<string>().Where(k => k.StartsWith("AZURE_", StringComparison.OrdinalIgnoreCase))).Distinct();
    private readonly Dictionary<string, string?> _saved = new();
    private readonly ILoggerFactory _loggers;

    private AzureTestBed(ArmEmulator arm)
    {
        Arm = arm;
        foreach (var v in HostVariables())
        {
            _saved[v] = Environment.GetEnvironmentVariable(v);
            Environment.SetEnvironmentVariable(v, null);
        }
        Home = Directory.CreateTempSubdirectory("ksctl-azure-").FullName;
        Settings = KsctlSettings.LoadFile(Home);
        Endpoints = new AzureEndpoints
        {
            ResourceManager = arm.BaseUrl,
            Authority = arm.BaseUrl,
            DisableInstanceDiscovery = true,
            ServerCertificateValidation = (certificate, _, _) => arm.IsEmulatorCertificate(certificate),
            RetryDelay = TimeSpan.FromMilliseconds(50),
            MinimumPollInterval = TimeSpan.FromMilliseconds(20),
            ExcludeHostCredentials = true,
        };
        _loggers = LoggerFactory.Create(b =>
        {
            b.SetMinimumLevel(LogLevel.Debug);
            b.AddProvider(new EventLoggerProvider(Events));
            b.AddProvider(new FileLoggerProvider(Settings.LogPath));
        });
        Store = new FileStateStore(Settings.StatePath);
        Credentials = CredentialStore.For(Store, TimeProvider.System);
    }

    public static async Task<AzureTestBed> StartAsync() => new(await ArmEmulator.StartAsync());

    public ArmEmulator Arm { get; }
    public string Home { get; }
    public KsctlSettings Settings { get; }
    internal AzureEndpoints Endpoints { get; }
    public IStateStore Store { get; }
    public CredentialStore Credentials { get; }
    public EventSink Events { get; } = new();
    /// <summary>The operations' clock: real time plus what a test adds from an emulator hook (deadlines without waiting).</summary>
    public TestClock Clock { get; } = new();

    /// <summary>Lets the HA test substitute a shorter SSH policy; null keeps production's.</summary>
    public Func<Ksctl.Core.Remote.RemoteShellOptions, Ksctl.Core.Remote.IRemoteShellFactory>? RemoteShells { get; set; }

    internal ClusterManager NewManager(AzureEndpoints? endpoints = null)
    {
        var services = new KsctlServices(Settings, _loggers, new ProcessRunner(), Clock, RemoteShells);
        var providers = ProviderRegistry.CreateDefault(services, (p, ct) => Credentials.GetAsync(p, ct), endpoints ?? Endpoints);
        return new ClusterManager(services, providers, Store, Events);
    }

    /// <summary>Signs in through the environment, as a runbook or CI job would.</summary>
    public void UseEnvironmentCredential(string? secret = null, string? subscription = ArmEmulator.Subscription)
    {
        Environment.SetEnvironmentVariable("AZURE_CLIENT_ID", ArmEmulator.ClientId);
        Environment.SetEnvironmentVariable("AZURE_TENANT_ID", ArmEmulator.Tenant);
        Environment.SetEnvironmentVariable("AZURE_CLIENT_SECRET", secret ?? ArmEmulator.Secret);
        Environment.SetEnvironmentVariable("AZURE_SUBSCRIPTION_ID", subscription);
    }

    /// <summary>Every log line and event, to check that no secret leaks.</summary>
    public async Task<string> AllOutputAsync()
    {
        var text = string.Join('\n', Events.All.Select(e => e.Message));
        if (Directory.Exists(Settings.LogPath))
            foreach (var log in Directory.EnumerateFiles(Settings.LogPath, "*", SearchOption.AllDirectories))
                text += "\n" + await File.ReadAllTextAsync(log);
        return text;
    }

    /// <summary>Real timers, and a "now" that a test moves forward (an operation's deadline passes at a chosen poll).</summary>
    public sealed class TestClock : TimeProvider
    {
        private long _ticks;
        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _ticks));
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
        await Arm.DisposeAsync();
        try { Directory.Delete(Home, recursive: true); } catch (IOException) { }
    }
}
