using System.Collections.Concurrent;
using Ksctl.Core;
using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Processes;
using Ksctl.Core.Providers;
using Ksctl.Core.Providers.Aws;
using Ksctl.Core.Storage;
using Ksctl.Core.Storage.Credentials;
using Ksctl.Tests.Shared;
using Microsoft.Extensions.Logging;

namespace Ksctl.Aws.Tests;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AwsEnvironmentCollection
{
    public const string Name = "AWS environment";
}

/// <summary>
/// One AWS emulator and a ClusterManager wired to it the way production wires AWS: the same provider, only the
/// endpoints differ. AWS_* variables are process-wide, so tests that use this run in one non-parallel collection, and
/// every cloud variable of the host is cleared (HostCredentialIsolation: AWS_*, the shared files moved to an empty
/// folder, IMDS off) and restored after. The SDK's default chain is off (ExcludeHostCredentials): no test signs in as
/// the developer.
/// </summary>
public sealed class AwsTestBed : IAsyncDisposable
{
    private readonly Dictionary<string, string?> _saved;
    private readonly string? _savedHome;
    private readonly ILoggerFactory _loggers;

    private AwsTestBed(AwsEmulator aws)
    {
        Aws = aws;
        Home = Directory.CreateTempSubdirectory("ksctl-aws-").FullName;
        _savedHome = Environment.GetEnvironmentVariable("HOME");
        _saved = HostCredentialIsolation.Clear(Path.Combine(Home, "host"));
        Settings = KsctlSettings.LoadFile(Home);
        Endpoints = AwsEndpoints.AllAt(aws.BaseUrl) with
        {
            ExcludeHostCredentials = true,
            MaxErrorRetry = 4,
            PollInterval = TimeSpan.FromMilliseconds(20),
            RetryDelay = TimeSpan.FromMilliseconds(20),
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

    public static async Task<AwsTestBed> StartAsync()
    {
        var bed = new AwsTestBed(await AwsEmulator.StartAsync());
        // The SDK reads the IMDS address once per process: make it the emulator's, before any SDK code could read it, so
        // no test ever asks a real instance metadata service (IMDS stays off unless a test turns it on).
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_SERVICE_ENDPOINT", await bed.Aws.ImdsEndpointAsync());
        return bed;
    }

    public AwsEmulator Aws { get; }
    public string Home { get; }
    public KsctlSettings Settings { get; }
    internal AwsEndpoints Endpoints { get; }
    public IStateStore Store { get; }
    public CredentialStore Credentials { get; }
    public EventSink Events { get; } = new();

    /// <summary>Lets the HA tests substitute a shorter SSH policy; null keeps production's.</summary>
    public Func<Ksctl.Core.Remote.RemoteShellOptions, Ksctl.Core.Remote.IRemoteShellFactory>? RemoteShells { get; set; }

    internal KsctlServices Services() => new(Settings, _loggers, new ProcessRunner(), TimeProvider.System, RemoteShells);

    internal ProviderRegistry Registry(AwsEndpoints? endpoints = null) =>
        ProviderRegistry.CreateDefault(Services(), (p, ct) => Credentials.GetAsync(p, ct), aws: endpoints ?? Endpoints);

    internal ClusterManager NewManager(AwsEndpoints? endpoints = null) => new(Services(), Registry(endpoints), Store, Events);

    /// <summary>The AWS provider as an operation gets it (bound to <paramref name="credential"/> when given).</summary>
    internal AwsProvider Provider(ProviderCredential? credential = null, AwsEndpoints? endpoints = null) =>
        Assert.IsType<AwsProvider>(Registry(endpoints).Get(CloudProvider.Aws, credential));

    /// <summary>Signs in through the environment, as a CI job would.</summary>
    public static void UseEnvironmentCredential(string keyId = AwsEmulator.AccessKeyId, string secret = AwsEmulator.SecretKey, string? token = null)
    {
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", keyId);
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", secret);
        Environment.SetEnvironmentVariable("AWS_SESSION_TOKEN", token);
    }

    /// <summary>
    /// A home folder of the test's own (HOME, where the SDK looks for ~/.aws/sso/cache), restored when the bed is disposed.
    /// </summary>
    public string UseOwnHome()
    {
        var home = Path.Combine(Home, "user");
        Directory.CreateDirectory(home);
        Environment.SetEnvironmentVariable("HOME", home);
        return home;
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

    public sealed class EventSink : IProgress<KsctlEvent>
    {
        public ConcurrentQueue<KsctlEvent> All { get; } = new();
        public void Report(KsctlEvent value) => All.Enqueue(value);
    }

    public async ValueTask DisposeAsync()
    {
        // Whatever AWS_* a test set (AWS_PROFILE, AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ENDPOINT_URL_SSO...) goes with it: the
        // tests share a process, and a variable left behind would sign the next test in.
        foreach (var name in HostCredentialIsolation.HostVariables()) Environment.SetEnvironmentVariable(name, null);
        HostCredentialIsolation.Restore(_saved);
        Environment.SetEnvironmentVariable("HOME", _savedHome);
        _loggers.Dispose();
        await Aws.DisposeAsync();
        try { Directory.Delete(Home, recursive: true); } catch (IOException) { }
    }
}
