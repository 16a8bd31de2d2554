using System.Collections.Concurrent;
using System.Management.Automation;
using System.Net;
using System.Text;
using System.Text.Json;
using Xunit;

namespace Ksctl.PowerShell.Tests;

/// <summary>
/// Issue #17 item 9: cmdlet plumbing run end to end. -Credential/-TenantId/-SubscriptionId reach Core (the provider
/// registry refuses what a provider cannot take, before anything changes; Civo's API receives the -Credential key ahead
/// of the environment's), and every error id of Import-KsctlState.
/// </summary>
[Collection(PowerShellCollection.Name)]
public sealed class CmdletPlumbingTests
{
    private const string Cred = "([pscredential]::new('ci', [Net.NetworkCredential]::new('', 'explicit-key').SecurePassword))";

    [Theory]
    [InlineData("-Credential " + Cred, "Credential")]
    [InlineData("-TenantId 00000000-0000-0000-0000-000000000001", "TenantId")]
    [InlineData("-SubscriptionId 00000000-0000-0000-0000-000000000002", "SubscriptionId")]
    public void CredentialParameters_ReachCore_OnNewAndRemove_AndAreRefusedBeforeAnythingChanges(string parameter, string name)
    {
        using var session = new KsctlSession();
        var create = session.Run($"New-KsctlCluster demo -Provider Local {parameter}");
        var error = Assert.Single(create.Errors);
        Assert.Equal("KsctlInvalidSpec", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains($"-{name}", error.Exception.Message);
        Assert.Empty(session.StateFiles());

        session.RunClean("New-KsctlCluster demo -Provider Local");
        var document = Assert.Single(session.StateFiles());
        var before = File.ReadAllBytes(document);
        var remove = session.Run($"Remove-KsctlCluster demo -Force {parameter}");
        error = Assert.Single(remove.Errors);
        Assert.Equal("KsctlInvalidSpec", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains($"-{name}", error.Exception.Message);
        Assert.Equal(before, File.ReadAllBytes(Assert.Single(session.StateFiles())));
        Assert.Equal("Running", (string)((dynamic)session.RunClean("Get-KsctlCluster demo").Single()).Status);
    }

    [Fact]
    public async Task Credential_IsTheKeyCivoReceives_AheadOfTheEnvironment()
    {
        var saved = (Token: Environment.GetEnvironmentVariable("CIVO_TOKEN"), Url: Environment.GetEnvironmentVariable("CIVO_API_URL"));
        await using var civo = RecordingCivo.Start();
        try
        {
            using var session = new KsctlSession();
            Environment.SetEnvironmentVariable("CIVO_API_URL", civo.BaseUrl);
            Environment.SetEnvironmentVariable("CIVO_TOKEN", "environment-key");
            var result = session.Run($"New-KsctlCluster demo -Provider Civo -NodeCount 1 -Credential {Cred}");
            Assert.Equal("KsctlAuthenticationFailed", Assert.Single(result.Errors).FullyQualifiedErrorId.Split(',')[0]);
            Assert.NotEmpty(civo.Authorizations);
            Assert.All(civo.Authorizations, a => Assert.Equal("Bearer explicit-key", a));

            civo.Authorizations.Clear();
            session.Run("New-KsctlCluster demo -Provider Civo -NodeCount 1");
            Assert.NotEmpty(civo.Authorizations);
            Assert.All(civo.Authorizations, a => Assert.Equal("Bearer environment-key", a));
            Assert.DoesNotContain("explicit-key", string.Concat(session.StateFiles().Select(File.ReadAllText)));
        }
        finally
        {
            Environment.SetEnvironmentVariable("CIVO_TOKEN", saved.Token);
            Environment.SetEnvironmentVariable("CIVO_API_URL", saved.Url);
        }
    }

    [Fact]
    public void Import_EveryErrorId_WithItsCategory_AndNothingChanged()
    {
        using var session = new KsctlSession();
        session.RunClean("New-KsctlCluster demo -Provider Local");
        var export = Path.Combine(session.Root, "export.json");
        var key = Path.Combine(session.Root, "export.key");
        session.RunClean($"Export-KsctlState -Path '{export}' -KeyPath '{key}' -WarningAction SilentlyContinue");
        var format = JsonDocument.Parse(File.ReadAllText(export)).RootElement.GetProperty("format").GetString();
        var otherKey = Path.Combine(session.Root, "other.key");
        File.WriteAllText(otherKey, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
        var notJson = Path.Combine(session.Root, "not.json");
        File.WriteAllText(notJson, "{ not json");
        var tooNew = Path.Combine(session.Root, "too-new.json");
        File.WriteAllText(tooNew, $$"""{ "format": "{{format}}", "version": 99, "clusters": [] }""");
        var folder = Path.Combine(session.Root, "a-folder");
        Directory.CreateDirectory(folder);

        var cases = new (string Script, string Id, ErrorCategory Category)[]
        {
            ($"Import-KsctlState -LiteralPath '{Path.Combine(session.Root, "absent.json")}' -KeyPath '{key}'", "KsctlImportFileNotFound", ErrorCategory.ObjectNotFound),
            ($"Import-KsctlState -LiteralPath '{folder}' -KeyPath '{key}'", "KsctlImportFileUnreadable", ErrorCategory.ReadError),
            ($"Import-KsctlState -LiteralPath '{notJson}' -KeyPath '{key}'", "KsctlImportFileInvalid", ErrorCategory.InvalidData),
            ($"Import-KsctlState -LiteralPath '{tooNew}' -KeyPath '{key}'", "KsctlStateSchemaTooNew", ErrorCategory.InvalidData),
            ($"Import-KsctlState -LiteralPath '{export}'", "KsctlStateKeyMissing", ErrorCategory.SecurityError),
            ($"Import-KsctlState -LiteralPath '{export}' -KeyPath '{otherKey}'", "KsctlStateKeyInvalid", ErrorCategory.SecurityError),
            ($"Import-KsctlState -LiteralPath '{export}' -KeyPath '{key}'", "KsctlClusterExists", ErrorCategory.ResourceExists),
        };
        var document = Assert.Single(session.StateFiles());
        var before = File.ReadAllBytes(document);
        foreach (var (script, id, category) in cases)
        {
            var result = session.Run(script);
            var error = Assert.Single(result.Errors);
            Assert.True(error.FullyQualifiedErrorId.StartsWith(id + ",", StringComparison.Ordinal), $"{script}: {error.FullyQualifiedErrorId}");
            Assert.True(category == error.CategoryInfo.Category, $"{id}: category {error.CategoryInfo.Category}, expected {category}");
            Assert.Empty(result.Output);
            Assert.Equal(before, File.ReadAllBytes(Assert.Single(session.StateFiles())));
        }
    }

    [Fact]
    public void ThrottleLimit_ReachesTheOperation_OnRemoveAndResize_AndResizeRefusesCredentialsBeforeAnything()
    {
        using var session = new KsctlSession();
        session.RunClean("New-KsctlCluster demo -Provider Local");
        var removed = session.RunClean("& { $DebugPreference = 'Continue'; Remove-KsctlCluster demo -Force -ThrottleLimit 3 }");
        Assert.Contains(removed.Debug, d => d.Contains("delete plan") && d.Contains("up to 3 step(s) at once"));

        // A self-managed cluster in the store (an export of one, as Export-KsctlState writes it): resize to the count it
        // has runs an empty plan, so -ThrottleLimit is observable without reaching any machine.
        ImportBareMetalCluster(session, "lab", workers: 0);
        var resized = session.RunClean("& { $DebugPreference = 'Continue'; Resize-KsctlCluster lab -WorkerCount 0 -ThrottleLimit 5 }");
        Assert.Contains(resized.Debug, d => d.Contains("resize plan") && d.Contains("up to 5 step(s) at once"));
        Assert.Equal("Running", (string)((dynamic)resized.Single()).Status);

        var before = File.ReadAllBytes(Assert.Single(session.StateFiles()));
        var refused = session.Run("Resize-KsctlCluster lab -WorkerCount 0 -TenantId 00000000-0000-0000-0000-000000000001");
        var error = Assert.Single(refused.Errors);
        Assert.Equal("KsctlInvalidSpec", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("-TenantId", error.Exception.Message);
        Assert.Equal(before, File.ReadAllBytes(Assert.Single(session.StateFiles())));
    }

    /// <summary>Writes an export file holding one Running BareMetal K3s cluster (3 lb/etcd/cp machines + workers) and imports it.</summary>
    private static void ImportBareMetalCluster(KsctlSession session, string name, int workers)
    {
        var key = Path.Combine(session.Root, "id_ed25519");
        File.WriteAllText(key, "not read: nothing connects");
        var roles = new List<string> { "LoadBalancer", "Datastore", "Datastore", "Datastore", "ControlPlane", "ControlPlane", "ControlPlane" };
        roles.AddRange(Enumerable.Repeat("Worker", workers));
        var id = new { provider = "BareMetal", type = "SelfManaged", name, region = "baremetal" };
        var machines = roles.Select((r, i) => new
        {
            address = $"192.0.2.{10 + i}", port = 22, user = "root", keyPath = key, role = r,
            hostKey = "SHA256:" + Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData([(byte)i])).TrimEnd('='),
        }).ToArray();
        var now = DateTimeOffset.UtcNow;
        var state = new
        {
            schemaVersion = 1, id,
            spec = new { id, distribution = "K3s", controlPlaneCount = 3, etcdCount = 3, workerCount = workers, applications = Array.Empty<string>(), machines, trustOnFirstUse = false },
            status = "Running", distribution = "K3s", createdAt = now, updatedAt = now,
            nodes = Array.Empty<object>(), resources = new Dictionary<string, string>(), secrets = new Dictionary<string, string>(),
            steps = new Dictionary<string, object>(), lastErrors = Array.Empty<string>(),
        };
        var file = Path.Combine(session.Root, $"{name}.export.json");
        File.WriteAllText(file, JsonSerializer.Serialize(new { format = ExportFormat(session), version = 1, exportedAt = now, clusters = new[] { state } }));
        session.RunClean($"Import-KsctlState -LiteralPath '{file}'");
    }

    private static string ExportFormat(KsctlSession session)
    {
        var probe = Path.Combine(session.Root, "probe.json");
        session.RunClean("New-KsctlCluster probe -Provider Local");
        session.RunClean($"Export-KsctlState -Name probe -Path '{probe}' -KeyPath '{probe}.key' -WarningAction SilentlyContinue");
        session.RunClean("Remove-KsctlCluster probe -Force");
        return JsonDocument.Parse(File.ReadAllText(probe)).RootElement.GetProperty("format").GetString()!;
    }

    /// <summary>
    /// Civo's API as far as authentication goes: every request's Authorization header is recorded and answered 401 with
    /// Civo's error body ({"code":"authentication_failed",...}, as civogo's errors.go decodes it), so nothing is created.
    /// </summary>
    private sealed class RecordingCivo : IAsyncDisposable
    {
        private readonly HttpListener _listener;
        private readonly Task _loop;

        private RecordingCivo(HttpListener listener, string baseUrl)
        {
            _listener = listener;
            BaseUrl = baseUrl;
            _loop = Task.Run(LoopAsync);
        }

        public string BaseUrl { get; }
        public ConcurrentQueue<string> Authorizations { get; } = new();

        public static RecordingCivo Start()
        {
            for (var attempt = 0; ; attempt++)
            {
                var port = Random.Shared.Next(20000, 60000);
                var listener = new HttpListener();
                listener.Prefixes.Add($"http://127.0.0.1:{port}/");
                try
                {
                    listener.Start();
                    return new RecordingCivo(listener, $"http://127.0.0.1:{port}/v2");
                }
                catch (HttpListenerException) when (attempt < 20)
                {
                    listener.Close();
                }
            }
        }

        private async Task LoopAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext ctx;
                try { ctx = await _listener.GetContextAsync(); }
                catch (Exception) { return; }
                Authorizations.Enqueue(ctx.Request.Headers["Authorization"] ?? "");
                var bytes = Encoding.UTF8.GetBytes("""{"code":"authentication_failed","reason":"Authentication failed: the API key is invalid"}""");
                ctx.Response.StatusCode = 401;
                ctx.Response.ContentType = "application/json";
                await ctx.Response.OutputStream.WriteAsync(bytes);
                ctx.Response.Close();
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            _listener.Close();
            // Stopping the listener ends the loop with these; anything else is a stand-in that broke mid-test: loud.
            try { await _loop; } catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or IOException or OperationCanceledException) { }
        }
    }
}
