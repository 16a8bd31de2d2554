using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Xunit;

namespace Ksctl.Civo.Tests;

/// <summary>
/// What the real Civo API requires of a managed create, and the request budget (issue #10 items 1-3, 9): each test
/// fails against the code that sent no network, no firewall, a pinned version, a /16, or retried 429s blindly.
/// </summary>
[Collection(CivoEnvironmentCollection.Name)]
public sealed class CivoConformanceTests : IAsyncLifetime
{
    private readonly string _home = Directory.CreateTempSubdirectory("ksctl-civo-conf-").FullName;
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

    private ClusterManager NewManager() => new(KsctlSettings.Load(_home));
    private static ClusterId Id(string name = "demo", string region = "LON1") => new(CloudProvider.Civo, ClusterType.Managed, name, region);
    private static ClusterSpec Spec(string name = "demo", string region = "LON1") => new() { Id = Id(name, region) };

    private async Task<HttpResponseMessage> PostAsync(string path, JsonObject body)
    {
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new("Bearer", "good-key");
        return await http.PostAsJsonAsync($"{_civo.BaseUrl}/{path}", body);
    }

    [Fact]
    public async Task The_emulator_refuses_a_cluster_without_a_network_of_its_region_as_Civo_does()
    {
        var missing = await PostAsync("kubernetes/clusters", new JsonObject { ["name"] = "x", ["region"] = "LON1", ["target_nodes_size"] = "g4s.kube.small" });
        var otherRegion = await PostAsync("kubernetes/clusters", new JsonObject
        {
            ["name"] = "x", ["region"] = "LON1", ["target_nodes_size"] = "g4s.kube.small", ["network_id"] = CivoEmulator.DefaultNetworkId("NYC1"),
        });

        Assert.Equal(404, (int)missing.StatusCode);
        Assert.Equal("database_network_not_found", (await missing.Content.ReadFromJsonAsync<JsonObject>())!["code"]!.GetValue<string>());
        Assert.Equal(404, (int)otherRegion.StatusCode);
        Assert.Empty(_civo.Inventory);
    }

    [Fact]
    public async Task Managed_create_sends_the_default_network_and_its_own_firewall_which_delete_removes()
    {
        using var manager = NewManager();

        var state = await manager.CreateAsync(Spec(), OperationOptions.Default, CancellationToken.None);

        var cluster = Assert.Single(_civo.Inventory);
        Assert.Equal(CivoEmulator.DefaultNetworkId("LON1"), cluster.NetworkId);
        var firewall = Assert.Single(_civo.Firewalls);
        Assert.Equal(("demo-lon1-kube-fw", firewall.Id, cluster.NetworkId), (firewall.Name, cluster.FirewallId, firewall.NetworkId));
        // Only Ksctl's rules (create_rules false): the API and ingress from anywhere, the rest from the network only.
        var open = firewall.Rules.Where(r => r["direction"]!.GetValue<string>() == "ingress" && r["cidr"]![0]!.GetValue<string>() == "0.0.0.0/0")
            .Select(r => $"{r["protocol"]}/{r["start_port"]}-{r["end_port"]}").Order().ToArray();
        Assert.Equal(["tcp/443-443", "tcp/6443-6443", "tcp/80-80"], open);
        Assert.Equal(firewall.Id, state.Resources["civo:firewall"]);

        var plan = await manager.PlanDeleteAsync(Id(), CancellationToken.None);
        Assert.Contains($"civo kubernetes cluster demo ({cluster.Id})", plan["civo:cluster"].Resources);
        Assert.Contains($"civo firewall demo-lon1-kube-fw ({firewall.Id})", plan["civo:delete:firewall"].Resources);
        await manager.DeleteAsync(Id(), OperationOptions.Default, CancellationToken.None);

        Assert.Empty(_civo.Everything);
        Assert.Contains(_civo.Requests, r => r.Method == "DELETE" && r.Path.StartsWith($"/v2/firewalls/{firewall.Id}", StringComparison.Ordinal) && r.Status == 200);
    }

    [Fact]
    public async Task Polls_are_seconds_apart_not_milliseconds()
    {
        // The product's own timings, not the fast ones this test assembly polls with (CivoTestTimings).
        using var real = Ksctl.Core.Providers.Civo.CivoTimings.Use(Ksctl.Core.Providers.Civo.CivoTimings.Default);
        using var manager = NewManager();

        await manager.CreateAsync(Spec(), OperationOptions.Default, CancellationToken.None);

        var polls = _civo.Requests.Where(r => r.Method == "GET" && r.Path.StartsWith("/v2/kubernetes/clusters/", StringComparison.Ordinal)).Select(r => r.At).ToList();
        Assert.True(polls.Count >= 3);
        // The wait loop's polls (the first two): at least a second apart (2 s, then growing).
        Assert.True(polls[1] - polls[0] >= TimeSpan.FromSeconds(1.5), $"polled {(polls[1] - polls[0]).TotalMilliseconds} ms apart");
    }

    [Fact]
    public async Task Every_answer_carries_the_budget_headers_and_a_used_budget_answers_429_until_its_reset()
    {
        _civo.RateLimit = 2;
        _civo.RateWindow = TimeSpan.FromSeconds(30);
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new("Bearer", "good-key");

        var answers = new List<HttpResponseMessage>();
        for (var i = 0; i < 3; i++) answers.Add(await http.GetAsync($"{_civo.BaseUrl}/regions"));

        Assert.Equal([200, 200, 429], answers.Select(a => (int)a.StatusCode));
        Assert.All(answers, a => Assert.Equal("2", a.Headers.GetValues("X-RateLimit-Limit").Single()));
        Assert.Equal(["1", "0", "0"], answers.Select(a => a.Headers.GetValues("X-RateLimit-Remaining").Single()));
        var reset = DateTimeOffset.FromUnixTimeSeconds(long.Parse(answers[2].Headers.GetValues("X-RateLimit-Reset").Single()));
        Assert.InRange(reset - DateTimeOffset.UtcNow, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(31));
        Assert.False(answers[2].Headers.Contains("Retry-After"));
    }

    [Fact]
    public async Task Under_a_small_budget_a_create_never_spends_a_request_before_the_reset()
    {
        // Civo's semantics, a shorter window: 6 requests per 2 s.
        _civo.RateLimit = 6;
        _civo.RateWindow = TimeSpan.FromSeconds(2);
        using var manager = NewManager();

        var state = await manager.CreateAsync(Spec(), OperationOptions.Default, CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        // Remaining 0 holds every request until X-RateLimit-Reset: the budget is crossed many times, never overdrawn.
        Assert.True(_civo.Requests.Count > _civo.RateLimit);
        Assert.DoesNotContain(_civo.Requests, r => r.Status == 429);
    }

    [Fact]
    public async Task A_429_from_a_budget_another_client_used_up_is_waited_out_until_the_reset()
    {
        _civo.RateLimit = 6;
        _civo.RateWindow = TimeSpan.FromSeconds(3);
        using (var other = new HttpClient())
        {
            other.DefaultRequestHeaders.Authorization = new("Bearer", "good-key");
            for (var i = 0; i < 6; i++) (await other.GetAsync($"{_civo.BaseUrl}/regions")).EnsureSuccessStatusCode();
        }
        var before = _civo.Requests.Count;
        using var manager = NewManager();

        var state = await manager.CreateAsync(Spec(), OperationOptions.Default, CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        var requests = _civo.Requests.Skip(before).ToList();
        Assert.Equal(429, requests[0].Status);
        // After each 429 the next request waits for the window's reset (this plan's requests are sequential).
        foreach (var (r, i) in requests.Select((r, i) => (r, i)).Where(x => x.r.Status == 429))
            Assert.True(requests[i + 1].At >= r.ResetAt!.Value, $"request {i + 1} came {(r.ResetAt!.Value - requests[i + 1].At).TotalMilliseconds} ms before the reset");
    }

    [Fact]
    public async Task Without_a_version_Civo_installs_its_default_and_a_version_it_does_not_offer_keeps_Civos_details()
    {
        using var manager = NewManager();

        var state = await manager.CreateAsync(Spec(), OperationOptions.Default, CancellationToken.None);
        Assert.Equal(CivoEmulator.KubernetesVersions.Single(v => v.Default).Version, state.KubernetesVersion);
        Assert.Null(state.Spec.KubernetesVersion);

        var e = await Assert.ThrowsAsync<PlanFailedException>(() => manager.CreateAsync(Spec("old") with { KubernetesVersion = "1.27.1-k3s1" }, OperationOptions.Default, CancellationToken.None));
        Assert.Contains("database_kubernetes_cluster_invalid_version", e.Message);
        Assert.Contains("available: 1.29.8-k3s1, 1.30.5-k3s1", e.Message); // Civo's details, kept
    }

    [Fact]
    public async Task Minus_Name_removes_a_default_application()
    {
        using var manager = NewManager();

        await manager.CreateAsync(Spec() with { Applications = ["-Traefik-v2-nodeport", "cert-manager"] }, OperationOptions.Default, CancellationToken.None);

        Assert.Equal(["metrics-server", "cert-manager"], Assert.Single(_civo.Inventory).Applications);
    }

    [Fact]
    public async Task The_same_cluster_name_in_two_regions_gets_a_firewall_each()
    {
        using var manager = NewManager();

        await manager.CreateAsync(Spec(region: "LON1"), OperationOptions.Default, CancellationToken.None);
        await manager.CreateAsync(Spec(region: "NYC1"), OperationOptions.Default, CancellationToken.None);

        Assert.Equal(["demo-lon1-kube-fw", "demo-nyc1-kube-fw"], _civo.Firewalls.Select(f => f.Name));
        Assert.Equal(2, _civo.Inventory.Count);
        await manager.DeleteAsync(Id(region: "NYC1"), OperationOptions.Default, CancellationToken.None);
        Assert.Equal(["cluster demo", "firewall demo-lon1-kube-fw"], _civo.Everything);
    }

    [Fact]
    public async Task The_emulator_keeps_firewall_and_key_names_unique_per_account()
    {
        var first = await PostAsync("firewalls", new JsonObject { ["name"] = "fw", ["region"] = "LON1", ["network_id"] = CivoEmulator.DefaultNetworkId("LON1") });
        var second = await PostAsync("firewalls", new JsonObject { ["name"] = "fw", ["region"] = "NYC1", ["network_id"] = CivoEmulator.DefaultNetworkId("NYC1") });

        Assert.Equal(200, (int)first.StatusCode);
        Assert.Equal(409, (int)second.StatusCode);
        Assert.Equal("database_firewall_duplicate_name", (await second.Content.ReadFromJsonAsync<JsonObject>())!["code"]!.GetValue<string>());
    }
}
