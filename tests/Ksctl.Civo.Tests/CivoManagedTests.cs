using System.Collections.Concurrent;
using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Kube;
using Ksctl.Core.Model;
using Xunit;

namespace Ksctl.Civo.Tests;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CivoEnvironmentCollection
{
    public const string Name = "Civo environment";
}

/// <summary>
/// Managed Civo clusters end to end through the ClusterManager against the in-process Civo API emulator.
/// CIVO_API_URL, CIVO_TOKEN and KSCTL_HOME are process-wide, hence the non-parallel collection.
/// </summary>
[Collection(CivoEnvironmentCollection.Name)]
public sealed class CivoManagedTests : IAsyncLifetime
{
    private readonly string _home = Directory.CreateTempSubdirectory("ksctl-civo-").FullName;
    private readonly Events _events = new();
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

    private void SetEnv(string name, string? value) => _env.Set(name, value);

    private sealed class Events : IProgress<KsctlEvent>
    {
        public ConcurrentQueue<KsctlEvent> All { get; } = new();
        public void Report(KsctlEvent value) => All.Enqueue(value);
    }

    private ClusterManager NewManager() => new(KsctlSettings.Load(_home), _events);

    private static ClusterId Id(string name = "demo", string region = "LON1") => new(CloudProvider.Civo, ClusterType.Managed, name, region);

    private static ClusterSpec Spec(string name = "demo", string region = "LON1") => new() { Id = Id(name, region) };

    private static OperationOptions Options => OperationOptions.Default;

    [Fact]
    public async Task Create_get_switch_delete_leaves_nothing_in_Civo()
    {
        using var manager = NewManager();

        var state = await manager.CreateAsync(Spec() with { NodeCount = 2, Cni = "cilium", Applications = ["cert-manager"] }, Options, CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Equal("K3s", state.Distribution);
        Assert.Equal("1.31.2-k3s1", state.KubernetesVersion); // Civo's default: Ksctl sent none
        const string context = "demo-LON1-managed-civo-ksctl";
        Assert.Equal(context, state.ContextName);
        var cluster = Assert.Single(_civo.Inventory);
        Assert.Equal(cluster.Id, state.Resources["civo:cluster"]);
        Assert.Equal($"https://{cluster.MasterIp}:6443", state.Endpoint);
        Assert.Equal(("g4s.kube.small", 2, "cilium"), (cluster.Size, cluster.Nodes, cluster.Cni));
        Assert.Equal(["Traefik-v2-nodeport", "metrics-server", "cert-manager"], cluster.Applications);
        Assert.Contains("ksctl", cluster.Tags);
        Assert.Contains("ksctl-cluster-demo", cluster.Tags);
        Assert.Equal(2, state.Nodes.Count);
        Assert.All(state.Nodes, n => Assert.StartsWith("k3s-demo-", n.Name));
        var kubeconfig = KubeconfigFile.Parse(state.Secrets[ClusterState.KubeconfigSecret], "state");
        Assert.Equal(context, kubeconfig.CurrentContext);
        Assert.Equal(context, Assert.Single(kubeconfig.Contexts).Name);
        Assert.Equal(state.Endpoint, Assert.Single(kubeconfig.Clusters).ClusterEndpoint.Server);

        var read = await manager.GetAsync(Id(), CancellationToken.None);
        Assert.Equal(ClusterStatus.Running, read.Status);
        Assert.Equal(cluster.Id, read.Resources["civo:cluster"]);

        var path = Path.Combine(_home, "kube", "config");
        var switched = await manager.SwitchContextAsync(Id(), path, CancellationToken.None);
        Assert.Equal(context, switched.ContextName);
        Assert.Equal(context, KubeconfigFile.Parse(await File.ReadAllTextAsync(path), path).CurrentContext);

        await manager.DeleteAsync(Id(), Options, CancellationToken.None);

        Assert.Empty(_civo.Everything);
        Assert.Equal(1, _civo.Count("DELETE", "/v2/kubernetes/clusters/"));
        await Assert.ThrowsAsync<ClusterNotFoundException>(() => manager.GetAsync(Id(), CancellationToken.None));
        Assert.DoesNotContain(_civo.Requests, r => r.Path.Contains("good-key", StringComparison.Ordinal));
        Assert.DoesNotContain(_events.All, e => e.Message.Contains("good-key", StringComparison.Ordinal));
        foreach (var log in Directory.EnumerateFiles(Path.Combine(_home, "logs"), "*", SearchOption.AllDirectories))
            Assert.DoesNotContain("good-key", await File.ReadAllTextAsync(log));
        Assert.Contains(_events.All, e => e.Step == "civo:wait-active");
    }

    [Fact]
    public async Task A_bad_key_fails_before_anything_is_created()
    {
        SetEnv("CIVO_TOKEN", "wrong-key");
        using var manager = NewManager();

        var e = await Assert.ThrowsAnyAsync<KsctlException>(() => manager.CreateAsync(Spec(), Options, CancellationToken.None));

        Assert.Equal("KsctlAuthenticationFailed", e.ErrorId);
        Assert.Equal(KsctlErrorCategory.AuthenticationError, e.Category);
        Assert.Contains("Authentication failed: the API key is invalid", e.Message);
        Assert.DoesNotContain("wrong-key", e.Message);
        Assert.Empty(_civo.Inventory);
        Assert.Equal(0, _civo.Count("POST", "/v2/"));
        // The key is checked with an account-scoped call, the only one sent.
        Assert.Equal("/v2/quota", Assert.Single(_civo.Requests).Path);
        await Assert.ThrowsAsync<ClusterNotFoundException>(() => manager.GetAsync(Id(), CancellationToken.None));
    }

    [Fact]
    public async Task A_stored_credential_wins_over_CIVO_TOKEN()
    {
        SetEnv("CIVO_TOKEN", "wrong-key");
        using var manager = NewManager();
        await manager.Credentials.SetAsync(new Ksctl.Core.Storage.Credentials.StoredCredential
        {
            Provider = CloudProvider.Civo, UserName = "civo", Secret = "good-key",
        }, CancellationToken.None);

        var state = await manager.CreateAsync(Spec(), Options, CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        await manager.DeleteAsync(state.Id, Options, CancellationToken.None);
    }

    [Fact]
    public async Task A_missing_key_names_CIVO_TOKEN_and_sends_nothing()
    {
        SetEnv("CIVO_TOKEN", null);
        using var manager = NewManager();

        var e = await Assert.ThrowsAnyAsync<KsctlException>(() => manager.CreateAsync(Spec(), Options, CancellationToken.None));

        Assert.Equal("KsctlAuthenticationFailed", e.ErrorId);
        Assert.Contains("CIVO_TOKEN", e.Message);
        Assert.Empty(_civo.Requests);
    }

    [Fact]
    public async Task Create_survives_a_fifth_of_requests_failing_with_429_and_500_without_duplicates()
    {
        _civo.FailFraction(0.2);
        _civo.RetryAfterSeconds = 0;
        using var manager = NewManager();

        var state = await manager.CreateAsync(Spec(), Options, CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Single(_civo.Inventory);
        Assert.Contains(_civo.Requests, r => r.Status == 429);
        Assert.Contains(_civo.Requests, r => r.Status == 500 && r.Method == "POST");
        Assert.Equal(1, _civo.Requests.Count(r => r is { Method: "POST", Path: "/v2/kubernetes/clusters", Status: 200 }));
        Assert.Equal(["cluster demo", "firewall demo-lon1-kube-fw"], _civo.Everything);
        var rules = Assert.Single(_civo.Firewalls).Rules.Select(r => r["label"]!.GetValue<string>()).ToList();
        Assert.Equal(rules.Count, rules.Distinct().Count());
    }

    [Fact]
    public async Task A_429_is_retried_after_the_time_Civo_asks()
    {
        _civo.FailNext(1, 429);
        _civo.RetryAfterSeconds = 1;
        using var manager = NewManager();

        await manager.CreateAsync(Spec(), Options, CancellationToken.None);

        var (first, second) = (_civo.Requests.First(), _civo.Requests.Skip(1).First());
        Assert.Equal((429, 200), (first.Status, second.Status));
        Assert.Equal(first.Path, second.Path);
        // Wall-clock stamps against the client's timer: allow their granularity (a retry that ignored Retry-After comes in milliseconds).
        Assert.True(second.At - first.At >= TimeSpan.FromMilliseconds(950), $"retried after {(second.At - first.At).TotalMilliseconds} ms");
        Assert.Single(_civo.Inventory);
    }

    [Fact]
    public async Task A_create_whose_response_was_lost_adopts_the_cluster_instead_of_making_another()
    {
        _civo.NextCreateAppliesThenFails = true;
        using var manager = NewManager();

        var state = await manager.CreateAsync(Spec(), Options, CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        var cluster = Assert.Single(_civo.Inventory);
        Assert.Equal(cluster.Id, state.Resources["civo:cluster"]);
        Assert.Equal(1, _civo.Count("POST", "/v2/kubernetes/clusters"));
    }

    [Fact]
    public async Task Cancel_while_waiting_for_active_then_rerun_completes_with_one_cluster()
    {
        _civo.HoldBuilding = true;
        using var manager = NewManager();
        using var cts = new CancellationTokenSource();

        // Cancelled from the emulator once Ksctl has polled the BUILDING cluster twice: no timer decides.
        _civo.OnAnswered = r => { if (r.Method == "GET" && r.Path.StartsWith("/v2/kubernetes/clusters/", StringComparison.Ordinal) && _civo.Count("GET", "/v2/kubernetes/clusters/") >= 2) cts.Cancel(); };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => manager.CreateAsync(Spec(), Options, cts.Token));
        _civo.OnAnswered = null;
        Assert.Equal(2, _civo.Count("GET", "/v2/kubernetes/clusters/"));

        var interrupted = await manager.GetAsync(Id(), CancellationToken.None);
        Assert.Equal(ClusterStatus.CreationFailed, interrupted.Status);
        Assert.True(interrupted.Resources.ContainsKey("civo:cluster"));

        _civo.HoldBuilding = false;
        var state = await manager.CreateAsync(Spec(), Options, CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Single(_civo.Inventory);
        Assert.Equal(1, _civo.Count("POST", "/v2/kubernetes/clusters"));
    }

    [Fact]
    public async Task Civo_errors_surface_verbatim_and_leave_the_cluster_CreationFailed()
    {
        const string reason = "The quota for cpu_core would be exceeded: 4 requested, 2 available";
        _civo.NextCreateError = (403, "quota_limit_reached", reason, null);
        using var manager = NewManager();

        var e = await Assert.ThrowsAnyAsync<KsctlException>(() => manager.CreateAsync(Spec(), Options, CancellationToken.None));

        Assert.Contains(reason, e.Message);
        var inner = Assert.IsAssignableFrom<KsctlException>(e.InnerException);
        Assert.Equal("KsctlCloudApiError", inner.ErrorId);
        Assert.Contains("quota_limit_reached", inner.Message);
        var state = await manager.GetAsync(Id(), CancellationToken.None);
        Assert.Equal(ClusterStatus.CreationFailed, state.Status);
        Assert.Contains(state.LastErrors, l => l.Contains(reason, StringComparison.Ordinal));
        Assert.Empty(_civo.Inventory);

        // Re-running after the quota is raised completes.
        var done = await manager.CreateAsync(Spec(), Options, CancellationToken.None);
        Assert.Equal(ClusterStatus.Running, done.Status);
        Assert.Single(_civo.Inventory);
    }

    [Theory]
    [InlineData("Region", "XYZ9", null, null, null)]
    [InlineData("NodeSize", "LON1", "g3.huge", null, null)]
    [InlineData("Cni", "LON1", null, "calico", null)]
    [InlineData("KubernetesVersion", "LON1", null, null, "1.30")]
    public async Task Invalid_specs_fail_before_any_request(string parameter, string region, string? size, string? cni, string? version)
    {
        using var manager = NewManager();

        var e = await Assert.ThrowsAsync<InvalidSpecException>(() =>
            manager.CreateAsync(Spec(region: region) with { NodeSize = size, Cni = cni, KubernetesVersion = version }, Options, CancellationToken.None));

        Assert.Equal(parameter, e.Parameter);
        Assert.Empty(_civo.Requests);
    }

    [Fact]
    public async Task Defaults_are_LON1_one_small_node_flannel_and_Civos_default_version()
    {
        using var manager = NewManager();

        var spec = manager.Prepare(new ClusterSpec { Id = Id(region: "lon1") });

        Assert.Equal("LON1", spec.Id.Region);
        Assert.Equal(("g4s.kube.small", 1, "flannel", (string?)null), (spec.NodeSize, spec.NodeCount, spec.Cni, spec.KubernetesVersion));
        Assert.Empty(_civo.Requests);
    }

    [Fact]
    public async Task Delete_of_a_cluster_already_gone_from_Civo_succeeds()
    {
        using var manager = NewManager();
        await manager.CreateAsync(Spec(), Options, CancellationToken.None);
        var id = Assert.Single(_civo.Inventory).Id;
        using (var http = new HttpClient())
        {
            http.DefaultRequestHeaders.Authorization = new("Bearer", "good-key");
            (await http.DeleteAsync($"{_civo.BaseUrl}/kubernetes/clusters/{id}?region=LON1")).EnsureSuccessStatusCode();
        }

        await manager.DeleteAsync(Id(), Options, CancellationToken.None);

        Assert.Empty(_civo.Inventory);
        await Assert.ThrowsAsync<ClusterNotFoundException>(() => manager.GetAsync(Id(), CancellationToken.None));
    }

    [Fact]
    public async Task A_same_named_cluster_not_made_by_Ksctl_is_neither_adopted_nor_deleted()
    {
        _civo.AddForeignCluster("demo");
        using var manager = NewManager();

        var e = await Assert.ThrowsAnyAsync<KsctlException>(() => manager.CreateAsync(Spec(), Options, CancellationToken.None));

        Assert.Contains("not created by Ksctl", e.Message);
        await manager.DeleteAsync(Id(), Options, CancellationToken.None);
        Assert.Single(_civo.Inventory);
        Assert.Equal(0, _civo.Count("DELETE", "/v2/kubernetes/"));
        Assert.Equal(["cluster demo"], _civo.Everything); // Ksctl's own firewall went
    }

    [Fact]
    public async Task Cancel_during_a_slow_create_request_then_rerun_finds_the_cluster_by_name_on_a_later_page()
    {
        // Two other clusters sort first, so "demo" is on page 2 of the emulator's 2-per-page listing.
        _civo.AddForeignCluster("a1");
        _civo.AddForeignCluster("a2");
        _civo.Latency = TimeSpan.FromMilliseconds(700);
        using var manager = NewManager();
        using var cts = new CancellationTokenSource();

        // The client gives up as the POST arrives; the server, having received it, still creates the cluster: the answer is lost.
        var answered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _civo.OnRequest = ctx => { if (ctx.Request.Method == "POST" && ctx.Request.Path == "/v2/kubernetes/clusters") cts.Cancel(); };
        _civo.OnAnswered = r => { if (r is { Method: "POST", Path: "/v2/kubernetes/clusters" }) answered.TrySetResult(); };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => manager.CreateAsync(Spec(), Options, cts.Token));
        await answered.Task.WaitAsync(TimeSpan.FromMinutes(1));
        _civo.OnRequest = null;
        Assert.Equal(3, _civo.Inventory.Count);
        var interrupted = await manager.GetAsync(Id(), CancellationToken.None);
        Assert.False(interrupted.Resources.ContainsKey("civo:cluster"));
        _civo.Latency = TimeSpan.Zero;

        var state = await manager.CreateAsync(Spec(), Options, CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Equal(3, _civo.Inventory.Count);
        Assert.Single(_civo.Inventory, c => c.Name == "demo");
        Assert.Equal(state.Resources["civo:cluster"], _civo.Inventory.Single(c => c.Name == "demo").Id);
        Assert.Contains(_civo.Requests, r => r.Path.Contains("page=2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Latency_slows_but_does_not_break_create_and_delete()
    {
        _civo.Latency = TimeSpan.FromMilliseconds(100);
        using var manager = NewManager();

        await manager.CreateAsync(Spec(), Options, CancellationToken.None);
        await manager.DeleteAsync(Id(), Options, CancellationToken.None);

        Assert.Empty(_civo.Inventory);
    }

    [Fact]
    public async Task Retries_give_up_with_Civos_message_when_the_API_keeps_failing()
    {
        using var manager = NewManager();
        await manager.CreateAsync(Spec(), Options, CancellationToken.None);
        _civo.RetryAfterSeconds = 0; // 503 with Retry-After: 0, so the 8 attempts take no time
        _civo.FailNext(100, 503);

        var e = await Assert.ThrowsAnyAsync<KsctlException>(() => manager.DeleteAsync(Id(), Options, CancellationToken.None));

        Assert.Contains("An unexpected error occurred", e.Message);
        Assert.Equal(ClusterStatus.DeletionFailed, (await manager.GetAsync(Id(), CancellationToken.None)).Status);
        _civo.FailNext(0, 503);
        await manager.DeleteAsync(Id(), Options, CancellationToken.None);
        Assert.Empty(_civo.Inventory);
    }

    [Fact]
    public async Task The_WhatIf_plan_needs_no_key_and_sends_nothing()
    {
        SetEnv("CIVO_TOKEN", null);
        using var manager = NewManager();

        var (plan, existing) = await manager.PlanCreateAsync(Spec() with { NodeCount = 3 }, CancellationToken.None);

        Assert.Null(existing);
        Assert.Equal(["civo:network", "civo:firewall", "civo:cluster", "civo:wait-active", "kubeconfig"], plan.Steps.Select(s => s.Name));
        var text = plan.Render();
        Assert.Contains("3 × g4s.kube.small", text);
        Assert.Contains("demo-LON1-managed-civo-ksctl", text);
        Assert.Empty(_civo.Requests);
    }
}
