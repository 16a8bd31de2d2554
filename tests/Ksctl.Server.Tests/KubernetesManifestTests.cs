using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using k8s.Models;
using Ksctl.Server.Tests.Harness;
using Xunit;
using YamlDotNet.RepresentationModel;

namespace Ksctl.Server.Tests;

/// <summary>
/// deploy/kubernetes/*.yaml checked against the Kubernetes API types: KubernetesClient's k8s.Models classes, which are
/// generated from kubernetes/kubernetes api/openapi-spec (apps/v1 Deployment, core/v1 Service, policy/v1
/// PodDisruptionBudget and every type they reference), read strictly: a field those types do not have is an error, as
/// it is for `kubectl apply --validate=strict`. Then the rules the API server adds (apps/v1 validation: the selector
/// must match the template's labels; a named probe or Service target port must be a declared container port) and ours
/// (several replicas, store credentials only from Secrets).
/// </summary>
public sealed class KubernetesManifestTests
{
    private static readonly string Folder = Path.Combine(TestServer.RepoRoot, "deploy", "kubernetes");

    private static readonly JsonSerializerOptions Strict = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        PropertyNameCaseInsensitive = false,
    };

    [Fact]
    public void Manifests_are_valid_Kubernetes_objects_and_the_Deployment_runs_several_replicas_with_secrets_from_Secrets()
    {
        var documents = Directory.GetFiles(Folder, "*.yaml").Order().SelectMany(Documents).ToList();
        var deployment = Assert.Single(documents.Select(d => Typed(d)).OfType<V1Deployment>());
        var service = Assert.Single(documents.Select(d => Typed(d)).OfType<V1Service>());
        Assert.Single(documents.Select(d => Typed(d)).OfType<V1PodDisruptionBudget>());

        Assert.True(deployment.Spec.Replicas >= 2, "several replicas");
        var labels = deployment.Spec.Template.Metadata.Labels;
        Assert.All(deployment.Spec.Selector.MatchLabels, l => Assert.Equal(l.Value, labels[l.Key]));
        Assert.All(service.Spec.Selector, l => Assert.Equal(l.Value, labels[l.Key]));
        var container = Assert.Single(deployment.Spec.Template.Spec.Containers);
        var ports = container.Ports.Select(p => p.Name).ToHashSet();
        Assert.Contains(container.ReadinessProbe.HttpGet.Port.Value, ports);
        Assert.Contains(container.LivenessProbe.HttpGet.Port.Value, ports);
        Assert.Equal("HTTPS", container.ReadinessProbe.HttpGet.Scheme);
        Assert.Contains(service.Spec.Ports.Single().TargetPort.Value, ports);
        var env = container.Env.ToDictionary(e => e.Name);
        foreach (var secret in new[] { "KSCTL_STATE_CONNECTION_STRING", "KSCTL_STATE_KEY" })
        {
            Assert.Null(env[secret].Value);
            Assert.NotNull(env[secret].ValueFrom.SecretKeyRef);
        }
        Assert.Equal("AzureBlob", env["KSCTL_STATE_STORE"].Value);
        var mounts = container.VolumeMounts.Select(m => m.Name).ToHashSet();
        Assert.All(deployment.Spec.Template.Spec.Volumes, v => Assert.Contains(v.Name, mounts));
        Assert.All(mounts, m => Assert.Contains(deployment.Spec.Template.Spec.Volumes, v => v.Name == m));
    }

    [Fact]
    public void A_field_the_Kubernetes_types_do_not_have_is_refused()
    {
        var yaml = File.ReadAllText(Path.Combine(Folder, "deployment.yaml")).Replace("  replicas: 3", "  replicas: 3\n  replica: 3");
        var document = Documents(yaml, inline: true).Single();
        Assert.Throws<JsonException>(() => Typed(document));
    }

    private static object Typed(JsonObject document)
    {
        var apiVersion = document["apiVersion"]?.GetValue<string>();
        var kind = document["kind"]?.GetValue<string>();
        Type type = (apiVersion, kind) switch
        {
            ("apps/v1", "Deployment") => typeof(V1Deployment),
            ("v1", "Service") => typeof(V1Service),
            ("policy/v1", "PodDisruptionBudget") => typeof(V1PodDisruptionBudget),
            _ => throw new Xunit.Sdk.XunitException($"Unexpected object {apiVersion} {kind}."),
        };
        return document.Deserialize(type, Strict)!;
    }

    private static IEnumerable<JsonObject> Documents(string path) => Documents(File.ReadAllText(path), inline: true);

    private static IEnumerable<JsonObject> Documents(string text, bool inline)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return stream.Documents.Select(d => (JsonObject)ToJson(d.RootNode)!);
    }

    /// <summary>YAML to JSON with YAML 1.2 core-schema scalars: plain integers and booleans are typed, quoted scalars stay strings.</summary>
    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value!, ToJson(c.Value)))),
        YamlSequenceNode seq => new JsonArray(seq.Children.Select(ToJson).ToArray()),
        YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain } s when long.TryParse(s.Value, out var n) => JsonValue.Create(n),
        YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain, Value: "true" or "false" } s => JsonValue.Create(s.Value == "true"),
        YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain, Value: null or "null" or "~" or "" } => null,
        YamlScalarNode s => JsonValue.Create(s.Value),
        _ => throw new InvalidOperationException($"Unexpected YAML node {node.NodeType}."),
    };
}
