using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Ksctl.Core.Clusters;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Storage;

namespace Ksctl.Core.Tests.Security;

/// <summary>
/// Issue #12 item 3 at the model level: a hostile value in any field of a spec file (-SpecPath, YAML or JSON) is
/// KsctlInvalidSpec naming the field; nothing is written, no process starts, no machine is contacted.
/// </summary>
public sealed class HostileSpecFileTests : IDisposable
{
    private readonly TempDir _dir = new("ksctl-hostile-spec");
    private readonly string _key;

    public HostileSpecFileTests()
    {
        _key = _dir.Combine("id_ed25519");
        File.WriteAllText(_key, "not a real key");
    }

    public void Dispose() => _dir.Dispose();

    public static readonly string[] HostileValues =
    [
        ";", "a;reboot", "x\ny", "x\r\nz", "$(id)", "${IFS}", "`id`", "'q'", "\"q\"", "a b", "a b c", "ünïcode", "\u202egnp", "a\tb",
        "a|b", "a&b", "a>b", "a\\b", "#c", "x,y", "\0",
    ];

    /// <summary>A complete, valid BareMetal spec (the baseline every case changes one field of).</summary>
    private Dictionary<string, object?> Baseline()
    {
        object Machine(string address, string role) => new Dictionary<string, object?>
        {
            ["address"] = address, ["port"] = 22, ["user"] = "root", ["keyPath"] = _key,
            ["hostKey"] = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU", ["role"] = role, ["privateAddress"] = address,
        };
        return new()
        {
            ["name"] = "lab", ["provider"] = "BareMetal", ["type"] = "SelfManaged", ["region"] = "dc1",
            ["kubernetesVersion"] = "1.33.1", ["distribution"] = "K3s", ["cni"] = "flannel", ["applications"] = new List<object?> { "metrics-server" },
            ["machines"] = new List<object?>
            {
                Machine("10.0.0.10", "LoadBalancer"),
                Machine("10.0.0.11", "Datastore"), Machine("10.0.0.12", "Datastore"), Machine("10.0.0.13", "Datastore"),
                Machine("10.0.0.21", "ControlPlane"), Machine("10.0.0.22", "ControlPlane"), Machine("10.0.0.23", "ControlPlane"),
                Machine("node-4.lab.example", "Worker"),
            },
        };
    }

    /// <summary>Every field as (path in the document, the parameter the error names, what the message must name).</summary>
    public static TheoryData<string, string, string> Fields => new()
    {
        { "name", "Name", "" },
        { "region", "Region", "" },
        { "provider", "Provider", "" },
        { "type", "Type", "" },
        { "distribution", "Distribution", "" },
        { "kubernetesVersion", "KubernetesVersion", "" },
        { "nodeSize", "NodeSize", "" },
        { "controlPlaneSize", "ControlPlaneSize", "" },
        { "workerSize", "WorkerSize", "" },
        { "etcdSize", "EtcdSize", "" },
        { "loadBalancerSize", "LoadBalancerSize", "" },
        { "cni", "Cni", "" },
        { "applications.0", "Application", "" },
        { "artifactSource", "ArtifactSource", "" },
        { "machines.0.address", "Machine", "Address" },
        { "machines.7.address", "Machine", "Address" },
        { "machines.3.privateAddress", "Machine", "PrivateAddress" },
        { "machines.1.user", "Machine", "User" },
        { "machines.2.keyPath", "Machine", "KeyPath" },
        { "machines.4.hostKey", "Machine", "HostKey" },
        { "machines.5.role", "Machine", "Role" },
    };

    private static void Set(Dictionary<string, object?> doc, string path, string value)
    {
        var parts = path.Split('.');
        object current = doc;
        for (var i = 0; i < parts.Length - 1; i++)
            current = current is Dictionary<string, object?> d ? d[parts[i]]! : ((List<object?>)current)[int.Parse(parts[i])]!;
        if (current is Dictionary<string, object?> map) map[parts[^1]] = value;
        else ((List<object?>)current)[int.Parse(parts[^1])] = value;
    }

    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, WriteIndented = true };

    /// <summary>YAML in block style whose scalars are JSON strings (valid YAML double-quoted scalars, escapes included).</summary>
    private static string Yaml(object? node, int indent = 0)
    {
        var pad = new string(' ', indent);
        var sb = new StringBuilder();
        switch (node)
        {
            case Dictionary<string, object?> map:
                foreach (var (k, v) in map)
                    sb.Append(pad).Append(k).Append(':').Append(v is string or int or null ? " " + Scalar(v) + "\n" : "\n" + Yaml(v, indent + 2));
                break;
            case List<object?> list:
                foreach (var item in list)
                    sb.Append(pad).Append("- ").Append(item is Dictionary<string, object?> ? "\n" + Yaml(item, indent + 4) : Scalar(item) + "\n");
                break;
        }
        return sb.ToString();
    }

    private static string Scalar(object? v) => v switch { null => "null", int i => i.ToString(), _ => JsonSerializer.Serialize((string)v, Json) };

    [Fact]
    public async Task The_baseline_spec_is_valid_so_each_case_fails_on_its_field_alone()
    {
        foreach (var file in new[] { Write("base.yaml", Yaml(Baseline())), Write("base.json", JsonSerializer.Serialize(Baseline(), Json)) })
        {
            using var recorded = new RecordedManager(_dir.Combine("home"), new RecordingStore());
            var spec = SpecFile.Load(file).ToClusterSpec(_ => "dc1");
            var prepared = recorded.Manager.Prepare(spec);
            Assert.Equal(8, prepared.Machines.Count);
            var (plan, _) = await recorded.Manager.PlanCreateAsync(spec, default);
            Assert.NotEmpty(plan.Steps);
        }
    }

    [Theory]
    [MemberData(nameof(Fields))]
    public async Task A_hostile_value_in_any_field_is_KsctlInvalidSpec_naming_it_and_nothing_runs(string path, string parameter, string mentions)
    {
        foreach (var hostile in HostileValues)
        {
            var doc = Baseline();
            Set(doc, path, hostile);
            foreach (var file in new[] { Write("spec.yaml", Yaml(doc)), Write("spec.json", JsonSerializer.Serialize(doc, Json)) })
            {
                var home = _dir.Combine("home-" + Guid.NewGuid().ToString("N")[..8]);
                var store = new RecordingStore();
                using var recorded = new RecordedManager(home, store);
                var ex = await Assert.ThrowsAsync<InvalidSpecException>(async () =>
                {
                    var spec = SpecFile.Load(file).ToClusterSpec(_ => "dc1");
                    await recorded.Manager.CreateAsync(spec, OperationOptions.Default, default);
                });
                var what = $"{path} = {JsonSerializer.Serialize(hostile)} in {Path.GetExtension(file)}";
                Assert.True(ex.Parameter == parameter, $"{what}: named -{ex.Parameter} ({ex.Message}), expected -{parameter}");
                Assert.Equal("KsctlInvalidSpec", ex.ErrorId);
                if (mentions.Length > 0) Assert.True(ex.Message.Contains(mentions, StringComparison.Ordinal), $"{what}: {ex.Message}");
                Assert.Equal(0, store.Writes);
                Assert.Empty(recorded.Processes.Started);
                Assert.Equal(0, recorded.Shells.RemoteCalls);
                Assert.False(Directory.Exists(Path.Combine(home, "state")), $"{what}: a state folder was made");
            }
        }
    }

    private string Write(string name, string text)
    {
        var path = _dir.Combine(name);
        File.WriteAllText(path, text);
        return path;
    }
}
