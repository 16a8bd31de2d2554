using System.Security.Cryptography;
using System.Text;
using Ksctl.Core.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization;

namespace Ksctl.Core.Kube;

/// <summary>
/// A kubeconfig as YAML nodes (YamlDotNet's representation model), not as KubernetesClient's typed models: a merge
/// must carry through what those models lack (<c>interactiveMode</c>, <c>proxy-url</c>, <c>disable-compression</c>,
/// <c>extensions</c>, <c>preferences</c>, keys a newer kubectl adds), and a typed round trip drops them.
/// The shape follows client-go's clientcmd/api/v1 types: top-level <c>clusters</c>, <c>users</c>, <c>contexts</c>
/// are lists of <c>{name, cluster|user|context}</c>.
/// </summary>
internal static class KubeconfigYaml
{
    public const string Clusters = "clusters";
    public const string Users = "users";
    public const string Contexts = "contexts";
    public const string CurrentContext = "current-context";

    /// <summary>The entry key inside each list item: clusters → cluster, users → user, contexts → context.</summary>
    public static string EntryKey(string list) => list switch
    {
        Clusters => "cluster",
        Users => "user",
        Contexts => "context",
        _ => throw new ArgumentOutOfRangeException(nameof(list)),
    };

    /// <summary>Parses a kubeconfig; an empty text is an empty config (kubectl reads a touched file that way).</summary>
    public static YamlMappingNode Load(string text, string source)
    {
        if (string.IsNullOrWhiteSpace(text)) return NewConfig();
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            throw new KsctlException("KsctlKubeconfigInvalid", KsctlErrorCategory.InvalidData, $"The kubeconfig {source} is not valid YAML: {ex.Message}", source, ex);
        }
        if (stream.Documents.Count == 0) return NewConfig();
        if (stream.Documents.Count > 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new KsctlException("KsctlKubeconfigInvalid", KsctlErrorCategory.InvalidData, $"The kubeconfig {source} is not one YAML mapping (apiVersion, kind, clusters, users, contexts).", source);
        foreach (var list in new[] { Clusters, Users, Contexts })
        {
            if (root.Children.TryGetValue(list, out var node) && node is not YamlSequenceNode && !IsNull(node))
                throw new KsctlException("KsctlKubeconfigInvalid", KsctlErrorCategory.InvalidData, $"The kubeconfig {source} has a '{list}' that is not a list.", source);
        }
        return root;
    }

    public static YamlMappingNode NewConfig() => new()
    {
        { "apiVersion", "v1" },
        { "kind", "Config" },
    };

    public static string Save(YamlNode root)
    {
        var serializer = new SerializerBuilder().Build();
        return serializer.Serialize(root);
    }

    /// <summary>
    /// A string scalar that every reader takes as a string: kubectl converts YAML to JSON first (sigs.k8s.io/yaml),
    /// so a plain <c>true</c>, <c>0123</c> or <c>null</c> would not be one. Plain only when it cannot be misread.
    /// </summary>
    public static YamlScalarNode Str(string value) => new(value)
    {
        Style = System.Text.RegularExpressions.Regex.IsMatch(value, "^[A-Za-z][A-Za-z0-9._/:@+=-]*$")
            && value.ToLowerInvariant() is not ("y" or "n" or "yes" or "no" or "true" or "false" or "on" or "off" or "null")
            ? ScalarStyle.Plain : ScalarStyle.DoubleQuoted,
    };

    public static bool IsNull(YamlNode node) => node is YamlScalarNode { Value: null or "" or "~" or "null" } s && s.Style is ScalarStyle.Plain or ScalarStyle.Any;

    public static string? Scalar(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(key, out var node) && node is YamlScalarNode scalar && !IsNull(scalar) ? scalar.Value : null;

    public static YamlMappingNode? Mapping(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(key, out var node) ? node as YamlMappingNode : null;

    /// <summary>The named list, created (block style) when absent or null.</summary>
    public static YamlSequenceNode List(YamlMappingNode root, string list)
    {
        if (root.Children.TryGetValue(list, out var node) && node is YamlSequenceNode seq)
        {
            // `clusters: []` is a flow sequence: entries added to it would be emitted inline.
            if (seq.Style == SequenceStyle.Flow) seq.Style = SequenceStyle.Block;
            return seq;
        }
        seq = new YamlSequenceNode { Style = SequenceStyle.Block };
        root.Children[new YamlScalarNode(list)] = seq;
        return seq;
    }

    /// <summary>The items of a list that carry this name (kubectl's loader keeps the first; we handle all).</summary>
    public static IEnumerable<YamlMappingNode> Named(YamlMappingNode root, string list, string name) =>
        root.Children.TryGetValue(list, out var node) && node is YamlSequenceNode seq
            ? seq.Children.OfType<YamlMappingNode>().Where(item => Scalar(item, "name") == name).ToList()
            : [];

    /// <summary>A stable digest of one list item: what Ksctl merged, to tell later whether the user changed it.</summary>
    public static string Fingerprint(YamlNode item) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Canonical(item)))).ToLowerInvariant();

    /// <summary>Meaning, not bytes: mapping keys sorted, scalar styles ignored (a re-quoting by another tool is no change).</summary>
    private static string Canonical(YamlNode node) => node switch
    {
        YamlScalarNode s => IsNull(s) ? "~" : "s:" + s.Value!.Length + ":" + s.Value,
        YamlSequenceNode q => "[" + string.Join(",", q.Children.Select(Canonical)) + "]",
        YamlMappingNode m => "{" + string.Join(",", m.Children
            .Select(kv => (Key: Canonical(kv.Key), Value: Canonical(kv.Value)))
            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => kv.Key + "=" + kv.Value)) + "}",
        _ => "?",
    };
}
