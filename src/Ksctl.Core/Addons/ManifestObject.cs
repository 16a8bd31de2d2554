using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Ksctl.Core.Addons;

/// <summary>One object of a multi-document manifest, as JSON (the body of its server-side apply).</summary>
internal sealed record ManifestObject(string ApiVersion, string Kind, string? Namespace, string Name, JsonObject Body)
{
    public string Group => ApiVersion.Contains('/') ? ApiVersion[..ApiVersion.IndexOf('/')] : "";
    public string Version => ApiVersion.Contains('/') ? ApiVersion[(ApiVersion.IndexOf('/') + 1)..] : ApiVersion;
    public override string ToString() => Namespace is null ? $"{Kind}/{Name}" : $"{Kind}/{Namespace}/{Name}";

    // DNS-1123 subdomain: what metadata.name and namespace may be for the kinds in the catalogue (the API conventions' names).
    private static readonly Regex Dns1123 = new("^[a-z0-9]([-a-z0-9.:]{0,251}[a-z0-9])?\\z", RegexOptions.CultureInvariant);

    /// <summary>
    /// Splits a manifest into objects. The YAML is converted to JSON with the YAML 1.2 core schema for plain scalars
    /// (null, booleans, integers, floats; everything quoted stays a string), which is what sigs.k8s.io/yaml produces
    /// for the pinned manifests (they quote every ambiguous value). Empty documents are skipped, as kubectl does.
    /// </summary>
    public static IReadOnlyList<ManifestObject> Parse(string manifest)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(manifest));
        var objects = new List<ManifestObject>();
        foreach (var document in stream.Documents)
        {
            if (document.RootNode is YamlScalarNode { Value: null or "" } ) continue;
            if (ToJson(document.RootNode) is not JsonObject body) throw new InvalidDataException("A manifest document is not a mapping.");
            var apiVersion = (string?)body["apiVersion"];
            var kind = (string?)body["kind"];
            var metadata = body["metadata"] as JsonObject;
            var name = (string?)metadata?["name"];
            var ns = (string?)metadata?["namespace"];
            if (string.IsNullOrEmpty(apiVersion) || string.IsNullOrEmpty(kind) || name is null || !Dns1123.IsMatch(name) || (ns is not null && !Dns1123.IsMatch(ns)))
                throw new InvalidDataException($"A manifest object has no valid apiVersion, kind or metadata.name ({kind}/{name}).");
            objects.Add(new ManifestObject(apiVersion, kind, ns, name, body));
        }
        return objects;
    }

    /// <summary>An object recorded in the state (read back, so checked like input: a known kind and valid names).</summary>
    public static ManifestObject FromRecord(Model.AddonObjectRef r)
    {
        if (string.IsNullOrEmpty(r.ApiVersion) || r.ApiVersion.Count(c => c == '/') > 1 || string.IsNullOrEmpty(r.Kind) || r.Name is null || !Dns1123.IsMatch(r.Name)
            || (r.Namespace is not null && !Dns1123.IsMatch(r.Namespace)))
            throw new InvalidDataException($"The state records an add-on object that is not a valid reference ({r.Kind}/{r.Name}).");
        var o = new ManifestObject(r.ApiVersion, r.Kind, r.Namespace, r.Name, new JsonObject());
        if (KubeResourceKinds.Find(o.Group, o.Kind) is not { } resource || resource.Namespaced != (r.Namespace is not null))
            throw new InvalidDataException($"The state records an add-on object of a kind or scope Ksctl does not delete ({r.ApiVersion} {r.Kind}).");
        return o;
    }

    public Model.AddonObjectRef ToRecord() => new(ApiVersion, Kind, Namespace, Name);

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value ?? "", ToJson(c.Value)))),
        YamlSequenceNode seq => new JsonArray(seq.Children.Select(ToJson).ToArray()),
        YamlScalarNode scalar => Scalar(scalar),
        _ => throw new InvalidDataException("Unsupported YAML node (aliases are not used in pinned manifests)."),
    };

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var value = scalar.Value ?? "";
        if (scalar.Style != ScalarStyle.Plain) return JsonValue.Create(value);
        if (value is "" or "~" or "null" or "Null" or "NULL") return null;
        if (value is "true" or "True" or "TRUE") return JsonValue.Create(true);
        if (value is "false" or "False" or "FALSE") return JsonValue.Create(false);
        if (Regex.IsMatch(value, "^[-+]?[0-9]+\\z") && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return JsonValue.Create(l);
        if (Regex.IsMatch(value, "^[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?\\z") && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return JsonValue.Create(d);
        return JsonValue.Create(value);
    }
}
