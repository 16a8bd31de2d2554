using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace Ksctl.Gcp.Tests;

/// <summary>
/// Source: the GKE API v1 discovery document (container/v1/container-api.json) and googleapis
/// google/container/v1/cluster_service.proto. GKE API v1:
/// projects.locations.clusters create/get/delete, nodePools.setSize, operations.get. Rules: the body of create is
/// exactly { cluster } (unknown fields: 400 "Invalid JSON payload received. Unknown name"), no query parameters but the
/// system ones (alt, fields, prettyPrint: an unknown one "Cannot bind query parameter"); Cluster.name "must be at most 40
/// characters … lowercase letters, numbers, and hyphens; start with a letter, end with a number or a letter";
/// initial_node_count must be zero when node_pools are given; every node pool has a name and a positive
/// initialNodeCount and a known machine type; workloadIdentityConfig.workloadPool must be PROJECT.svc.id.goog, and a
/// node pool with workloadMetadataConfig GKE_METADATA needs Workload Identity on the cluster; the location is a
/// known region or zone. Errors are google.rpc.Status bodies { error: { code, message, status } }. A cluster is
/// PROVISIONING until its CREATE_CLUSTER operation is DONE (<see cref="PollsToComplete"/> reads), then RUNNING with an
/// endpoint and masterAuth.clusterCaCertificate (base64 PEM); delete goes STOPPING then away.
/// </summary>
public sealed partial class GcpEmulator
{
    private static readonly Regex GkeName = new("^[a-z]([-a-z0-9]{0,38}[a-z0-9])?\\z");
    private static readonly string[] SystemParameters = ["alt", "fields", "prettyPrint", "$fields", "$alt"];
    private readonly Dictionary<string, JsonObject> _clusters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Operation> _gkeOperations = new(StringComparer.Ordinal);
    private int _endpointCounter = 10;

    public IReadOnlyDictionary<string, JsonObject> Clusters { get { lock (_gate) return new Dictionary<string, JsonObject>(_clusters); } }
    /// <summary>The next cluster create is applied but its answer is lost.</summary>
    public bool LoseNextClusterCreateAnswer { get; set; }
    public int ClusterCreates { get; private set; }

    private static Task GkeError(HttpContext ctx, int code, string status, string message) =>
        Json(ctx, code, new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message, ["status"] = status } });

    private async Task ContainerAsync(HttpContext ctx, ServiceAccount account, string[] s)
    {
        if (ctx.Request.Query.Keys.FirstOrDefault(k => !SystemParameters.Contains(k)) is { } unknown)
        {
            await GkeError(ctx, 400, "INVALID_ARGUMENT", $"Invalid JSON payload received. Unknown name \"{unknown}\": Cannot bind query parameter. Field '{unknown}' could not be found in request message.");
            return;
        }
        // projects/{p}/locations/{l}/{clusters|operations}[/{name}[/nodePools/{np}:setSize]]
        if (s.Length < 5 || s[0] != "projects" || s[2] != "locations") { await GkeError(ctx, 404, "NOT_FOUND", "Not found."); return; }
        var (project, location) = (s[1], s[3]);
        if (account.Project != project) { await GkeError(ctx, 403, "PERMISSION_DENIED", $"Required \"container.clusters.create\" permission(s) for \"projects/{project}\"."); return; }
        if (!Zones.ContainsKey(location) && !Zones.Values.Any(z => z.Contains(location))) { await GkeError(ctx, 400, "INVALID_ARGUMENT", $"Location \"{location}\" is not a valid GKE location."); return; }
        var method = ctx.Request.Method;
        var prefix = string.Join('/', s[..4]);
        if (s[4] == "operations" && s.Length == 6 && method == "GET") { await GkeOperationAsync(ctx, prefix, s[5]); return; }
        if (s[4] != "clusters") { await GkeError(ctx, 404, "NOT_FOUND", "Not found."); return; }
        if (s.Length == 5 && method == "POST") { await CreateClusterAsync(ctx, project, location, prefix); return; }
        if (s.Length < 6) { await GkeError(ctx, 405, "INVALID_ARGUMENT", "Method not allowed."); return; }
        var path = $"{prefix}/clusters/{s[5]}";
        if (s.Length == 8 && s[6] == "nodePools" && s[7].EndsWith(":setSize", StringComparison.Ordinal) && method == "POST")
        {
            await SetSizeAsync(ctx, prefix, path, s[7][..^":setSize".Length]);
            return;
        }
        JsonObject? cluster;
        lock (_gate)
        {
            // GKE works on without being watched: reading the cluster moves its pending operation on too.
            foreach (var pending in _gkeOperations.Values.Where(o => o.Target == path && o.Status != "DONE").ToList()) Advance(pending);
            cluster = _clusters.GetValueOrDefault(path)?.DeepClone().AsObject();
        }
        if (cluster is null) { await GkeError(ctx, 404, "NOT_FOUND", $"Not found: {path}."); return; }
        if (s.Length == 6 && method == "GET") { await Json(ctx, 200, cluster); return; }
        if (s.Length == 6 && method == "DELETE")
        {
            JsonObject op;
            lock (_gate)
            {
                _clusters[path]["status"] = "STOPPING";
                op = GkeOperationJson(NewGkeOperation(prefix, "DELETE_CLUSTER", path, _ => _clusters.Remove(path)));
            }
            await Json(ctx, 200, op);
            return;
        }
        await GkeError(ctx, 405, "INVALID_ARGUMENT", "Method not allowed.");
    }

    private async Task CreateClusterAsync(HttpContext ctx, string project, string location, string prefix)
    {
        JsonObject? body;
        try { body = await JsonNode.ParseAsync(ctx.Request.Body) as JsonObject; }
        catch (System.Text.Json.JsonException) { body = null; }
        var extra = body?.Select(kv => kv.Key).FirstOrDefault(k => k != "cluster");
        if (body is null || extra is not null)
        {
            await GkeError(ctx, 400, "INVALID_ARGUMENT", $"Invalid JSON payload received. Unknown name \"{extra}\".");
            return;
        }
        if (body["cluster"] is not JsonObject cluster) { await GkeError(ctx, 400, "INVALID_ARGUMENT", "Cluster is required."); return; }
        var name = cluster["name"] is JsonValue nv && nv.TryGetValue<string>(out var n) ? n : "";
        var why = !GkeName.IsMatch(name) ? $"Cluster name \"{name}\" is invalid: must be at most 40 characters, lowercase letters, numbers and hyphens, start with a letter and end with a number or a letter."
            : CheckCluster(project, cluster);
        if (why is not null) { await GkeError(ctx, 400, "INVALID_ARGUMENT", why); return; }
        var path = $"{prefix}/clusters/{name}";
        JsonObject op;
        lock (_gate)
        {
            if (_clusters.ContainsKey(path)) op = null!;
            else
            {
                ClusterCreates++;
                cluster["status"] = "PROVISIONING";
                cluster["location"] = location;
                cluster["selfLink"] = new Uri(ContainerUrl, path).ToString();
                cluster["createTime"] = DateTimeOffset.UtcNow.ToString("o");
                _clusters[path] = cluster;
                op = GkeOperationJson(NewGkeOperation(prefix, "CREATE_CLUSTER", path, _ => Provisioned(cluster)));
            }
        }
        if (op is null) { await GkeError(ctx, 409, "ALREADY_EXISTS", $"Already exists: {path}."); return; }
        if (LoseNextClusterCreateAnswer) { LoseNextClusterCreateAnswer = false; ctx.Abort(); return; }
        await Json(ctx, 200, op);
    }

    private string? CheckCluster(string project, JsonObject cluster)
    {
        if (cluster["nodePools"] is not JsonArray { Count: > 0 } pools) return "Cluster.node_pools or initial_node_count is required.";
        if (cluster["initialNodeCount"] is JsonValue inc && inc.GetValue<int>() != 0) return "Cluster.initial_node_count must be zero if node_pools are specified.";
        var pool = cluster["workloadIdentityConfig"]?["workloadPool"]?.GetValue<string>();
        if (pool is not null && pool != $"{project}.svc.id.goog") return $"Workload pool \"{pool}\" is invalid; it must be \"{project}.svc.id.goog\".";
        foreach (var p in pools.OfType<JsonObject>())
        {
            if (p["name"] is not JsonValue pn || !GkeName.IsMatch(pn.GetValue<string>())) return "NodePool.name is invalid.";
            if (p["initialNodeCount"] is not JsonValue c || c.GetValue<int>() < 1) return "NodePool.initial_node_count must be positive.";
            var type = p["config"]?["machineType"]?.GetValue<string>();
            if (type is not null && !MachineTypes.Contains(type)) return $"Machine type \"{type}\" is not available.";
            if (p["config"]?["workloadMetadataConfig"]?["mode"]?.GetValue<string>() == "GKE_METADATA" && pool is null)
                return "Workload Identity must be enabled on the cluster to use the GKE metadata server on node pools.";
        }
        foreach (var (k, v) in cluster["resourceLabels"] as JsonObject ?? [])
            if (!LabelKey.IsMatch(k) || !LabelValue.IsMatch(v?.GetValue<string>() ?? "")) return $"Label \"{k}\" is invalid.";
        return null;
    }

    private void Provisioned(JsonObject cluster)
    {
        cluster["status"] = "RUNNING";
        cluster["endpoint"] = $"34.118.0.{_endpointCounter++}";
        cluster["currentMasterVersion"] = cluster["initialClusterVersion"]?.GetValue<string>() is { } v ? v + ".5-gke.1000" : "1.33.5-gke.1201000";
        cluster["masterAuth"] = new JsonObject { ["clusterCaCertificate"] = Convert.ToBase64String(Encoding.ASCII.GetBytes(ClusterCa())) };
        foreach (var p in (cluster["nodePools"] as JsonArray)!.OfType<JsonObject>()) p["status"] = "RUNNING";
    }

    private static string ClusterCa()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=emulated GKE cluster CA", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddYears(1));
        return cert.ExportCertificatePem();
    }

    private async Task SetSizeAsync(HttpContext ctx, string prefix, string path, string pool)
    {
        JsonObject? body;
        try { body = await JsonNode.ParseAsync(ctx.Request.Body) as JsonObject; }
        catch (System.Text.Json.JsonException) { body = null; }
        if (body?["nodeCount"] is not JsonValue nc || !nc.TryGetValue<int>(out var count) || count < 0)
        {
            await GkeError(ctx, 400, "INVALID_ARGUMENT", "SetNodePoolSizeRequest.node_count is required and must not be negative.");
            return;
        }
        JsonObject? op = null;
        lock (_gate)
        {
            var target = _clusters.GetValueOrDefault(path)?["nodePools"]?.AsArray().OfType<JsonObject>().FirstOrDefault(p => p["name"]?.GetValue<string>() == pool);
            if (target is not null)
                op = GkeOperationJson(NewGkeOperation(prefix, "SET_NODE_POOL_SIZE", path + "/nodePools/" + pool, _ => target["initialNodeCount"] = count));
        }
        if (op is null) { await GkeError(ctx, 404, "NOT_FOUND", $"Not found: {path}/nodePools/{pool}."); return; }
        await Json(ctx, 200, op);
    }

    private Operation NewGkeOperation(string scope, string type, string target, Action<Operation> complete)
    {
        var op = new Operation { Name = $"operation-{Interlocked.Increment(ref _operationCounter)}-{Guid.NewGuid():N}"[..40], Scope = scope, Type = type, Target = target, Complete = complete };
        _gkeOperations[op.Name] = op;
        return op;
    }

    private async Task GkeOperationAsync(HttpContext ctx, string prefix, string name)
    {
        JsonObject? json = null;
        lock (_gate)
        {
            if (_gkeOperations.TryGetValue(name, out var op) && op.Scope == prefix) { Advance(op); json = GkeOperationJson(op); }
        }
        if (json is null) { await GkeError(ctx, 404, "NOT_FOUND", $"Not found: operation {name}."); return; }
        await Json(ctx, 200, json);
    }

    private JsonObject GkeOperationJson(Operation op) => new()
    {
        ["name"] = op.Name,
        ["operationType"] = op.Type,
        ["status"] = op.Status,
        ["selfLink"] = new Uri(ContainerUrl, op.Scope + "/operations/" + op.Name).ToString(),
        ["targetLink"] = new Uri(ContainerUrl, op.Target).ToString(),
        ["location"] = op.Scope[(op.Scope.LastIndexOf('/') + 1)..],
        ["startTime"] = DateTimeOffset.UtcNow.ToString("o"),
    };
}
