using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Providers.Civo;
using Xunit;

namespace Ksctl.Civo.Tests;

/// <summary>
/// Nothing read back drives a request or a deletion unchecked (issue #12, Civo parts): the endpoint, recorded ids,
/// addresses Civo reports, and ownership before a delete.
/// </summary>
[Collection(CivoEnvironmentCollection.Name)]
public sealed class CivoSafetyTests : IAsyncLifetime
{
    private readonly string _home = Directory.CreateTempSubdirectory("ksctl-civo-safe-").FullName;
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
    private static ClusterId Managed(string name = "demo") => new(CloudProvider.Civo, ClusterType.Managed, name, "LON1");
    private static ClusterId Ha(string name, string region = "LON1") => new(CloudProvider.Civo, ClusterType.SelfManaged, name, region);

    private async Task TamperAsync(ClusterManager manager, ClusterId id, Action<ClusterState> change)
    {
        var state = (await manager.Store.ReadAsync(id, CancellationToken.None))!;
        change(state);
        await manager.Store.WriteAsync(state, CancellationToken.None);
    }

    [Theory]
    [InlineData("http://api.civo.example/v2")]
    [InlineData("http://localhost.evil.example/v2")]
    [InlineData("https://user:secret@api.civo.example/v2")]
    [InlineData("ftp://api.civo.example/v2")]
    public async Task CIVO_API_URL_must_be_https_except_on_loopback(string url)
    {
        _env.Set("CIVO_API_URL", url);
        using var manager = NewManager();

        var e = await Assert.ThrowsAsync<KsctlException>(() => manager.CreateAsync(new ClusterSpec { Id = Managed() }, OperationOptions.Default, CancellationToken.None));

        Assert.Equal("KsctlInvalidConfiguration", e.ErrorId);
        Assert.Contains("CIVO_API_URL", e.Message);
        Assert.Empty(_civo.Requests);
    }

    [Theory]
    [InlineData("https://api.civo.com/v2")]
    [InlineData("http://127.0.0.1:8080/v2")]
    [InlineData("http://[::1]:8080/v2")]
    [InlineData("http://localhost:8080/v2")]
    public void Https_and_loopback_endpoints_are_accepted(string url) => Assert.Equal(url + "/", CivoEndpoint.BaseUrl(url));

    [Fact]
    public async Task A_hostile_node_address_from_Civo_is_refused_and_never_recorded()
    {
        _civo.NodePublicIpOverride = "1.2.3.4; rm -rf /";
        using var manager = NewManager();

        var e = await Assert.ThrowsAsync<PlanFailedException>(() => manager.CreateAsync(new ClusterSpec { Id = Managed() }, OperationOptions.Default, CancellationToken.None));

        Assert.Contains("is not an IP address", e.Message);
        var state = await manager.GetAsync(Managed(), CancellationToken.None);
        Assert.Equal(ClusterStatus.CreationFailed, state.Status);
        Assert.Empty(state.Nodes);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(_home, "state"), "*", SearchOption.AllDirectories))
            Assert.DoesNotContain("rm -rf", await File.ReadAllTextAsync(file));
    }

    [Fact]
    public async Task A_tampered_state_pointing_at_a_foreign_cluster_and_firewall_deletes_nothing_foreign()
    {
        using var manager = NewManager();
        await manager.CreateAsync(new ClusterSpec { Id = Managed() }, OperationOptions.Default, CancellationToken.None);
        var foreign = _civo.AddForeignCluster("payroll");
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new("Bearer", "good-key");
        var fw = (await (await http.PostAsJsonAsync($"{_civo.BaseUrl}/firewalls", new JsonObject
            { ["name"] = "payroll-fw", ["region"] = "LON1", ["network_id"] = CivoEmulator.DefaultNetworkId("LON1") })).Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        await TamperAsync(manager, Managed(), s => { s.Resources["civo:cluster"] = foreign.Id; s.Resources["civo:firewall"] = fw; });

        await manager.DeleteAsync(Managed(), OperationOptions.Default, CancellationToken.None);

        Assert.Equal(["cluster payroll", "firewall payroll-fw"], _civo.Everything);
        Assert.DoesNotContain(_civo.Requests, r => r.Method == "DELETE" && (r.Path.Contains(foreign.Id, StringComparison.Ordinal) || r.Path.Contains(fw, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_recorded_id_that_is_not_a_Civo_id_is_refused_before_any_request_carries_it()
    {
        using var manager = NewManager();
        await manager.CreateAsync(new ClusterSpec { Id = Managed() }, OperationOptions.Default, CancellationToken.None);
        await TamperAsync(manager, Managed(), s => s.Resources["civo:cluster"] = "../instances/x?region=LON1#");
        var sent = _civo.Requests.Count;

        var e = await Assert.ThrowsAsync<PlanFailedException>(() => manager.DeleteAsync(Managed(), OperationOptions.Default, CancellationToken.None));

        Assert.Equal("KsctlStateInvalid", Assert.IsAssignableFrom<KsctlException>(e.InnerException).ErrorId);
        Assert.DoesNotContain(_civo.Requests.Skip(sent), r => r.Path.Contains("instances", StringComparison.Ordinal) || r.Method == "DELETE");
        Assert.Single(_civo.Inventory);
    }

    [Fact]
    public async Task A_tampered_HA_state_pointing_at_someone_elses_instance_firewall_and_network_deletes_only_its_own()
    {
        _civo.InstanceErrorAlways = (403, "database_quota_instances_exceeded", "The quota for instances has been reached");
        using var manager = NewManager();
        await Assert.ThrowsAsync<PlanFailedException>(() => manager.CreateAsync(new ClusterSpec { Id = Ha("prod"), WorkerCount = 0 }, OperationOptions.Default, CancellationToken.None));
        var victim = _civo.AddForeignInstance("payroll-vm");
        await TamperAsync(manager, Ha("prod"), s =>
        {
            s.Resources["civo:vm:lb"] = victim.Id;
            s.Resources["civo:firewall:lb"] = victim.FirewallId;
            s.Resources["civo:network"] = victim.NetworkId;
        });
        var ours = _civo.Firewalls.Single(f => f.Name == "prod-lon1-fw-cp").Id;

        var plan = await manager.PlanDeleteAsync(Ha("prod"), CancellationToken.None);
        Assert.Contains($"civo firewall prod-lon1-fw-cp ({ours})", plan["civo:delete:firewall-cp"].Resources);
        Assert.Contains($"civo instance prod-vm-lb ({victim.Id})", plan["civo:delete:vm-lb"].Resources); // what -Confirm shows
        await manager.DeleteAsync(Ha("prod"), OperationOptions.Default, CancellationToken.None);

        Assert.Equal(["network someone-elses-net", "firewall someone-elses-fw", "instance payroll-vm ACTIVE"], _civo.Everything);
    }

    [Fact]
    public async Task The_same_HA_cluster_name_in_two_regions_collides_with_nothing()
    {
        _civo.InstanceErrorAlways = (403, "database_quota_instances_exceeded", "The quota for instances has been reached");
        using var manager = NewManager();

        foreach (var region in new[] { "LON1", "NYC1" })
        {
            var e = await Assert.ThrowsAsync<PlanFailedException>(() => manager.CreateAsync(new ClusterSpec { Id = Ha("twin", region), WorkerCount = 0 }, OperationOptions.Default, CancellationToken.None));
            Assert.All(e.Errors, error => Assert.Contains("database_quota_instances_exceeded", error));
        }

        Assert.Equal(8, _civo.Firewalls.Select(f => f.Name).Distinct().Count());
        Assert.Equal(["twin-lon1-ssh", "twin-nyc1-ssh"], _civo.SshKeys.Select(k => k.Name));
        Assert.Equal(["twin-lon1-net", "twin-nyc1-net"], _civo.Networks.Select(n => n.Label));
        Assert.All(_civo.NetworkCidrsAsked, Assert.Null);
        Assert.Equal("ubuntu-noble", (await manager.GetAsync(Ha("twin"), CancellationToken.None)).Resources["civo:image-name"]);
        await manager.DeleteAsync(Ha("twin", "LON1"), OperationOptions.Default, CancellationToken.None);
        await manager.DeleteAsync(Ha("twin", "NYC1"), OperationOptions.Default, CancellationToken.None);
        Assert.Empty(_civo.Everything);
    }

    [Fact]
    public async Task An_instance_Civo_reports_as_ERROR_fails_the_create_naming_it()
    {
        foreach (var key in new[] { "lb", "db-0", "db-1", "db-2", "cp-0", "cp-1", "cp-2" }) _civo.FailBoot.Add($"broken-vm-{key}");
        using var manager = NewManager();

        var e = await Assert.ThrowsAsync<PlanFailedException>(() => manager.CreateAsync(new ClusterSpec { Id = Ha("broken"), WorkerCount = 0 }, OperationOptions.Default, CancellationToken.None));

        Assert.Equal("KsctlCreationFailed", e.ErrorId);
        Assert.Contains(e.Errors, m => m.Contains("Civo reports instance broken-vm-lb (", StringComparison.Ordinal) && m.Contains("as ERROR", StringComparison.Ordinal));
        Assert.Equal(7, e.Errors.Count);
        Assert.Equal(ClusterStatus.CreationFailed, (await manager.GetAsync(Ha("broken"), CancellationToken.None)).Status);
        await manager.DeleteAsync(Ha("broken"), OperationOptions.Default, CancellationToken.None);
        Assert.Empty(_civo.Everything);
    }

    [Fact]
    public async Task An_instance_that_never_becomes_ACTIVE_is_KsctlOperationTimeout_at_the_deadline()
    {
        _civo.HoldInstances = true;
        using var manager = NewManager();
        // The deadline is an option (no waiting on the wall clock): a zero deadline polls once and gives up.
        using (CivoTimings.Use(CivoTimings.Current with { InstanceActive = TimeSpan.Zero }))
        {
            var e = await Assert.ThrowsAsync<PlanFailedException>(() => manager.CreateAsync(new ClusterSpec { Id = Ha("stuck"), WorkerCount = 0 }, OperationOptions.Default, CancellationToken.None));

            Assert.Equal("KsctlOperationTimeout", Assert.IsAssignableFrom<KsctlException>(e.InnerException).ErrorId);
            Assert.Contains(e.Errors, m => m.Contains("Civo instance stuck-vm-lb (", StringComparison.Ordinal) && m.Contains("was still BUILDING", StringComparison.Ordinal));
        }
        // Instances are watched through the region's list, never one GET each.
        Assert.Equal(0, _civo.Count("GET", "/v2/instances/"));
    }
}
