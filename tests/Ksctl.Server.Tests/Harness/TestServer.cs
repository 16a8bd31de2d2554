using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Ksctl.Server.Hosting;
using Ksctl.Server.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Ksctl.Server.Tests.Harness;

/// <summary>Environment variables are process-wide and Core reads them: every test that starts a server is in this serial collection.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ServerCollection
{
    public const string Name = "Server";
}

/// <summary>
/// A real server (Kestrel, TLS, the real composition of Program) on a free loopback port, in a temp $KSCTL_HOME on the
/// file store, with the kind stand-in on PATH (tests/tools/standins/kind, as the PowerShell tests use it) and one API
/// key per role. Clients pin the server's certificate by its SHA-256 fingerprint, as a user would.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    private static readonly string[] Variables = ["KSCTL_HOME", "PATH", "KUBECONFIG", "KIND_STANDIN_STATE", "KIND_STANDIN_LOG", "KIND_STANDIN_FAIL_CREATE",
        "KIND_STANDIN_CREATE_GATE", "KSCTL_STATE_STORE", "KSCTL_STATE_ACCOUNT_URI", "KSCTL_STATE_CONTAINER", "KSCTL_STATE_CONNECTION_STRING", "KSCTL_STATE_KEY", "KSCTL_STATE_KEY_FILE"];
    private readonly Dictionary<string, string?> _saved = new();
    private Dictionary<string, string?>? _savedCredentials;
    private OpenApiConformance? _conformance;

    private TestServer()
    {
        Root = Directory.CreateTempSubdirectory("ksctl-server-").FullName;
        Home = Path.Combine(Root, "home");
    }

    public string Root { get; }
    public string Home { get; }
    public string KindLog => Path.Combine(Root, "kind.log");
    public WebApplication App { get; private set; } = null!;
    public Uri BaseAddress { get; private set; } = null!;
    public string Fingerprint { get; private set; } = "";
    public Dictionary<ApiRole, string> Keys { get; } = new();

    public static async Task<TestServer> StartAsync(int requestsPerMinute = 600, Action<TestServer>? beforeStart = null)
    {
        var server = new TestServer();
        try
        {
            server.SetEnvironment();
            var keys = new ApiKeyStore(ApiKeyStore.DefaultPath(server.Home), TimeProvider.System);
            foreach (var role in Enum.GetValues<ApiRole>()) server.Keys[role] = keys.Create(role.ToString().ToLowerInvariant(), role).Key;
            beforeStart?.Invoke(server);
            server.App = KsctlServer.Build([
                $"--Ksctl:Server:Home={server.Home}", "--Ksctl:Server:Address=127.0.0.1", "--Ksctl:Server:Port=0",
                $"--Ksctl:Server:RequestsPerMinute={requestsPerMinute}", "--Logging:LogLevel:Default=Warning", "--Ksctl:Server:ReconcileIntervalSeconds=0"]);
            await server.App.StartAsync();
            var address = server.App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            server.BaseAddress = new Uri(address.Replace("0.0.0.0", "127.0.0.1"));
            server.Fingerprint = ServerCertificate.Fingerprint(server.App.Services.GetRequiredService<X509Certificate2>());
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private void SetEnvironment()
    {
        foreach (var v in Variables) _saved[v] = Environment.GetEnvironmentVariable(v);
        foreach (var v in Variables.Where(v => v.StartsWith("KSCTL_STATE_", StringComparison.Ordinal) || v.StartsWith("KIND_STANDIN_", StringComparison.Ordinal)))
            Environment.SetEnvironmentVariable(v, null);
        Environment.SetEnvironmentVariable("KSCTL_HOME", Home);
        Environment.SetEnvironmentVariable("KUBECONFIG", Path.Combine(Root, "kube", "config"));
        Environment.SetEnvironmentVariable("KIND_STANDIN_STATE", Path.Combine(Root, "kind"));
        Environment.SetEnvironmentVariable("KIND_STANDIN_LOG", KindLog);
        Environment.SetEnvironmentVariable("PATH", Standins + Path.PathSeparator + _saved["PATH"]);
        _savedCredentials = Ksctl.Tests.Shared.HostCredentialIsolation.Clear(Path.Combine(Root, "no-host-credentials"));
    }

    public static string RepoRoot { get; } = FindRepoRoot();
    public static string Standins => Path.Combine(RepoRoot, "tests", "tools", "standins");

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Ksctl.PowerShell.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No Ksctl.PowerShell.sln above {AppContext.BaseDirectory}.");
    }

    /// <summary>An HTTPS client that trusts exactly this server's certificate (by fingerprint), with the key of <paramref name="role"/> (none: no key).</summary>
    public HttpClient Client(ApiRole? role) => ClientWithKey(role is { } r ? Keys[r] : null);

    public HttpClient ClientWithKey(string? key)
    {
        var expected = Fingerprint;
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, cert, _, _) =>
                cert is not null && string.Join(':', cert.GetCertHash(HashAlgorithmName.SHA256).Select(b => b.ToString("X2"))) == expected,
        };
        var client = new HttpClient(handler) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        if (key is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    /// <summary>A client whose every response is checked against the served OpenAPI document.</summary>
    public async Task<ApiClient> ApiAsync(ApiRole? role)
    {
        _conformance ??= await OpenApiConformance.LoadAsync(Client(ApiRole.Reader));
        return new ApiClient(Client(role), _conformance);
    }

    public string[] KindCalls() => File.Exists(KindLog) ? File.ReadAllLines(KindLog) : [];

    public async ValueTask DisposeAsync()
    {
        if (App is not null)
        {
            await App.StopAsync();
            await App.DisposeAsync();
        }
        foreach (var (k, v) in _saved) Environment.SetEnvironmentVariable(k, v);
        if (_savedCredentials is not null) Ksctl.Tests.Shared.HostCredentialIsolation.Restore(_savedCredentials);
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
