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
/// An in-process Civo API v2 on 127.0.0.1 and a free port, as strict as the real one where Ksctl depends on it. Each
/// rule names its upstream source:
/// <list type="bullet">
/// <item>Bearer key on every request; errors as <c>{"code","reason"[,"details"]}</c> — civo.com/api ("Authentication",
/// "Parameters and responses") and civogo errors.go (decodeError joins reason and details).</item>
/// <item>Request budget: <c>X-RateLimit-Limit</c>, <c>-Remaining</c>, <c>-Reset</c> on every answer and 429 once the
/// budget of the window is used (issue #10 item 2 reports Civo's headers; Civo publishes no figure, so the budget is
/// <see cref="RateLimit"/> per <see cref="RateWindow"/>, a fixed window, and Reset is the window's end as Unix seconds,
/// the header's usual meaning). No Retry-After on a budget 429.</item>
/// <item>Ids are UUIDs (civogo's structs, civo.com/api examples); a path id of another shape is 404.</item>
/// <item>Nullable fields answered as null: <c>per_page</c>, firewall counts, network <c>default</c>, region
/// <c>out_of_capacity</c>, size <c>selectable</c>, cluster <c>ready</c> (issue #10 item 3; civogo decodes them into
/// zero values, so Civo is free to send null).</item>
/// <item>Kubernetes clusters (CivoEmulator.Kubernetes.cs): <c>network_id</c> required and must be a network of the
/// region (civogo KubernetesClusterConfig; civo Terraform provider resource_kubernetes_cluster.go sends the default
/// network when none is given); <c>instance_firewall</c> must be a firewall on that network (Terraform: "firewall … is
/// not part of network", civogo <c>database_firewall_mismatch</c>); <c>kubernetes_version</c> must be one of
/// GET /v2/kubernetes/versions (civogo <c>database_kubernetes_cluster_invalid_version</c>), omitted = the default one;
/// <c>applications</c> are marketplace names, <c>-Name</c> removes a default one (Terraform provider docs), an unknown
/// one is <c>database_kubernetes_application_not_found</c> (civogo).</item>
/// <item>Networks, firewalls, keys (CivoEmulator.Network.cs): firewall and SSH-key names unique per account, across
/// regions (issue #10 item 3; civogo <c>database_firewall_duplicate_name</c>, <c>database_ssh_key_duplicate_name</c>);
/// <c>create_rules</c> absent = Civo's open-everything rules (civogo firewall.go FirewallConfig); a network delete
/// while instances use it is <c>database_network_delete_with_instance</c>, lingering volumes
/// <c>database_network_inuse_by_volumes</c>, the default network <c>network_delete_default</c> (civogo errors.go); a
/// network asked for with a range wider than /24 is refused as over a new account's quota (issue #10 item 3: the
/// quota Ksctl's /16 hit; civo.com/api/quota counts subnets); without <c>cidr_v4</c> Civo picks a /24.</item>
/// <item>Instances and images (CivoEmulator.Machines.cs): <c>script</c> is returned in the instance (civogo
/// instance.go <c>Script</c>); disk images include GPU/CUDA/k3s variants beside plain <c>ubuntu-&lt;codename&gt;</c>
/// (Civo's image list); an instance can end in ERROR (civogo instance statuses).</item>
/// <item>Account: GET /v2/quota (civo.com/api/quota) is the account-scoped call.</item>
/// </list>
/// Faults on demand: latency, the next N requests failing with a status, or a fraction of them.
/// </summary>
public sealed partial class CivoEmulator : IAsyncDisposable
{
    public static readonly string[] Regions = ["LON1", "NYC1", "FRA1", "PHX1", "MUM1"];
    private readonly WebApplication _app;
    private readonly object _faultLock = new();
    private double _faultCredit = 0.5;
    private int _faultIndex;
    private int _failNext;
    private int _failNextStatus;
    private double _faultFraction;
    private int _ipCounter = 10;
    private readonly object _budgetLock = new();
    private DateTimeOffset _windowStart = DateTimeOffset.MinValue;
    private int _windowUsed;

    public record Request(string Method, string Path, int Status, DateTimeOffset At, DateTimeOffset? ResetAt);

    private CivoEmulator(string key)
    {
        Key = key;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.Use(async (ctx, next) =>
        {
            var at = DateTimeOffset.UtcNow;
            DateTimeOffset? reset = null;
            try
            {
                reset = await HandleAsync(ctx, next);
            }
            finally
            {
                // Also when the client went away before the answer (a lost response): the request was handled all the same.
                var request = new Request(ctx.Request.Method, ctx.Request.Path + ctx.Request.QueryString, ctx.Response.StatusCode, at, reset);
                Requests.Enqueue(request);
                OnAnswered?.Invoke(request);
            }
        });
        MapRoutes();
        MapNetworkRoutes(_app.MapGroup("/v2"));
        MapMachineRoutes(_app.MapGroup("/v2"));
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
    public TimeSpan Latency { get; set; }
    public int RetryAfterSeconds { get; set; } = 1;
    public int[] FaultStatuses { get; set; } = [500, 429];
    /// <summary>Requests allowed per <see cref="RateWindow"/> (per key, as Civo counts them).</summary>
    public int RateLimit { get; set; } = 300;
    public TimeSpan RateWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Starts a fresh budget window now. A test whose phases run seconds apart (fast test timings) would otherwise put a
    /// create's, a resize's and a delete's requests into one window that minutes of real polling spread over several.
    /// </summary>
    public void StartRateWindow()
    {
        lock (_budgetLock) { _windowStart = DateTimeOffset.UtcNow; _windowUsed = 0; }
    }
    /// <summary>Called when a request has been received in full (before it is answered): tests cancel or change things from here, not on a timer.</summary>
    public Action<HttpContext>? OnRequest { get; set; }
    /// <summary>Called once a request has been answered.</summary>
    public Action<Request>? OnAnswered { get; set; }

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

    /// <summary>Answers one request; returns the budget window's reset when the request was refused for the budget.</summary>
    private async Task<DateTimeOffset?> HandleAsync(HttpContext ctx, Func<Task> next)
    {
        // The request is received in full first: a client that gives up after sending it does not stop the work.
        ctx.Request.EnableBuffering();
        await ctx.Request.Body.CopyToAsync(Stream.Null);
        ctx.Request.Body.Position = 0;
        OnRequest?.Invoke(ctx);
        if (Latency > TimeSpan.Zero) await Task.Delay(Latency);
        // The budget: every request counts, and every answer says where the budget stands.
        bool over;
        DateTimeOffset reset;
        int remaining;
        lock (_budgetLock)
        {
            var now = DateTimeOffset.UtcNow;
            if (now >= _windowStart + RateWindow) { _windowStart = now; _windowUsed = 0; }
            _windowUsed++;
            over = _windowUsed > RateLimit;
            remaining = Math.Max(0, RateLimit - _windowUsed);
            reset = _windowStart + RateWindow;
        }
        ctx.Response.Headers["X-RateLimit-Limit"] = RateLimit.ToString();
        ctx.Response.Headers["X-RateLimit-Remaining"] = remaining.ToString();
        ctx.Response.Headers["X-RateLimit-Reset"] = ((long)Math.Ceiling(reset.ToUnixTimeMilliseconds() / 1000.0)).ToString();
        if (over)
        {
            await Error(ctx, 429, "too_many_requests", "Rate limit exceeded, please slow down");
            return reset;
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
            return null;
        }
        if (!string.Equals(ctx.Request.Headers.Authorization.ToString(), $"Bearer {Key}", StringComparison.OrdinalIgnoreCase))
        {
            await Error(ctx, 401, "authentication_failed", "Authentication failed: the API key is invalid");
            return null;
        }
        await next();
        return null;
    }

    private static Task Error(HttpContext ctx, int status, string code, string reason)
    {
        ctx.Response.StatusCode = status;
        return ctx.Response.WriteAsJsonAsync(new JsonObject { ["code"] = code, ["reason"] = reason });
    }

    private static IResult Fail(int status, string code, string reason, string? details = null)
    {
        var body = new JsonObject { ["code"] = code, ["reason"] = reason };
        if (details is not null) body["details"] = details;
        return Results.Json(body, statusCode: status);
    }

    private static string NewId() => Guid.NewGuid().ToString();

    /// <summary>A path id: only a UUID can name anything (Civo's router answers 404 otherwise).</summary>
    private static bool IsId(string id) => id.Length == 36 && Guid.TryParseExact(id, "D", out _);

    private static async Task<JsonObject> BodyAsync(HttpContext ctx) =>
        await JsonSerializer.DeserializeAsync<JsonObject>(ctx.Request.Body) ?? new JsonObject();

    private static string? Str(JsonObject body, string name) => body[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static string Region(HttpContext ctx) => ctx.Request.Query["region"].FirstOrDefault() ?? "LON1";

    private static JsonArray Array<T>(IEnumerable<T> items) where T : JsonNode => new(items.Select(i => (JsonNode)i).ToArray());

    /// <summary>A page of a list: <c>per_page</c> answered as null, as Civo may.</summary>
    private static JsonObject Page(HttpContext ctx, IReadOnlyList<JsonObject> all, int maxPerPage)
    {
        var page = int.TryParse(ctx.Request.Query["page"], out var p) && p > 0 ? p : 1;
        var perPage = int.TryParse(ctx.Request.Query["per_page"], out var pp) && pp > 0 ? Math.Min(pp, maxPerPage) : maxPerPage;
        var pages = Math.Max(1, (all.Count + perPage - 1) / perPage);
        return new JsonObject { ["page"] = page, ["per_page"] = null, ["pages"] = pages, ["items"] = Array(all.Skip((page - 1) * perPage).Take(perPage)) };
    }

    private void MapRoutes()
    {
        var v2 = _app.MapGroup("/v2");
        v2.MapGet("/regions", () => Results.Json(Array(Regions.Select(r => new JsonObject
        {
            ["code"] = r, ["name"] = r, ["default"] = r == "LON1", ["out_of_capacity"] = null,
        }))));
        v2.MapGet("/quota", () => Results.Json(new JsonObject
        {
            ["id"] = "44aab548-61ca-11e5-860e-5cf9389be614", ["instance_count_limit"] = 16, ["instance_count_usage"] = _instances.Count,
            ["network_count_limit"] = 10, ["network_count_usage"] = _networks.Count + 1, ["security_group_limit"] = 16, ["security_group_usage"] = _firewalls.Count,
        }));
        MapKubernetesRoutes(v2);
        MapPoolRoutes(v2);
    }

    public async ValueTask DisposeAsync()
    {
        await StopBootsAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
