using System.Management.Automation;
using System.Net;
using System.Text;
using Xunit;

namespace Ksctl.PowerShell.Tests;

/// <summary>
/// -Region and -NodeSize complete live from Civo's API when a key is present (GET /v2/regions, /v2/sizes), and fall
/// back silently to the static lists without one. A tiny stand-in of those two Civo endpoints answers here.
/// The module caches live answers (and failures) for the session, so each step uses its own cache entry.
/// </summary>
[Collection(PowerShellCollection.Name)]
public sealed class LiveCompletionTests
{
    private static List<string> Complete(KsctlSession session, string input)
    {
        using var ps = System.Management.Automation.PowerShell.Create(session.Runspace);
        var result = CommandCompletion.CompleteInput(input, input.Length, null, ps);
        return result.CompletionMatches.Select(m => m.CompletionText).ToList();
    }

    [Fact]
    public async Task Civo_region_and_node_size_complete_live_with_a_key_and_from_the_static_list_without()
    {
        var saved = (Token: Environment.GetEnvironmentVariable("CIVO_TOKEN"), Url: Environment.GetEnvironmentVariable("CIVO_API_URL"));
        await using var civo = CivoCatalogStandIn.Start("live-key");
        using var session = new KsctlSession();
        // Tab's 2 s budget is for a user; a loaded test machine can need longer to answer, and then the static list
        // would show and the test fail for a reason it does not test. The live path gets a test budget.
        using var budget = LiveLookupBudget.Set(session, TimeSpan.FromMinutes(1));
        try
        {
            Environment.SetEnvironmentVariable("CIVO_API_URL", civo.BaseUrl);

            // No key: the static list, no request, nothing thrown.
            Environment.SetEnvironmentVariable("CIVO_TOKEN", null);
            var sizes = Complete(session, "New-KsctlCluster demo -Provider Civo -NodeSize g4s.kube.");
            Assert.Contains("g4s.kube.small", sizes);
            Assert.DoesNotContain("g4s.kube.live", sizes);
            Assert.Equal(0, civo.Requests);

            // A key: Civo's own lists (a region and a size the static lists do not have), Kubernetes sizes only.
            Environment.SetEnvironmentVariable("CIVO_TOKEN", "live-key");
            var regions = Complete(session, "New-KsctlCluster demo -Provider Civo -Region ");
            Assert.Contains("SYD1", regions);
            Assert.Contains("LON1", regions);
            sizes = Complete(session, "New-KsctlCluster demo -Provider Civo -Region LON1 -NodeSize ");
            Assert.Contains("g4s.kube.live", sizes);
            Assert.DoesNotContain("g3.medium", sizes);
            var asked = civo.Requests;
            Assert.Equal(2, asked);

            // Cached for the session: Tab again asks nothing.
            Assert.Contains("SYD1", Complete(session, "New-KsctlCluster demo -Provider Civo -Region S"));
            Assert.Equal(asked, civo.Requests);
        }
        finally
        {
            Environment.SetEnvironmentVariable("CIVO_TOKEN", saved.Token);
            Environment.SetEnvironmentVariable("CIVO_API_URL", saved.Url);
        }
    }

    [Fact]
    public void Civo_machine_sizes_of_HA_clusters_complete_with_instance_sizes_not_Kubernetes_node_sizes()
    {
        using var session = new KsctlSession();
        var sizes = Complete(session, "New-KsctlCluster demo -Provider Civo -Type SelfManaged -WorkerSize g3.");
        Assert.Contains("g3.medium", sizes);
        Assert.Contains("g3.small", Complete(session, "New-KsctlCluster demo -Provider Civo -Type SelfManaged -EtcdSize "));
        Assert.DoesNotContain("g4s.kube.small", Complete(session, "New-KsctlCluster demo -Provider Civo -ControlPlaneSize "));
        Assert.Empty(Complete(session, "New-KsctlCluster demo -Provider Local -LoadBalancerSize "));
    }

    /// <summary>Sets the module's live-lookup budget (internal: reached through the loaded module) for one test.</summary>
    internal sealed class LiveLookupBudget : IDisposable
    {
        private readonly System.Reflection.PropertyInfo _property;
        private readonly object? _saved;

        private LiveLookupBudget(System.Reflection.PropertyInfo property, TimeSpan value)
        {
            _property = property;
            _saved = property.GetValue(null);
            property.SetValue(null, value);
        }

        public static LiveLookupBudget Set(KsctlSession session, TimeSpan value)
        {
            // The module's own assembly, as the runspace loaded it (the test project does not reference it).
            var module = session.RunClean("(Get-Module Ksctl).ImplementingAssembly").Output.Select(o => o.BaseObject).OfType<System.Reflection.Assembly>().Single();
            var property = module.GetType("Ksctl.PowerShell.Completers.LiveCatalogCache", throwOnError: true)!
                .GetProperty("Budget", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public)
                ?? throw new InvalidOperationException("LiveCatalogCache.Budget not found");
            return new LiveLookupBudget(property, value);
        }

        public void Dispose() => _property.SetValue(null, _saved);
    }

    /// <summary>GET /v2/regions and /v2/sizes with Civo's JSON and bearer check, on a free loopback port.</summary>
    private sealed class CivoCatalogStandIn : IAsyncDisposable
    {
        private readonly HttpListener _listener;
        private readonly Task _loop;
        private readonly string _key;
        private int _requests;

        private CivoCatalogStandIn(HttpListener listener, string baseUrl, string key)
        {
            _listener = listener;
            _key = key;
            BaseUrl = baseUrl;
            _loop = Task.Run(LoopAsync);
        }

        public string BaseUrl { get; }
        public int Requests => Volatile.Read(ref _requests);

        public static CivoCatalogStandIn Start(string key)
        {
            for (var attempt = 0; ; attempt++)
            {
                var port = Random.Shared.Next(20000, 60000);
                var listener = new HttpListener();
                listener.Prefixes.Add($"http://127.0.0.1:{port}/");
                try
                {
                    listener.Start();
                    return new CivoCatalogStandIn(listener, $"http://127.0.0.1:{port}/v2", key);
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
                Interlocked.Increment(ref _requests);
                var (status, body) = ctx.Request.Headers["Authorization"] != $"Bearer {_key}"
                    ? (401, """{"code":"authentication_failed","reason":"Authentication failed: the API key is invalid"}""")
                    : ctx.Request.Url!.AbsolutePath switch
                    {
                        "/v2/regions" => (200, """[{"code":"LON1","name":"London 1","default":true},{"code":"SYD1","name":"Sydney 1","default":false}]"""),
                        "/v2/sizes" => (200, """[{"name":"g3.medium","type":"Instance","selectable":true},{"name":"g4s.kube.small","type":"Kubernetes","selectable":true},{"name":"g4s.kube.live","type":"Kubernetes","selectable":true}]"""),
                        _ => (404, """{"code":"not_found","reason":"Not found"}"""),
                    };
                var bytes = Encoding.UTF8.GetBytes(body);
                ctx.Response.StatusCode = status;
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
