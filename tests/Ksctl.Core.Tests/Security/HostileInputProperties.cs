using System.Text;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using Ksctl.Core.Clusters;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Storage;
using Ksctl.Core.Storage.Protection;
using Ksctl.Core.Storage.Transfer;

namespace Ksctl.Core.Tests.Security;

/// <summary>
/// Issue #12 item 9: property-based hostile input (FsCheck 3) over names, regions, versions, addresses, spec YAML,
/// state JSON and export archives. For every generated input: only Ksctl errors come out (a KsctlException, never a
/// NullReferenceException, IOException, JsonException...), nothing outside the store's root changes, no remote command
/// runs and no process starts (recording fakes stand in for SSH and processes).
/// </summary>
public sealed class HostileInputProperties : IDisposable
{
    private readonly TempDir _dir = new("ksctl-props");
    private readonly string _root;
    private readonly string _outside;

    public HostileInputProperties()
    {
        _root = _dir.Combine("home", "state");
        _outside = _dir.Combine("home", "outside");
        Directory.CreateDirectory(_outside);
        File.WriteAllText(Path.Combine(_outside, "state.json"), "bait");
    }

    public void Dispose() => _dir.Dispose();

    private static Config Runs(int count) => Config.QuickThrowOnFailure.WithMaxTest(count);

    private static readonly string[] Fragments =
    [
        ";", "..", "/", "\\", "\0", "\n", "\r", "$(id)", "`x`", "'", "\"", " ", "é", "\u202e", "%2e%2e", "~", "*", "?", ":", "C:",
        "//", "a", "b", "z", "0", "1", "9", "-", ".", "LOCAL", "demo", "../", "/etc/passwd", "\t", "{", "}", "[", "]", "#", "|", "&", ">", "<",
        "10.0.0.1", "::1", "[::1]", "%eth0", "+k3s1", "v1.33.1", "1.33", "localhost", "x.example", "-oProxyCommand=sh",
    ];

    /// <summary>Strings built from fragments a path, a shell, YAML or a URL would read as syntax, plus arbitrary UTF-16.</summary>
    private static readonly Gen<string> Hostile = Gen.OneOf(
        Gen.Elements(Fragments).ListOf().Select(parts => string.Concat(parts.Take(10))),
        Gen.Choose(0, 0xFFFF).Select(c => (char)c).ArrayOf().Select(cs => new string(cs.Take(40).ToArray())),
        Gen.Elements("lab", "demo", "LOCAL", "eastus", "1.33.1", "10.0.0.7", "node-1.lab"));

    private string[] Outside() =>
        Directory.EnumerateFileSystemEntries(_dir.Path, "*", SearchOption.AllDirectories)
            .Where(p => !StorePathsUnder(p)).Order(StringComparer.Ordinal).Select(p => p + (File.Exists(p) ? ":" + File.ReadAllText(p).Length : "")).ToArray();

    private bool StorePathsUnder(string p) =>
        p.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || p == _root
        || p.StartsWith(_dir.Combine("home", "logs"), StringComparison.Ordinal) || p.StartsWith(_dir.Combine("sealed"), StringComparison.Ordinal);

    /// <summary>Runs <paramref name="action"/>; a KsctlException is an accepted answer, anything else fails the property.</summary>
    private static void OnlyKsctl(Func<Task> action)
    {
        try { action().GetAwaiter().GetResult(); }
        catch (KsctlException) { }
    }

    [Fact]
    public void Names_and_regions_never_make_the_file_store_touch_anything_outside_its_root()
    {
        var store = new FileStateStore(_root);
        var before = Outside();
        var property = Prop.ForAll(Gen.Zip(Hostile, Hostile).ToArbitrary(), pair =>
        {
            var id = new ClusterId(CloudProvider.Local, ClusterType.Managed, pair.Item1, pair.Item2);
            OnlyKsctl(() => store.WriteAsync(Samples.State(id), default));
            OnlyKsctl(() => store.ReadAsync(id, default));
            OnlyKsctl(async () => { await using var l = await store.AcquireLockAsync(id, "create", breakStale: true, default); });
            OnlyKsctl(() => store.DeleteAsync(id, default));
            OnlyKsctl(() => store.LockHolderAsync(id, default));
            return Outside().SequenceEqual(before);
        });
        Check.One(Runs(300), property);
    }

    [Fact]
    public void Names_regions_versions_and_addresses_in_a_spec_give_only_Ksctl_errors_and_run_nothing()
    {
        var key = _dir.Combine("key");
        File.WriteAllText(key, "k");
        using var recorded = new RecordedManager(_dir.Combine("home"), new RecordingStore());
        var gen = Gen.Zip(Gen.Zip(Hostile, Hostile), Gen.Zip(Gen.Zip(Hostile, Hostile), Gen.Elements(0, 1, 2, 3, 4, 5, 6)));
        var property = Prop.ForAll(gen.ToArbitrary(), input =>
        {
            var ((name, region), ((version, address), which)) = input;
            MachineSpec M(string a, NodeRole r, int i) => new() { Address = i == which ? address : a, PrivateAddress = i == 6 ? address : null, Role = r, KeyPath = key, HostKey = "SHA256:abc" };
            var spec = new ClusterSpec
            {
                Id = new ClusterId(CloudProvider.BareMetal, ClusterType.SelfManaged, name, region),
                KubernetesVersion = version,
                Machines = [M("10.0.0.1", NodeRole.LoadBalancer, 0), M("10.0.0.2", NodeRole.Datastore, 1), M("10.0.0.3", NodeRole.Datastore, 2),
                            M("10.0.0.4", NodeRole.Datastore, 3), M("10.0.0.5", NodeRole.ControlPlane, 4), M("10.0.0.6", NodeRole.ControlPlane, 5), M("10.0.0.7", NodeRole.ControlPlane, 6)],
            };
            // Validation and the -WhatIf plan (a valid input legitimately goes on to run; these must not).
            OnlyKsctl(() => Task.FromResult(recorded.Manager.Prepare(spec)));
            OnlyKsctl(() => recorded.Manager.PlanCreateAsync(spec, default));
            OnlyKsctl(() => recorded.Manager.PlanCreateAsync(spec with { Id = spec.Id with { Provider = CloudProvider.Local, Type = ClusterType.Managed }, Machines = [] }, default));
            return recorded.Processes.Started.IsEmpty && recorded.Shells.RemoteCalls == 0;
        });
        Check.One(Runs(300), property);
    }

    private const string BaselineYaml = """
        name: lab
        provider: BareMetal
        type: SelfManaged
        region: dc1
        kubernetesVersion: 1.33.1
        distribution: K3s
        applications: [metrics-server]
        machines:
          - { address: 10.0.0.10, role: LoadBalancer, keyPath: KEY, hostKey: "SHA256:abc" }
          - { address: 10.0.0.11, role: Datastore, keyPath: KEY, hostKey: "SHA256:abc" }
          - { address: 10.0.0.12, role: Datastore, keyPath: KEY, hostKey: "SHA256:abc" }
          - { address: 10.0.0.13, role: Datastore, keyPath: KEY, hostKey: "SHA256:abc" }
          - { address: 10.0.0.21, role: ControlPlane, keyPath: KEY, hostKey: "SHA256:abc" }
          - { address: 10.0.0.22, role: ControlPlane, keyPath: KEY, hostKey: "SHA256:abc" }
          - { address: 10.0.0.23, role: ControlPlane, keyPath: KEY, hostKey: "SHA256:abc", port: 22, user: root }
        """;

    /// <summary>A text with one edit at a position: an insertion of a hostile string, a deletion, or a replacement.</summary>
    private static Gen<string> Mutations(string baseline) =>
        Gen.Zip(Gen.Zip(Gen.Choose(0, baseline.Length), Gen.Choose(0, 12)), Gen.Zip(Hostile, Gen.Elements(0, 1, 2)))
            .Select(m =>
            {
                var ((at, length), (text, kind)) = m;
                var cut = Math.Min(length, baseline.Length - at);
                return kind switch
                {
                    0 => baseline.Insert(at, text),
                    1 => baseline.Remove(at, cut),
                    _ => baseline.Remove(at, cut).Insert(at, text),
                };
            });

    [Fact]
    public void Spec_YAML_gives_only_Ksctl_errors_and_runs_nothing()
    {
        var key = _dir.Combine("key");
        File.WriteAllText(key, "k");
        var baseline = BaselineYaml.Replace("KEY", key);
        using var recorded = new RecordedManager(_dir.Combine("home"), new RecordingStore());
        var property = Prop.ForAll(Gen.OneOf(Mutations(baseline), Hostile).ToArbitrary(), yaml =>
        {
            OnlyKsctl(async () =>
            {
                var spec = SpecFile.Parse(yaml, "spec.yaml").ToClusterSpec(_ => "dc1");
                await recorded.Manager.PlanCreateAsync(spec, default);
            });
            return recorded.Processes.Started.IsEmpty && recorded.Shells.RemoteCalls == 0;
        });
        Check.One(Runs(400), property);
    }

    /// <summary>A state document with every kind of member, and the paths of all its JSON nodes.</summary>
    private static JsonObject RichDocument()
    {
        var id = new ClusterId(CloudProvider.BareMetal, ClusterType.SelfManaged, "lab", "dc1");
        var state = Samples.State(id);
        state.Spec = new ClusterSpec
        {
            Id = id, KubernetesVersion = "1.33.1", Distribution = DistributionKind.K3s, EtcdCount = 3, ControlPlaneCount = 3, WorkerCount = 0,
            Machines = [new MachineSpec { Address = "10.0.0.10", Role = NodeRole.LoadBalancer, KeyPath = "/k", HostKey = "SHA256:abc" }],
        };
        state.Nodes.Add(new NodeState { Key = "lb", Name = "lab-vm-lb", Role = NodeRole.LoadBalancer, PublicIP = "10.0.0.10", HostKey = "SHA256:abc", Hostname = "lb", SshUser = "root" });
        state.Resources["network"] = "net-1";
        state.Secrets["k3s-token"] = "PROPERTY-TEST-SECRET-TOKEN";
        state.Steps["create/vm:lb"] = new StepRecord { Outcome = StepOutcome.Done, Attempts = 1 };
        state.LastErrors.Add("earlier");
        return JsonNode.Parse(StateSerializer.Serialize(state))!.AsObject();
    }

    private static List<(JsonNode Parent, object Key)> Slots(JsonNode node, List<(JsonNode, object)>? into = null)
    {
        into ??= new();
        switch (node)
        {
            case JsonObject o:
                foreach (var (k, v) in o.ToList()) { into.Add((o, k)); if (v is not null) Slots(v, into); }
                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++) { into.Add((a, i)); if (a[i] is { } v) Slots(v, into); }
                break;
        }
        return into;
    }

    private static readonly Gen<JsonNode?> Values = Gen.OneOf(
        Gen.Constant<JsonNode?>(null),
        Hostile.Select(s => (JsonNode?)JsonValue.Create(s)),
        Gen.Elements<JsonNode?>(JsonValue.Create(0), JsonValue.Create(-1), JsonValue.Create(99), JsonValue.Create(1e300), JsonValue.Create(true),
            new JsonArray(), new JsonObject(), new JsonArray(JsonValue.Create("x"), null), JsonValue.Create(new string('a', 100_000))));

    /// <summary>Documents with a few members replaced, deleted or retyped, or with bytes flipped.</summary>
    private static Gen<byte[]> DocumentMutations(Func<JsonObject> baseline) =>
        Gen.OneOf(
            Gen.Zip(Gen.Zip(Gen.Choose(0, 1000).ListOf(), Values.ListOf()), Gen.Elements(false, true)).Select(m =>
            {
                var doc = baseline();
                var ((picks, values), delete) = m;
                foreach (var (pick, value) in picks.Zip(values).Take(3))
                {
                    var slots = Slots(doc);
                    var (parent, key) = slots[pick % slots.Count];
                    if (parent is JsonObject o) { if (delete) o.Remove((string)key); else o[(string)key] = value?.DeepClone(); }
                    else if (parent is JsonArray a && (int)key < a.Count) a[(int)key] = value?.DeepClone();
                }
                return Encoding.UTF8.GetBytes(doc.ToJsonString());
            }),
            Gen.Zip(Gen.Choose(0, 4000).ListOf(), Gen.Choose(0, 255).ListOf()).Select(m =>
            {
                var bytes = Encoding.UTF8.GetBytes(baseline().ToJsonString());
                foreach (var (at, b) in m.Item1.Zip(m.Item2).Take(4)) bytes[at % bytes.Length] = (byte)b;
                return bytes;
            }));

    [Fact]
    public void State_JSON_gives_only_Ksctl_errors_on_every_load_and_runs_nothing()
    {
        var key = StateKey.FromBase64(StateKey.Generate());
        var plain = new FileStateStore(_root);
        var sealedStore = new FileStateStore(_dir.Combine("sealed"), key);
        using var recorded = new RecordedManager(_dir.Combine("home"), plain);
        using var sealedManager = new RecordedManager(_dir.Combine("home"), sealedStore);
        var id = new ClusterId(CloudProvider.BareMetal, ClusterType.SelfManaged, "lab", "dc1");
        var sealedBaseline = (Func<JsonObject>)(() =>
        {
            sealedStore.WriteAsync(StateSerializer.Deserialize(Encoding.UTF8.GetBytes(RichDocument().ToJsonString()), "t"), default).GetAwaiter().GetResult();
            return JsonNode.Parse(File.ReadAllText(sealedStore.DocumentPath(id)))!.AsObject();
        });
        var sealedOriginal = sealedBaseline().ToJsonString();
        var before = Outside();
        var property = Prop.ForAll(Gen.Zip(DocumentMutations(RichDocument), DocumentMutations(() => JsonNode.Parse(sealedOriginal)!.AsObject())).ToArbitrary(), docs =>
        {
            Directory.CreateDirectory(plain.ClusterDirectory(id));
            File.WriteAllBytes(plain.DocumentPath(id), docs.Item1);
            Directory.CreateDirectory(sealedStore.ClusterDirectory(id));
            File.WriteAllBytes(sealedStore.DocumentPath(id), docs.Item2);
            foreach (var m in new[] { recorded.Manager, sealedManager.Manager })
            {
                OnlyKsctl(() => m.GetAsync(id, default));
                OnlyKsctl(() => m.ListSummariesAsync(ClusterQuery.All, default));
                OnlyKsctl(() => m.ResolveAsync("lab", null, null, null, default));
                OnlyKsctl(() => m.PlanDeleteAsync(id, default));
            }
            // A sealed document either verifies (the edit changed nothing that counts) or is refused.
            var changed = false;
            try { changed = sealedStore.ReadAsync(id, default).GetAwaiter().GetResult() is { } s && s.Resources.GetValueOrDefault("network") != "net-1"; }
            catch (KsctlException) { }
            return (!changed).Label("a sealed document was changed and still accepted")
                .And(recorded.Processes.Started.IsEmpty && recorded.Shells.RemoteCalls == 0 && sealedManager.Shells.RemoteCalls == 0).Label("something ran")
                .And(Outside().SequenceEqual(before)).Label("a file outside the store changed");
        });
        Check.One(Runs(300), property);
    }

    [Fact]
    public void Export_archives_give_only_Ksctl_errors_on_import_and_write_nothing_outside_the_store()
    {
        var keyFile = _dir.Combine("export.key");
        var archive = _dir.Combine("archive.json");
        var state = StateSerializer.Deserialize(Encoding.UTF8.GetBytes(RichDocument().ToJsonString()), "t");
        StateArchive.Write([state], archive, keyFile);
        var original = JsonNode.Parse(File.ReadAllText(archive))!.AsObject();
        var store = new FileStateStore(_root);
        using var recorded = new RecordedManager(_dir.Combine("home"), store);
        var mutated = _dir.Combine("mutated.json");
        var before = Outside();
        var property = Prop.ForAll(DocumentMutations(() => (JsonObject)original.DeepClone()).ToArbitrary(), bytes =>
        {
            File.WriteAllBytes(mutated, bytes);
            OnlyKsctl(async () =>
            {
                foreach (var s in StateArchive.Read(mutated, keyFile)) await recorded.Manager.ImportAsync(s, force: true, default);
            });
            OnlyKsctl(async () =>
            {
                foreach (var s in StateArchive.Read(mutated, keyPath: null)) await recorded.Manager.ImportAsync(s, force: true, default);
            });
            var now = Outside().Where(p => !p.StartsWith(mutated, StringComparison.Ordinal));
            return now.SequenceEqual(before.Where(p => !p.StartsWith(mutated, StringComparison.Ordinal)))
                && recorded.Processes.Started.IsEmpty && recorded.Shells.RemoteCalls == 0;
        });
        Check.One(Runs(300), property);
    }
}
