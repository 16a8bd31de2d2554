using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ksctl.Addons.Tests;

/// <summary>
/// An in-process Kubernetes API server for the add-on and cloud-controller tests. It records every request and holds
/// objects in memory, and it refuses what kube-apiserver refuses for the requests Ksctl makes. Each rule's source:
/// <list type="bullet">
/// <item>Paths — "API concepts", Resource URIs (kubernetes.io/docs/reference/using-api/api-concepts/#resource-uris):
///   core resources under /api/v1, others under /apis/{group}/{version}; namespaced resources only under
///   /namespaces/{ns}/, cluster-scoped ones never (each kind's "HTTP Request" in the API reference). Anything else is
///   404 NotFound "the server could not find the requested resource".</item>
/// <item>Authentication — a request without the kubeconfig's bearer token is 401 Unauthorized (API access control,
///   "Authenticating": static token).</item>
/// <item>PATCH content types — application/apply-patch+yaml (server-side apply), merge-patch+json,
///   strategic-merge-patch+json, json-patch+json (api-concepts "Patch"); any other is 415 UnsupportedMediaType.</item>
/// <item>Patch options — k8s.io/apimachinery/pkg/apis/meta/v1/validation/validation.go ValidatePatchOptions: an apply
///   patch needs fieldManager ("fieldManager: Required value: is required for apply patch"); force on a non-apply
///   patch is "force: Forbidden: may not be specified for non-apply patch"; fieldManager at most 128 characters;
///   ValidateDryRun: dryRun may only be "All" ("Unsupported value"). All are 422 Invalid on PatchOptions.meta.k8s.io.</item>
/// <item>Apply body — server-side apply docs (kubernetes.io/docs/reference/using-api/server-side-apply/): the object
///   must carry apiVersion and kind matching the URL, metadata.name equal to the URL's name, a namespace (if any)
///   equal to the URL's, and no metadata.managedFields ("metadata.managedFields must be nil"); each is 400 BadRequest.</item>
/// <item>Namespaces — default, kube-system, kube-public and kube-node-lease exist from the start ("Kubernetes starts
///   with four initial namespaces", concepts/overview/working-with-objects/namespaces); creating an object in a namespace that does not exist is 404 NotFound `namespaces "x" not
///   found` (kube-apiserver's NamespaceLifecycle admission plugin), dry run included.</item>
/// <item>Conflicts — server-side apply docs, "Conflicts": applying a field another manager owns with a different
///   value is 409 Conflict "Apply failed with N conflict(s): conflict with "manager": .path" unless force=true, which
///   moves ownership to the applier.</item>
/// <item>Dry run — dryRun=All runs everything (validation, conflicts) and persists nothing (api-concepts "Dry-run").</item>
/// <item>DELETE — 404 NotFound `{resource}.{group} "name" not found` for an absent object; deleting a namespace
///   removes the objects in it (the namespace controller's cleanup, immediate here).</item>
/// <item>Errors are metav1.Status objects: kind Status, apiVersion v1, status Failure, message, reason, details, code.</item>
/// </list>
/// </summary>
public sealed class FakeKubeApi : IAsyncDisposable
{
    public sealed record Exchange(string Method, string Path, IReadOnlyDictionary<string, string> Query, string? ContentType, string Body, int Status);
    public sealed record Stored(string Kind, JsonObject Object, Dictionary<string, string> Owners);

    /// <summary>Kinds this server serves: (group, version, plural) → (kind, namespaced). From the API reference.</summary>
    private static readonly Dictionary<(string Group, string Version, string Plural), (string Kind, bool Namespaced)> Resources = new()
    {
        [("", "v1", "namespaces")] = ("Namespace", false),
        [("", "v1", "serviceaccounts")] = ("ServiceAccount", true),
        [("", "v1", "configmaps")] = ("ConfigMap", true),
        [("", "v1", "secrets")] = ("Secret", true),
        [("", "v1", "services")] = ("Service", true),
        [("apps", "v1", "deployments")] = ("Deployment", true),
        [("apps", "v1", "daemonsets")] = ("DaemonSet", true),
        [("batch", "v1", "jobs")] = ("Job", true),
        [("rbac.authorization.k8s.io", "v1", "clusterroles")] = ("ClusterRole", false),
        [("rbac.authorization.k8s.io", "v1", "clusterrolebindings")] = ("ClusterRoleBinding", false),
        [("rbac.authorization.k8s.io", "v1", "roles")] = ("Role", true),
        [("rbac.authorization.k8s.io", "v1", "rolebindings")] = ("RoleBinding", true),
        [("networking.k8s.io", "v1", "ingressclasses")] = ("IngressClass", false),
        [("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations")] = ("ValidatingWebhookConfiguration", false),
        [("apiregistration.k8s.io", "v1", "apiservices")] = ("APIService", false),
        [("policy", "v1", "poddisruptionbudgets")] = ("PodDisruptionBudget", true),
    };

    private static readonly string[] PatchTypes =
        ["application/apply-patch+yaml", "application/merge-patch+json", "application/strategic-merge-patch+json", "application/json-patch+json"];

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Exchange> _log = new();
    private readonly object _gate = new();
    public Dictionary<string, Stored> Objects { get; } = new(StringComparer.Ordinal);
    public IReadOnlyList<Exchange> Log => _log.ToArray();
    public string Token { get; } = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
    public Uri Url { get; private set; } = null!;
    /// <summary>Fault injection: a request whose "METHOD path" this returns a status for is refused with it (422 Invalid, ...).</summary>
    public Func<string, string, (int Code, string Reason, string Message)?>? Fault { get; set; }

    private FakeKubeApi(WebApplication app)
    {
        _app = app;
        // "Kubernetes starts with four initial namespaces" (concepts/overview/working-with-objects/namespaces).
        foreach (var ns in new[] { "default", "kube-system", "kube-public", "kube-node-lease" })
            Objects[$"/namespaces//{ns}"] = new Stored("Namespace", new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = ns } }, new());
    }

    /// <summary>The objects beyond the four initial namespaces.</summary>
    public IReadOnlyList<string> Applied => Objects.Keys.Where(k => !k.StartsWith("/namespaces//kube-", StringComparison.Ordinal) && k != "/namespaces//default").ToList();

    public static async Task<FakeKubeApi> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var api = new FakeKubeApi(app);
        app.Run(api.HandleAsync);
        await app.StartAsync();
        api.Url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return api;
    }

    public string Kubeconfig(string context = "fake") => $"""
        apiVersion: v1
        kind: Config
        clusters:
        - cluster:
            server: {Url.ToString().TrimEnd('/')}
          name: {context}
        contexts:
        - context:
            cluster: {context}
            user: {context}-admin
          name: {context}
        current-context: {context}
        users:
        - name: {context}-admin
          user:
            token: {Token}
        """;

    /// <summary>Seeds an object owned by another field manager (to test conflicts).</summary>
    public void Seed(string key, string kind, JsonObject obj, string manager)
    {
        lock (_gate) Objects[key] = new Stored(kind, obj, Leaves(obj).ToDictionary(l => l.Path, _ => manager));
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private async Task HandleAsync(HttpContext http)
    {
        var request = http.Request;
        string body;
        using (var reader = new StreamReader(request.Body, Encoding.UTF8)) body = await reader.ReadToEndAsync();
        var query = request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal);
        var (code, response) = Handle(request.Method, request.Path.Value ?? "", query, request.ContentType, body, request.Headers.Authorization.ToString());
        _log.Enqueue(new Exchange(request.Method, request.Path.Value ?? "", query, request.ContentType, body, code));
        http.Response.StatusCode = code;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(response.ToJsonString());
    }

    private (int, JsonObject) Handle(string method, string path, Dictionary<string, string> query, string? contentType, string body, string authorization)
    {
        if (authorization != $"Bearer {Token}") return Status(401, "Unauthorized", "Unauthorized");
        if (Parse(path) is not { } target) return Status(404, "NotFound", "the server could not find the requested resource");
        if (Fault?.Invoke(method, path) is { } fault) return Status(fault.Code, fault.Reason, fault.Message);
        lock (_gate)
        {
            return method switch
            {
                "PATCH" => Patch(target, query, contentType, body),
                "DELETE" => Delete(target, query),
                "GET" => Objects.TryGetValue(target.Key, out var found) ? (200, (JsonObject)found.Object.DeepClone()) : NotFound(target),
                _ => Status(405, "MethodNotAllowed", $"the server does not allow this method on the requested resource"),
            };
        }
    }

    public sealed record Target(string Group, string Version, string Plural, string Kind, string? Namespace, string Name)
    {
        public string Key => $"{Group}/{Plural}/{Namespace}/{Name}";
        public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";
    }

    private static Target? Parse(string path)
    {
        var parts = path.Trim('/').Split('/');
        int i;
        string group, version;
        if (parts.Length >= 2 && parts[0] == "api") { group = ""; version = parts[1]; i = 2; }
        else if (parts.Length >= 3 && parts[0] == "apis") { group = parts[1]; version = parts[2]; i = 3; }
        else return null;
        string? ns = null;
        if (parts.Length - i == 4 && parts[i] == "namespaces") { ns = parts[i + 1]; i += 2; }
        if (parts.Length - i != 2) return null;
        if (!Resources.TryGetValue((group, version, parts[i]), out var resource)) return null;
        // A namespaced resource only under /namespaces/{ns}/, a cluster-scoped one never.
        if (resource.Namespaced != (ns is not null)) return null;
        return new Target(group, version, parts[i], resource.Kind, ns, Uri.UnescapeDataString(parts[i + 1]));
    }

    private (int, JsonObject) Patch(Target target, Dictionary<string, string> query, string? contentType, string body)
    {
        var type = (contentType ?? "").Split(';')[0].Trim();
        if (!PatchTypes.Contains(type))
            return Status(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: {string.Join(", ", PatchTypes)}");
        var apply = type == "application/apply-patch+yaml";
        var manager = query.GetValueOrDefault("fieldManager") ?? "";
        var causes = new List<(string Field, string Reason, string Message)>();
        if (!apply && query.ContainsKey("force")) causes.Add(("force", "FieldValueForbidden", "Forbidden: may not be specified for non-apply patch"));
        if (apply && manager.Length == 0) causes.Add(("fieldManager", "FieldValueRequired", "Required value: is required for apply patch"));
        if (manager.Length > 128) causes.Add(("fieldManager", "FieldValueTooLong", "Too long: may not be more than 128 bytes"));
        if (query.TryGetValue("dryRun", out var dry) && dry != "All") causes.Add(("dryRun", "FieldValueNotSupported", $"Unsupported value: \"{dry}\": supported values: \"All\""));
        if (causes.Count > 0)
            return Status(422, "Invalid", $"PatchOptions.meta.k8s.io \"\" is invalid: {string.Join(", ", causes.Select(c => $"{c.Field}: {c.Message}"))}",
                new JsonObject { ["group"] = "meta.k8s.io", ["kind"] = "PatchOptions", ["causes"] = new JsonArray(causes.Select(c => (JsonNode)new JsonObject { ["reason"] = c.Reason, ["message"] = c.Message, ["field"] = c.Field }).ToArray()) });
        if (!apply) return Status(400, "BadRequest", "this fake serves only server-side apply patches");
        JsonObject obj;
        try { obj = JsonNode.Parse(body) as JsonObject ?? throw new System.Text.Json.JsonException(); }
        catch (System.Text.Json.JsonException) { return Status(400, "BadRequest", "error decoding YAML: the body is not an object"); }
        var meta = obj["metadata"] as JsonObject;
        if ((string?)obj["apiVersion"] != target.ApiVersion || (string?)obj["kind"] != target.Kind)
            return Status(400, "BadRequest", $"the API version in the data ({(string?)obj["apiVersion"]}) does not match the expected API version ({target.ApiVersion})");
        if ((string?)meta?["name"] != target.Name)
            return Status(400, "BadRequest", $"the name of the object ({(string?)meta?["name"]}) does not match the name on the URL ({target.Name})");
        if (meta!["namespace"] is { } bodyNs && (string?)bodyNs != target.Namespace)
            return Status(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request");
        if (meta["managedFields"] is not null) return Status(400, "BadRequest", "metadata.managedFields must be nil");
        if (target.Namespace is not null && !Objects.ContainsKey($"/namespaces//{target.Namespace}"))
            return Status(404, "NotFound", $"namespaces \"{target.Namespace}\" not found", new JsonObject { ["name"] = target.Namespace, ["kind"] = "namespaces" });

        var force = query.GetValueOrDefault("force") == "true";
        var leaves = Leaves(obj).ToList();
        Objects.TryGetValue(target.Key, out var existing);
        var owners = existing is null ? new Dictionary<string, string>() : new Dictionary<string, string>(existing.Owners);
        if (existing is not null && !force)
        {
            var current = Leaves(existing.Object).ToDictionary(l => l.Path, l => l.Value);
            var conflicts = leaves.Where(l => owners.TryGetValue(l.Path, out var owner) && owner != manager && current.GetValueOrDefault(l.Path) != l.Value).ToList();
            if (conflicts.Count > 0)
                return Status(409, "Conflict", $"Apply failed with {conflicts.Count} conflict{(conflicts.Count == 1 ? "" : "s")}: {string.Join("; ", conflicts.Select(c => $"conflict with \"{owners[c.Path]}\": {c.Path}"))}",
                    new JsonObject { ["name"] = target.Name, ["group"] = target.Group, ["kind"] = target.Plural });
        }
        foreach (var leaf in leaves) owners[leaf.Path] = manager;
        var stored = (JsonObject)obj.DeepClone();
        if (dry is null) Objects[target.Key] = new Stored(target.Kind, stored, owners);
        return (existing is null ? 201 : 200, stored);
    }

    private (int, JsonObject) Delete(Target target, Dictionary<string, string> query)
    {
        if (query.TryGetValue("dryRun", out var dry) && dry != "All")
            return Status(422, "Invalid", $"DeleteOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: \"{dry}\": supported values: \"All\"");
        if (!Objects.Remove(target.Key, out var removed)) return NotFound(target);
        if (target.Kind == "Namespace")
            foreach (var key in Objects.Keys.Where(k => k.Split('/')[2] == target.Name).ToList()) Objects.Remove(key);
        return (200, removed.Object);
    }

    private static (int, JsonObject) NotFound(Target t) =>
        Status(404, "NotFound", $"{t.Plural}{(t.Group.Length == 0 ? "" : "." + t.Group)} \"{t.Name}\" not found",
            new JsonObject { ["name"] = t.Name, ["group"] = t.Group, ["kind"] = t.Plural });

    public static (int, JsonObject) Status(int code, string reason, string message, JsonObject? details = null) => (code, new JsonObject
    {
        ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["status"] = "Failure",
        ["message"] = message, ["reason"] = reason, ["details"] = details ?? new JsonObject(), ["code"] = code,
    });

    /// <summary>Every leaf of an object as (".a.b[0].c", value): the field set server-side apply tracks per manager.</summary>
    public static IEnumerable<(string Path, string Value)> Leaves(JsonNode? node, string path = "")
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (k, v) in o) foreach (var l in Leaves(v, $"{path}.{k}")) yield return l;
                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++) foreach (var l in Leaves(a[i], $"{path}[{i}]")) yield return l;
                break;
            default:
                yield return (path, node?.ToJsonString() ?? "null");
                break;
        }
    }
}
