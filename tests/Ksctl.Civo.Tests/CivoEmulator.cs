using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ksctl.Civo.Tests;

/// <summary>
/// An in-process Civo API v2 (Kubernetes clusters, regions) on 127.0.0.1 and a free port, speaking Civo's JSON:
/// bearer key check, <c>{"code","reason"}</c> errors, paginated lists. Clusters go BUILDING → ACTIVE after
/// <see cref="PollsToActive"/> GETs and DELETING → gone after <see cref="PollsToGone"/>. Faults: latency, the next N
/// requests failing with a status, or a fraction of them (429 carries Retry-After).
/// </summary>
public sealed partial class CivoEmulator : IAsyncDisposable
{
    public static readonly string[] Regions = ["LON1", "NYC1", "FRA1", "PHX1", "MUM1"];
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, Cluster> _clusters = new();
    private readonly object _faultLock = new();
    private double _faultCredit = 0.5;
    private int _faultIndex;
    private int _failNext;
    private int _failNextStatus;
    private double _faultFraction;
    private int _ipCounter = 10;

    public sealed class Cluster
    {
        public required string Id { get; init; }
        public required string Name { get; init; }
        public required string Region { get; init; }
        public required int Nodes { get; init; }
        public required string Size { get; init; }
        public required string Version { get; init; }
        public required string Cni { get; init; }
        public required string[] Applications { get; init; }
        public required string[] Tags { get; init; }
        public required string MasterIp { get; init; }
        public string Status { get; set; } = "BUILDING";
        public int Polls { get; set; }
    }

    public record Request(string Method, string Path, int Status);

    private CivoEmulator(string key)
    {
        Key = key;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.Use(async (ctx, next) =>
        {
            await HandleAsync(ctx, next);
            Requests.Enqueue(new Request(ctx.Request.Method, ctx.Request.Path + ctx.Request.QueryString, ctx.Response.StatusCode));
        });
        MapRoutes();
    }

    public static async Task<CivoEmulator> StartAsync(string key = "good-key")
    {
        var emulator = new CivoEmulator(key);
        await emulator._app.StartAsync();
        var address = emulator._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        emulator.BaseUrl = address.TrimEnd('/') + "/v2";
        return emulator;
    }

    public string Key { get; }
    public string BaseUrl { get; private set; } = "";
    public ConcurrentQueue<Request> Requests { get; } = new();
    /// <summary>The clusters that exist (not yet deleted), any status.</summary>
    public IReadOnlyList<Cluster> Inventory => _clusters.Values.OrderBy(c => c.Name).ToList();
    public int PollsToActive { get; set; } = 3;
    public int PollsToGone { get; set; } = 2;
    /// <summary>Keeps every cluster BUILDING (for cancel-while-waiting tests).</summary>
    public bool HoldBuilding { get; set; }
    public TimeSpan Latency { get; set; }
    public int RetryAfterSeconds { get; set; } = 1;
    public int[] FaultStatuses { get; set; } = [500, 429];
    /// <summary>The next POST of a cluster fails with this status and body instead of creating it.</summary>
    public (int Status, string Code, string Reason)? NextCreateError { get; set; }
    /// <summary>The next POST of a cluster creates it, then answers 500 (a lost response).</summary>
    public bool NextCreateAppliesThenFails { get; set; }

    public void FailNext(int count, int status)
    {
        lock (_faultLock) { _failNext = count; _failNextStatus = status; }
    }

    /// <summary>That fraction of the following requests fail (evenly spread, deterministic), cycling through <see cref="FaultStatuses"/>.</summary>
    public void FailFraction(double fraction)
    {
        lock (_faultLock) _faultFraction = fraction;
    }

    public int Count(string method, string pathPrefix) =>
        Requests.Count(r => r.Method == method && r.Path.StartsWith(pathPrefix, StringComparison.Ordinal));

    private async Task HandleAsync(HttpContext ctx, Func<Task> next)
    {
        if (Latency > TimeSpan.Zero)
        {
            // The request is received in full first: a client that gives up during the delay does not stop the work.
            ctx.Request.EnableBuffering();
            await ctx.Request.Body.CopyToAsync(Stream.Null);
            ctx.Request.Body.Position = 0;
            await Task.Delay(Latency);
        }
        int? fault = null;
        lock (_faultLock)
        {
            if (_failNext > 0) { _failNext--; fault = _failNextStatus; }
            else if (_faultFraction > 0 && (_faultCredit += _faultFraction) >= 1)
            {
                // Deterministic spread: exactly that fraction of requests fail, cycling through FaultStatuses.
                _faultCredit -= 1;
                fault = FaultStatuses[_faultIndex++ % FaultStatuses.Length];
            }
        }
        if (fault is { } status)
        {
            if (status is 429 or 503) ctx.Response.Headers.RetryAfter = RetryAfterSeconds.ToString();
            await Error(ctx, status, status == 429 ? "too_many_requests" : "internal_server_error",
                status == 429 ? "Rate limit exceeded, please slow down" : "An unexpected error occurred");
            return;
        }
        if (ctx.Request.Headers.Authorization.ToString() != $"Bearer {Key}")
        {
            await Error(ctx, 401, "authentication_failed", "Authentication failed: the API key is invalid");
            return;
        }
        await next();
    }

    private static Task Error(HttpContext ctx, int status, string code, string reason)
    {
        ctx.Response.StatusCode = status;
        return ctx.Response.WriteAsJsonAsync(new JsonObject { ["code"] = code, ["reason"] = reason });
    }

    private void MapRoutes()
    {
        var v2 = _app.MapGroup("/v2");
        MapMachineRoutes(v2);
        v2.MapGet("/regions", () => Results.Json(Regions.Select(r => new { code = r, name = r, @default = r == "LON1" })));
        v2.MapGet("/kubernetes/clusters", (HttpContext ctx) =>
        {
            var region = Region(ctx);
            var page = int.TryParse(ctx.Request.Query["page"], out var p) && p > 0 ? p : 1;
            var perPage = int.TryParse(ctx.Request.Query["per_page"], out var pp) && pp > 0 ? Math.Min(pp, 2) : 2; // tiny pages: pagination is exercised
            var all = _clusters.Values.Where(c => c.Region == region).OrderBy(c => c.Name).ToList();
            var pages = Math.Max(1, (all.Count + perPage - 1) / perPage);
            var items = all.Skip((page - 1) * perPage).Take(perPage).Select(Json).ToArray();
            return Results.Json(new JsonObject { ["page"] = page, ["per_page"] = perPage, ["pages"] = pages, ["items"] = new JsonArray(items) });
        });
        v2.MapGet("/kubernetes/clusters/{id}", (string id, HttpContext ctx) =>
        {
            if (!_clusters.TryGetValue(id, out var c) || c.Region != Region(ctx)) return NotFound();
            lock (c)
            {
                c.Polls++;
                if (c.Status == "BUILDING" && !HoldBuilding && c.Polls >= PollsToActive) c.Status = "ACTIVE";
                else if (c.Status == "DELETING" && c.Polls >= PollsToGone)
                {
                    _clusters.TryRemove(id, out _);
                    return NotFound();
                }
            }
            return Results.Json(Json(c));
        });
        v2.MapDelete("/kubernetes/clusters/{id}", (string id, HttpContext ctx) =>
        {
            if (!_clusters.TryGetValue(id, out var c) || c.Region != Region(ctx)) return NotFound();
            lock (c) { c.Status = "DELETING"; c.Polls = 0; }
            return Results.Json(new { result = "success" });
        });
        v2.MapPost("/kubernetes/clusters", async (HttpContext ctx) =>
        {
            var body = await JsonSerializer.DeserializeAsync<JsonObject>(ctx.Request.Body) ?? new JsonObject();
            if (NextCreateError is { } err)
            {
                NextCreateError = null;
                return Results.Json(new JsonObject { ["code"] = err.Code, ["reason"] = err.Reason }, statusCode: err.Status);
            }
            string? S(string name) => body[name]?.GetValue<string>();
            var name = S("name");
            var region = S("region") ?? "LON1";
            if (string.IsNullOrEmpty(name)) return Results.Json(new { code = "parameter_name_missing", reason = "The name parameter is required" }, statusCode: 400);
            if (!Regions.Contains(region)) return Results.Json(new { code = "region_not_found", reason = $"The region {region} was not found" }, statusCode: 404);
            if (_clusters.Values.Any(c => c.Name == name && c.Region == region))
                return Results.Json(new { code = "database_kubernetes_cluster_duplicate", reason = "A Kubernetes cluster with this name already exists" }, statusCode: 409);
            var size = S("target_nodes_size") ?? "g4s.kube.medium";
            if (!size.Contains(".kube.")) return Results.Json(new { code = "size_not_found", reason = $"The size {size} was not found" }, statusCode: 422);
            var n = Interlocked.Increment(ref _ipCounter);
            var cluster = new Cluster
            {
                Id = Guid.NewGuid().ToString(),
                Name = name,
                Region = region,
                Nodes = body["num_target_nodes"]?.GetValue<int>() ?? 3,
                Size = size,
                Version = S("kubernetes_version") ?? "1.30.5-k3s1",
                Cni = S("cni_plugin") ?? "flannel",
                Applications = (S("applications") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                Tags = (S("tags") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries),
                MasterIp = $"74.220.1.{n}",
            };
            _clusters[cluster.Id] = cluster;
            if (NextCreateAppliesThenFails)
            {
                NextCreateAppliesThenFails = false;
                return Results.Json(new { code = "internal_server_error", reason = "An unexpected error occurred" }, statusCode: 500);
            }
            return Results.Json(Json(cluster));
        });
    }

    private static string Region(HttpContext ctx) => ctx.Request.Query["region"].FirstOrDefault() ?? "LON1";

    private static IResult NotFound() =>
        Results.Json(new { code = "database_kubernetes_cluster_not_found", reason = "The requested Kubernetes cluster could not be found" }, statusCode: 404);

    private static JsonObject Json(Cluster c)
    {
        lock (c)
        {
            var active = c.Status == "ACTIVE";
            return new JsonObject
            {
                ["id"] = c.Id,
                ["name"] = c.Name,
                ["region"] = c.Region,
                ["status"] = c.Status,
                ["ready"] = active,
                ["num_target_nodes"] = c.Nodes,
                ["target_nodes_size"] = c.Size,
                ["kubernetes_version"] = c.Version,
                ["cni_plugin"] = c.Cni,
                ["tags"] = new JsonArray(c.Tags.Select(t => (JsonNode)JsonValue.Create(t)!).ToArray()),
                ["master_ip"] = active ? c.MasterIp : "",
                ["api_endpoint"] = active ? $"https://{c.MasterIp}:6443" : "",
                ["kubeconfig"] = active ? Kubeconfig(c) : null,
                ["installed_applications"] = new JsonArray(c.Applications.Select(a => (JsonNode)new JsonObject { ["application"] = a, ["installed"] = active }).ToArray()),
                ["instances"] = new JsonArray(Enumerable.Range(0, c.Nodes).Select(i => (JsonNode)new JsonObject
                {
                    ["id"] = $"{c.Id[..8]}-node-{i}",
                    ["hostname"] = $"k3s-{c.Name}-{c.Id[..4]}-node-pool-{i}",
                    ["size"] = c.Size,
                    ["status"] = active ? "ACTIVE" : "BUILDING",
                    ["public_ip"] = active ? $"74.220.2.{i + 1}" : "",
                }).ToArray()),
            };
        }
    }

    /// <summary>What Civo returns: a k3s kubeconfig whose cluster, user and context are all "default".</summary>
    private static string Kubeconfig(Cluster c) => $"""
        apiVersion: v1
        clusters:
        - cluster:
            certificate-authority-data: Q0EgREFUQQ==
            server: https://{c.MasterIp}:6443
          name: default
        contexts:
        - context:
            cluster: default
            user: default
          name: default
        current-context: default
        kind: Config
        preferences: {"{}"}
        users:
        - name: default
          user:
            client-certificate-data: Q0VSVCBEQVRB
            client-key-data: S0VZIERBVEE=
        """;

    public async ValueTask DisposeAsync()
    {
        await StopBootsAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
