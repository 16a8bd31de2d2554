using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Ksctl.Gcp.Tests;

/// <summary>
/// Compute Engine API v1 (compute/v1/compute-api.json): projects.get, regions.get/list, zones.get, machineTypes.list,
/// images.getFromFamily (the public ubuntu-os-cloud project), and insert/get/delete of networks, subnetworks, firewalls
/// and instances. Every insert and delete answers an Operation (kind compute#operation, status PENDING → RUNNING →
/// DONE after <see cref="PollsToComplete"/> reads, progress, selfLink, targetLink; a failed one ends DONE with
/// error.errors[{code,message}], httpErrorStatusCode). A repeated requestId answers the operation it started the first
/// time and changes nothing, for <see cref="RequestIdMemory"/> (60 minutes) after the first request; later the same
/// requestId is a new request. Names and bodies are checked in GcpEmulator.ComputeRules.cs.
/// </summary>
public sealed partial class GcpEmulator
{
    public sealed class Resource
    {
        public required string Kind { get; init; }
        public required string Path { get; init; }
        public required JsonObject Body { get; set; }
        public string? PendingOperation { get; set; }
        public string Name => Path[(Path.LastIndexOf('/') + 1)..];
        public string? Label(string key) => Body["labels"]?[key]?.GetValue<string>();
    }

    private sealed class Operation
    {
        public required string Name { get; init; }
        public required string Scope { get; init; }
        public required string Type { get; init; }
        public required string Target { get; init; }
        public int Polls { get; set; }
        public string Status { get; set; } = "PENDING";
        public (string Code, string Message)? Error { get; set; }
        public required Action<Operation> Complete { get; init; }
        /// <summary>Slow side effects of completing (booting or resetting a test machine), run by the request that completed it after the gate is released.</summary>
        public List<Action> After { get; } = [];

        public Action[] TakeAfter()
        {
            var after = After.ToArray();
            After.Clear();
            return after;
        }
    }

    private readonly Dictionary<string, Resource> _resources = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Operation> _operations = new(StringComparer.Ordinal);
    private readonly ConcurrentCounter _creates = new();
    private readonly List<(string Kind, string Code, string Message)> _operationFailures = [];
    private readonly List<string> _lostAnswers = [];
    private int _operationCounter;

    public int PollsToComplete { get; set; } = 2;
    /// <summary>Inserts and deletes sent without a requestId (the provider must send one on every insert).</summary>
    public int WithoutRequestId { get; private set; }
    /// <summary>Inserts answered with the operation of an earlier request with the same requestId.</summary>
    public int RepeatedRequestIds { get; private set; }
    public IReadOnlyList<Resource> Inventory { get { lock (_gate) return _resources.Values.OrderBy(r => r.Path, StringComparer.Ordinal).ToList(); } }
    /// <summary>How many times each resource path was created.</summary>
    public IReadOnlyDictionary<string, int> Creates => _creates.Snapshot();
    /// <summary>Called when an insert of a kind ("instances") is applied: lets a test cancel mid-create.</summary>
    public Action<string, string>? OnInsert { get; set; }

    /// <summary>The next insert of that kind ("instances") is accepted, then its operation ends DONE with this error and nothing is created.</summary>
    public void FailNextOperation(string kind, string code, string message)
    {
        lock (_gate) _operationFailures.Add((kind, code, message));
    }

    /// <summary>The next insert of that kind is applied, but the connection is dropped before the answer (the client cannot know).</summary>
    public void LoseNextInsertAnswer(string kind)
    {
        lock (_gate) _lostAnswers.Add(kind);
    }

    private async Task ComputeAsync(HttpContext ctx, ServiceAccount account, string[] s)
    {
        var method = ctx.Request.Method;
        if (s.Length < 2 || s[0] != "projects") { await NotFound(ctx, string.Join('/', s)); return; }
        var project = s[1];
        // Canonical's public images: readable by everyone (cloud.google.com/compute/docs/images#os-compute-support).
        if (project == "ubuntu-os-cloud" && method == "GET" && s.Length == 6 && s[2] == "global" && s[3] == "images" && s[4] == "family")
        {
            if (s[5] != UbuntuFamily) { await NotFound(ctx, string.Join('/', s)); return; }
            await Json(ctx, 200, UbuntuImage());
            return;
        }
        if (await ForbiddenAsync(ctx, account, project, method == "GET" ? "compute.projects.get" : "compute.instances.create")) return;
        if (s.Length == 2 && method == "GET") { await Json(ctx, 200, new JsonObject { ["kind"] = "compute#project", ["name"] = project, ["id"] = "4815162342" }); return; }
        if (s.Length == 4 && s[2] == "aggregated" && s[3] == "instances" && method == "GET") { await AggregatedInstancesAsync(ctx, project); return; }
        if (await CatalogAsync(ctx, project, s)) return;
        // projects/p/{global | regions/r | zones/z}/{collection}[/{name}]
        var (scope, rest) = s[2] == "global" ? (string.Join('/', s[..3]), s[3..]) : s.Length >= 4 && s[2] is "regions" or "zones" ? (string.Join('/', s[..4]), s[4..]) : (null, Array.Empty<string>());
        if (scope is null || rest.Length == 0) { await NotFound(ctx, string.Join('/', s)); return; }
        if (rest[0] == "operations" && rest.Length == 2 && method == "GET") { await GetOperationAsync(ctx, scope + "/operations/" + rest[1]); return; }
        var kind = rest[0];
        if (!Collections.TryGetValue(kind, out var where) || !scope.Contains(where, StringComparison.Ordinal)) { await NotFound(ctx, string.Join('/', s)); return; }
        if (rest.Length == 1 && method == "POST") { await InsertAsync(ctx, project, scope, kind); return; }
        if (rest.Length == 1 && method == "GET") { await ListAsync(ctx, scope + "/" + kind); return; }
        if (rest.Length != 2) { await NotFound(ctx, string.Join('/', s)); return; }
        var path = $"{scope}/{kind}/{rest[1]}";
        switch (method)
        {
            case "GET": await GetAsync(ctx, path); break;
            case "DELETE": await DeleteAsync(ctx, path); break;
            default: await Error(ctx, 405, "httpMethodNotAllowed", "INVALID_ARGUMENT", $"{method} is not allowed on {path}."); break;
        }
    }

    /// <summary>The collections and the scope each lives in.</summary>
    private static readonly Dictionary<string, string> Collections = new()
    {
        ["networks"] = "/global", ["firewalls"] = "/global", ["subnetworks"] = "/regions/", ["instances"] = "/zones/",
    };

    private async Task InsertAsync(HttpContext ctx, string project, string scope, string kind)
    {
        var requestId = ctx.Request.Query["requestId"].ToString();
        if (requestId.Length == 0) WithoutRequestId++;
        else if (!Guid.TryParse(requestId, out var g) || g == Guid.Empty)
        {
            await Error(ctx, 400, "invalid", "INVALID_ARGUMENT", $"Invalid value for field 'requestId': '{requestId}'. The request ID must be a valid UUID with the exception that zero UUID is not supported (00000000-0000-0000-0000-000000000000).");
            return;
        }
        JsonObject? body;
        try { body = await JsonNode.ParseAsync(ctx.Request.Body) as JsonObject; }
        catch (System.Text.Json.JsonException) { body = null; }
        if (body is null) { await Error(ctx, 400, "parseError", "INVALID_ARGUMENT", "Invalid JSON payload received."); return; }
        Operation op;
        bool lose;
        (int Status, string Reason, string Rpc, string Message)? refused = null;
        lock (_gate)
        {
            if (RememberedRequest(requestId, out var earlier))
            {
                RepeatedRequestIds++;
                op = _operations[earlier];
                lose = false;
            }
            else
            {
                ApplyAlteration(kind, body);
                var name = body["name"] is JsonValue v && v.TryGetValue<string>(out var n) ? n : null;
                var path = $"{scope}/{kind}/{name}";
                var violation = CheckName(name) ?? CheckBody(project, scope, kind, body);
                if (violation is null && _resources.ContainsKey(path))
                    violation = (409, "alreadyExists", "ALREADY_EXISTS", $"The resource '{path}' already exists");
                if (violation is { } v2) { op = null!; lose = false; refused = v2; }
                else
                {
                    Complete(kind, body, project, scope);
                    var resource = new Resource { Kind = kind, Path = path, Body = body };
                    _resources[path] = resource;
                    _creates.Add(path);
                    var failure = _operationFailures.FindIndex(f => f.Kind == kind);
                    (string, string)? error = null;
                    if (failure >= 0) { error = (_operationFailures[failure].Code, _operationFailures[failure].Message); _operationFailures.RemoveAt(failure); }
                    op = NewOperation(scope, "insert", path, o => FinishInsert(o, resource));
                    op.Error = error;
                    resource.PendingOperation = op.Name;
                    if (requestId.Length > 0) _requestIds[requestId] = (op.Name, Clock.GetUtcNow());
                    lose = _lostAnswers.Remove(kind);
                    if (kind == "firewalls") EnforceFirewalls();
                }
            }
        }
        if (refused is { } e) { await Error(ctx, e.Status, e.Reason, e.Rpc, e.Message); return; }
        OnInsert?.Invoke(kind, op.Target);
        if (lose) { ctx.Abort(); return; }
        await Json(ctx, 200, OperationJson(op));
    }

    private Operation NewOperation(string scope, string type, string target, Action<Operation> complete)
    {
        var op = new Operation
        {
            Name = $"operation-{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}-{Interlocked.Increment(ref _operationCounter):x6}",
            Scope = scope, Type = type, Target = target, Complete = complete,
        };
        _operations[op.Name] = op;
        return op;
    }

    /// <summary>One read of an operation (or of its target) moves it on: PENDING → RUNNING → … → DONE.</summary>
    private void Advance(Operation op)
    {
        if (op.Status == "DONE") return;
        op.Polls++;
        if (op.Polls >= PollsToComplete) { op.Status = "DONE"; op.Complete(op); }
        else op.Status = "RUNNING";
    }

    private void FinishInsert(Operation op, Resource resource)
    {
        resource.PendingOperation = null;
        if (op.Error is not null)
        {
            _resources.Remove(resource.Path);
            if (resource.Kind == "firewalls") EnforceFirewalls();
            return;
        }
        // Booting a machine takes a while: outside the gate, so instances boot in parallel as on Compute.
        if (resource.Kind == "instances") op.After.Add(() => BootInstance(resource));
    }

    private async Task GetOperationAsync(HttpContext ctx, string path)
    {
        JsonObject json;
        Action[] after = [];
        lock (_gate)
        {
            var name = path[(path.LastIndexOf('/') + 1)..];
            if (!_operations.TryGetValue(name, out var op) || !path.StartsWith(op.Scope + "/", StringComparison.Ordinal)) { json = null!; }
            else { Advance(op); json = OperationJson(op); after = op.TakeAfter(); }
        }
        // The answer (DONE) leaves only once the machine is booted or reset.
        foreach (var action in after) action();
        if (json is null) { await NotFound(ctx, path); return; }
        await Json(ctx, 200, json);
    }

    private JsonObject OperationJson(Operation op)
    {
        var json = new JsonObject
        {
            ["kind"] = "compute#operation",
            ["id"] = Math.Abs(op.Name.GetHashCode()).ToString(),
            ["name"] = op.Name,
            ["operationType"] = op.Type,
            ["targetLink"] = new Uri(ComputeUrl, op.Target).ToString(),
            ["status"] = op.Status,
            ["progress"] = op.Status == "DONE" ? 100 : op.Status == "RUNNING" ? 50 : 0,
            ["insertTime"] = DateTimeOffset.UtcNow.ToString("o"),
            ["selfLink"] = new Uri(ComputeUrl, op.Scope + "/operations/" + op.Name).ToString(),
        };
        var parts = op.Scope.Split('/');
        if (parts.Length == 4) json[parts[2] == "zones" ? "zone" : "region"] = new Uri(ComputeUrl, op.Scope).ToString();
        if (op.Status == "DONE" && op.Error is { } e)
        {
            json["error"] = new JsonObject { ["errors"] = new JsonArray(new JsonObject { ["code"] = e.Code, ["message"] = e.Message }) };
            json["httpErrorStatusCode"] = 403;
            json["httpErrorMessage"] = "FORBIDDEN";
        }
        return json;
    }

    private async Task GetAsync(HttpContext ctx, string path)
    {
        JsonObject? json = null;
        Action[] after = [];
        Resource? found = null;
        lock (_gate)
        {
            if (_resources.TryGetValue(path, out var r))
            {
                if (r.PendingOperation is { } p && _operations.TryGetValue(p, out var op)) { Advance(op); after = op.TakeAfter(); }
                if (_resources.ContainsKey(path)) found = r;
            }
        }
        foreach (var action in after) action();
        if (found is not null) lock (_gate) if (_resources.ContainsKey(path)) json = Present(found);
        if (json is null) { await NotFound(ctx, path); return; }
        await Json(ctx, 200, json);
    }

    private async Task ListAsync(HttpContext ctx, string prefix)
    {
        JsonArray items;
        lock (_gate) items = new JsonArray(_resources.Values.Where(r => r.Path.StartsWith(prefix + "/", StringComparison.Ordinal)).Select(r => (JsonNode)Present(r)).ToArray());
        await Json(ctx, 200, new JsonObject { ["kind"] = "compute#list", ["items"] = items });
    }

    private async Task DeleteAsync(HttpContext ctx, string path)
    {
        var requestId = ctx.Request.Query["requestId"].ToString();
        if (requestId.Length == 0) WithoutRequestId++;
        JsonObject? json = null;
        (int, string, string, string)? error = null;
        lock (_gate)
        {
            if (RememberedRequest(requestId, out var earlier)) json = OperationJson(_operations[earlier]);
            else if (!_resources.TryGetValue(path, out var r)) error = (404, "notFound", "NOT_FOUND", $"The resource '{path}' was not found");
            else if (UsedBy(r) is { } user)
                error = (400, "resourceInUseByAnotherResource", "FAILED_PRECONDITION", $"The {r.Kind.TrimEnd('s').Replace("subnetwork", "subnetwork")} resource '{path}' is already being used by '{user}'");
            else
            {
                var scope = path[..path.IndexOf("/" + r.Kind + "/", StringComparison.Ordinal)];
                var op = NewOperation(scope, "delete", path, o =>
                {
                    _resources.Remove(path);
                    if (r.Kind == "firewalls") EnforceFirewalls();
                    if (r.Kind == "instances") { ForgetFirewall(path); o.After.Add(() => InstanceReleaser?.Invoke(r.Name)); }
                });
                if (requestId.Length > 0) _requestIds[requestId] = (op.Name, Clock.GetUtcNow());
                json = OperationJson(op);
            }
        }
        if (error is { } e) { await Error(ctx, e.Item1, e.Item2, e.Item3, e.Item4); return; }
        await Json(ctx, 200, json!);
    }

    private static Task NotFound(HttpContext ctx, string path) => Error(ctx, 404, "notFound", "NOT_FOUND", $"The resource '{path}' was not found");

    /// <summary>A thread-safe count per key.</summary>
    private sealed class ConcurrentCounter
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);
        public void Add(string key) => _counts.AddOrUpdate(key, 1, (_, n) => n + 1);
        public IReadOnlyDictionary<string, int> Snapshot() => new Dictionary<string, int>(_counts);
    }
}
