using System.Text.Json.Nodes;
using Ksctl.Core.Addons;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;

namespace Ksctl.Addons.Tests;

/// <summary>
/// Add-/Remove-KsctlAddon against <see cref="FakeKubeApi"/>: the recorded exchange is server-side apply as the
/// Kubernetes API conventions define it, the state records what was applied, and Remove deletes exactly that.
/// </summary>
public sealed class AddonApplyTests
{
    [Fact]
    public async Task Metrics_server_is_applied_with_server_side_apply_and_recorded_in_the_state()
    {
        await using var cluster = await AddonTestCluster.StartAsync();
        var state = await cluster.Manager.AddAddonAsync(cluster.Id, ["metrics-server"], new(), CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        var record = Assert.Single(state.Addons);
        Assert.Equal(("metrics-server", "v0.9.0"), (record.Name, record.Version));
        Assert.Equal(AddonCatalog.Find("metrics-server").Manifest.Sha256, record.Sha256);
        Assert.Equal(9, record.Objects.Count);
        Assert.Contains(new AddonObjectRef("apiregistration.k8s.io/v1", "APIService", null, "v1beta1.metrics.k8s.io"), record.Objects);

        var patches = cluster.Api.Log.Where(e => e.Method == "PATCH").ToList();
        // Every object once as a dry run, then once for real (kube-system exists on every cluster: no namespace in this manifest).
        Assert.Equal(18, patches.Count);
        Assert.All(patches, p =>
        {
            Assert.StartsWith("application/apply-patch+yaml", p.ContentType);
            Assert.Equal("ksctl", p.Query["fieldManager"]);
            Assert.Equal("true", p.Query["force"]);
            Assert.InRange(p.Status, 200, 201);
        });
        Assert.All(patches.Take(9), p => Assert.Equal("All", p.Query["dryRun"]));
        Assert.All(patches.Skip(9), p => Assert.False(p.Query.ContainsKey("dryRun")));
        var paths = patches.Skip(9).Select(p => p.Path).ToList();
        Assert.Contains("/api/v1/namespaces/kube-system/serviceaccounts/metrics-server", paths);
        Assert.Contains("/apis/rbac.authorization.k8s.io/v1/clusterroles/system:aggregated-metrics-reader", paths);
        Assert.Contains("/apis/apps/v1/namespaces/kube-system/deployments/metrics-server", paths);
        Assert.Contains("/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.metrics.k8s.io", paths);

        // What the server holds is the pinned manifest's objects, typed as in the YAML (numbers stay numbers).
        var deployment = cluster.Api.Objects["apps/deployments/kube-system/metrics-server"].Object;
        Assert.Equal("registry.k8s.io/metrics-server/metrics-server:v0.9.0", (string?)deployment["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]);
        Assert.Equal(10250, (int)deployment["spec"]!["template"]!["spec"]!["containers"]![0]!["ports"]![0]!["containerPort"]!);
        Assert.Equal(9, cluster.Api.Applied.Count);
        Assert.Equal(record.Objects.Count, (await cluster.StateAsync()).Addons.Single().Objects.Count);
    }

    [Fact]
    public async Task InstalledAt_is_the_managers_clock_not_the_wall_clock()
    {
        var then = new DateTimeOffset(2031, 5, 4, 3, 2, 1, TimeSpan.Zero);
        await using var cluster = await AddonTestCluster.StartAsync(time: new FixedClock(then));
        var state = await cluster.Manager.AddAddonAsync(cluster.Id, ["metrics-server"], new(), CancellationToken.None);
        Assert.Equal(then, Assert.Single(state.Addons).InstalledAt);
        Assert.Equal(then, Assert.Single((await cluster.StateAsync()).Addons).InstalledAt);
    }

    [Fact]
    public async Task An_add_on_change_killed_mid_way_is_reported_as_that_change_with_the_cmdlet_that_finishes_it()
    {
        // The state document as the store held it while the step ran: what a process killed at that moment leaves.
        byte[]? midway = null;
        string? document = null;
        var events = new Progress(e =>
        {
            if (e is { Kind: KsctlEventKind.StepStarted, Step: "addon:metrics-server" } && document is not null) midway = File.ReadAllBytes(document);
        });
        await using var cluster = await AddonTestCluster.StartAsync(events: events);
        document = ((Ksctl.Core.Storage.FileStateStore)cluster.Manager.Store).DocumentPath(cluster.Id);
        var state = await cluster.Manager.AddAddonAsync(cluster.Id, ["metrics-server"], new(), CancellationToken.None);
        Assert.False(state.Resources.ContainsKey(Ksctl.Core.Clusters.ClusterManager.Day2RunningResource));
        Assert.NotNull(midway);
        File.WriteAllBytes(document, midway!);

        var listed = Assert.Single((await cluster.Manager.ListSummariesAsync(Ksctl.Core.Storage.ClusterQuery.All, CancellationToken.None)).Clusters);
        Assert.Equal(ClusterStatus.ConfiguringFailed, listed.Status);
        var hint = Assert.Single(listed.LastErrors);
        Assert.Contains("The add-on change was interrupted", hint);
        Assert.Contains("run Add-KsctlAddon again", hint);
        Assert.DoesNotContain("Resize", hint);
    }

    private sealed class Progress(Action<KsctlEvent> report) : IProgress<KsctlEvent>
    {
        public void Report(KsctlEvent value) => report(value);
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    [Fact]
    public async Task Ingress_nginx_creates_its_namespace_before_the_dry_run_and_Remove_deletes_what_was_applied()
    {
        await using var cluster = await AddonTestCluster.StartAsync();
        var state = await cluster.Manager.AddAddonAsync(cluster.Id, ["ingress-nginx"], new(), CancellationToken.None);
        var record = Assert.Single(state.Addons);
        Assert.Equal(record.Objects.Count, cluster.Api.Applied.Count);
        var first = cluster.Api.Log.First(e => e.Method == "PATCH");
        Assert.Equal("/api/v1/namespaces/ingress-nginx", first.Path);
        Assert.False(first.Query.ContainsKey("dryRun"));

        var before = cluster.Api.Log.Count;
        state = await cluster.Manager.RemoveAddonAsync(cluster.Id, ["ingress-nginx"], new(), CancellationToken.None);
        Assert.Empty(state.Addons);
        Assert.Empty((await cluster.StateAsync()).Addons);
        var deletes = cluster.Api.Log.Skip(before).ToList();
        Assert.All(deletes, d => Assert.Equal("DELETE", d.Method));
        Assert.Equal(record.Objects.Count, deletes.Count);
        // Reverse order: the namespace last (its objects are gone with it already; those 404s count as done).
        Assert.Equal("/api/v1/namespaces/ingress-nginx", deletes[^1].Path);
        Assert.Empty(cluster.Api.Applied);
    }

    [Fact]
    public async Task An_object_the_server_refuses_in_the_dry_run_leaves_nothing_else_applied_and_the_add_on_unrecorded()
    {
        await using var cluster = await AddonTestCluster.StartAsync();
        cluster.Api.Fault = (method, path) => method == "PATCH" && path.EndsWith("/deployments/metrics-server", StringComparison.Ordinal)
            ? (422, "Invalid", "Deployment.apps \"metrics-server\" is invalid: spec.template.spec.containers[0].image: Required value")
            : null;
        var error = await Assert.ThrowsAsync<PlanFailedException>(() => cluster.Manager.AddAddonAsync(cluster.Id, ["metrics-server"], new(), CancellationToken.None));
        Assert.Equal("KsctlAddonFailed", error.ErrorId);
        Assert.Contains("spec.template.spec.containers[0].image: Required value", string.Join("\n", error.Errors));
        Assert.Empty(cluster.Api.Applied);
        Assert.DoesNotContain(cluster.Api.Log, e => e.Method == "PATCH" && !e.Query.ContainsKey("dryRun"));
        var state = await cluster.StateAsync();
        Assert.Empty(state.Addons);
        Assert.Equal(ClusterStatus.ConfiguringFailed, state.Status);

        // Fixed on the server side, the same command finishes it.
        cluster.Api.Fault = null;
        state = await cluster.Manager.AddAddonAsync(cluster.Id, ["metrics-server"], new(), CancellationToken.None);
        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Single(state.Addons);
    }

    [Fact]
    public async Task A_name_outside_the_catalogue_is_refused_naming_Addon_before_any_request()
    {
        await using var cluster = await AddonTestCluster.StartAsync();
        var error = await Assert.ThrowsAsync<InvalidSpecException>(() => cluster.Manager.AddAddonAsync(cluster.Id, ["metrics-server", "traefik"], new(), CancellationToken.None));
        Assert.Equal("Addon", error.Parameter);
        Assert.Contains("traefik", error.Message);
        Assert.Contains("ingress-nginx", error.Message);
        Assert.Empty(cluster.Api.Log);
        Assert.Equal(ClusterStatus.Running, (await cluster.StateAsync()).Status);
    }

    [Fact]
    public async Task Removing_an_add_on_that_is_not_installed_names_what_is()
    {
        await using var cluster = await AddonTestCluster.StartAsync();
        var error = await Assert.ThrowsAsync<KsctlException>(() => cluster.Manager.RemoveAddonAsync(cluster.Id, ["metrics-server"], new(), CancellationToken.None));
        Assert.Equal("KsctlAddonNotFound", error.ErrorId);
        Assert.Contains("installed: none", error.Message);
        Assert.Empty(cluster.Api.Log);
    }

    [Fact]
    public async Task A_tampered_record_in_the_state_drives_no_deletion()
    {
        await using var cluster = await AddonTestCluster.StartAsync();
        var state = await cluster.StateAsync();
        state.Addons.Add(new AddonRecord
        {
            Name = "metrics-server", Version = "v0.9.0", Sha256 = new string('a', 64),
            Objects = [new("v1", "ServiceAccount", "kube-system", "ok"), new("v1", "Namespace", null, "../../kube-system")],
        });
        await cluster.Manager.Store.WriteAsync(state, CancellationToken.None);
        var error = await Assert.ThrowsAsync<PlanFailedException>(() => cluster.Manager.RemoveAddonAsync(cluster.Id, ["metrics-server"], new(), CancellationToken.None));
        Assert.Contains("not a valid reference", string.Join("\n", error.Errors));
        Assert.Empty(cluster.Api.Log);
        Assert.Single((await cluster.StateAsync()).Addons);
    }

    [Fact]
    public async Task A_cluster_that_is_not_Running_gets_no_add_on()
    {
        await using var cluster = await AddonTestCluster.StartAsync(ClusterStatus.CreationFailed);
        var error = await Assert.ThrowsAsync<KsctlException>(() => cluster.Manager.AddAddonAsync(cluster.Id, ["metrics-server"], new(), CancellationToken.None));
        Assert.Equal("KsctlOperationNotAllowed", error.ErrorId);
        Assert.Empty(cluster.Api.Log);
    }

    [Fact]
    public void Every_pinned_add_on_manifest_matches_its_checksum_and_uses_only_kinds_Ksctl_can_address()
    {
        foreach (var entry in AddonCatalog.All)
        {
            var objects = ManifestObject.Parse(entry.Manifest.Load());
            Assert.NotEmpty(objects);
            Assert.All(objects, o => Assert.StartsWith("/ap", KubeResourceKinds.Path(o)));
            Assert.DoesNotContain(":latest", entry.Manifest.Load());
        }
        Assert.Throws<InvalidOperationException>(() => (AddonCatalog.Find("ingress-nginx").Manifest with { Sha256 = new string('0', 64) }).Load());
    }

    [Fact]
    public void YAML_scalars_become_the_JSON_types_the_API_decodes()
    {
        var o = ManifestObject.Parse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: y\ndata:\n  a: \"1\"\n  b: 'true'\nn: 3\nt: true\nz: ~\nf: 1.5\ns: 1.2.3\n").Single();
        Assert.Equal("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"y"},"data":{"a":"1","b":"true"},"n":3,"t":true,"z":null,"f":1.5,"s":"1.2.3"}""", o.Body.ToJsonString());
        Assert.Throws<InvalidDataException>(() => ManifestObject.Parse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ../x\n"));
    }
}
