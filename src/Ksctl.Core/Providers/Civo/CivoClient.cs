using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Ksctl.Core.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Civo;

/// <summary>A Civo Kubernetes cluster as the v2 API returns it (only the fields Ksctl reads).</summary>
internal sealed class CivoCluster
{
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("status")] public string? Status { get; set; }
    [JsonPropertyName("kubeconfig")] public string? Kubeconfig { get; set; }
    [JsonPropertyName("master_ip")] public string? MasterIp { get; set; }
    [JsonPropertyName("api_endpoint")] public string? ApiEndpoint { get; set; }
    [JsonPropertyName("kubernetes_version")] public string? KubernetesVersion { get; set; }
    [JsonPropertyName("tags")] public List<string>? Tags { get; set; }
    [JsonPropertyName("instances")] public List<CivoInstance>? Instances { get; set; }
}

internal sealed class CivoInstance
{
    [JsonPropertyName("id")] public string? Id { get; set; }
    [JsonPropertyName("hostname")] public string? Hostname { get; set; }
    [JsonPropertyName("size")] public string? Size { get; set; }
    [JsonPropertyName("public_ip")] public string? PublicIp { get; set; }
    [JsonPropertyName("private_ip")] public string? PrivateIp { get; set; }
    [JsonPropertyName("status")] public string? Status { get; set; }
}

/// <summary>The body of POST /v2/kubernetes/clusters (civogo's KubernetesClusterConfig).</summary>
internal sealed class CivoClusterRequest
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("region")] public required string Region { get; init; }
    [JsonPropertyName("num_target_nodes")] public required int NumTargetNodes { get; init; }
    [JsonPropertyName("target_nodes_size")] public required string TargetNodesSize { get; init; }
    [JsonPropertyName("kubernetes_version")] public required string KubernetesVersion { get; init; }
    [JsonPropertyName("cni_plugin")] public required string CniPlugin { get; init; }
    /// <summary>Comma-separated marketplace application names, as Civo takes them.</summary>
    [JsonPropertyName("applications")] public string? Applications { get; init; }
    /// <summary>Space-separated tags.</summary>
    [JsonPropertyName("tags")] public string? Tags { get; init; }
}

internal sealed class CivoPage<T>
{
    [JsonPropertyName("page")] public int Page { get; set; }
    [JsonPropertyName("per_page")] public int PerPage { get; set; }
    [JsonPropertyName("pages")] public int Pages { get; set; }
    [JsonPropertyName("items")] public List<T>? Items { get; set; }
}

/// <summary>A 5xx or a lost connection on a request that may have been applied (a POST): the caller decides how to recover.</summary>
internal sealed class CivoTransientException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Civo's REST API v2 over HttpClient: bearer key, JSON bodies, its <c>{"code","reason"}</c> errors surfaced verbatim,
/// page-by-page listing, and retries with jittered backoff on 429/5xx honouring Retry-After. The key is never logged.
/// </summary>
internal sealed partial class CivoClient
{
    public const string UrlVariable = "CIVO_API_URL";
    public const string DefaultUrl = "https://api.civo.com/v2";
    private const int MaxAttempts = 8;
    private static readonly TimeSpan BaseDelay = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(20);
    /// <summary>One pooled connection handler for the process (no socket exhaustion, DNS refreshed).</summary>
    private static readonly HttpClient Http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
    {
        Timeout = TimeSpan.FromSeconds(100),
    };

    private readonly string _baseUrl;
    private readonly string _token;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    public CivoClient(string token, ILogger logger, TimeProvider time, string? baseUrl = null)
    {
        _token = token;
        _logger = logger;
        _time = time;
        var url = baseUrl ?? Environment.GetEnvironmentVariable(UrlVariable);
        _baseUrl = (string.IsNullOrWhiteSpace(url) ? DefaultUrl : url.Trim()).TrimEnd('/') + "/";
    }

    public Uri BaseUrl => new(_baseUrl);

    /// <summary>A cheap authenticated call; 401/403 become KsctlAuthenticationFailed.</summary>
    public Task ValidateKeyAsync(CancellationToken ct) => SendAsync(HttpMethod.Get, "regions", null, idempotent: true, ct);

    public async Task<CivoCluster> CreateClusterAsync(CivoClusterRequest request, CancellationToken ct)
    {
        var json = await SendAsync(HttpMethod.Post, "kubernetes/clusters", request, idempotent: false, ct).ConfigureAwait(false);
        return Deserialize<CivoCluster>(json!);
    }

    /// <summary>The cluster, or null when Civo says it does not exist (404).</summary>
    public async Task<CivoCluster?> GetClusterAsync(string id, string region, CancellationToken ct)
    {
        var json = await SendAsync(HttpMethod.Get, $"kubernetes/clusters/{Uri.EscapeDataString(id)}?region={Uri.EscapeDataString(region)}", null, idempotent: true, ct, notFoundIsNull: true).ConfigureAwait(false);
        return json is null ? null : Deserialize<CivoCluster>(json);
    }

    /// <summary>Every cluster of the region, page by page.</summary>
    public async Task<List<CivoCluster>> ListClustersAsync(string region, CancellationToken ct)
    {
        var all = new List<CivoCluster>();
        for (var page = 1; ; page++)
        {
            var json = await SendAsync(HttpMethod.Get, $"kubernetes/clusters?region={Uri.EscapeDataString(region)}&page={page}&per_page=100", null, idempotent: true, ct).ConfigureAwait(false);
            var result = Deserialize<CivoPage<CivoCluster>>(json!);
            all.AddRange(result.Items ?? []);
            if (result.Items is null || result.Items.Count == 0 || page >= result.Pages) return all;
        }
    }

    /// <summary>Deletes the cluster; false when it was already gone (404).</summary>
    public async Task<bool> DeleteClusterAsync(string id, string region, CancellationToken ct)
    {
        var json = await SendAsync(HttpMethod.Delete, $"kubernetes/clusters/{Uri.EscapeDataString(id)}?region={Uri.EscapeDataString(region)}", null, idempotent: true, ct, notFoundIsNull: true).ConfigureAwait(false);
        return json is not null;
    }

    private static T Deserialize<T>(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json) ?? throw new JsonException("empty body");
        }
        catch (JsonException e)
        {
            throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult, $"Civo returned a response Ksctl cannot read: {e.Message}", "Civo", e);
        }
    }

    /// <summary>
    /// Sends one request, retrying 429 (always: Civo did not apply it) and, for idempotent requests, 5xx and lost
    /// connections. A non-idempotent request that gets a 5xx or loses its connection throws <see cref="CivoTransientException"/>.
    /// Returns the body, or null for a 404 when <paramref name="notFoundIsNull"/>.
    /// </summary>
    private async Task<string?> SendAsync(HttpMethod method, string path, object? body, bool idempotent, CancellationToken ct, bool notFoundIsNull = false)
    {
        var uri = new Uri(_baseUrl + path);
        for (var attempt = 1; ; attempt++)
        {
            ct.ThrowIfCancellationRequested();
            using var request = new HttpRequestMessage(method, uri);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            if (body is not null) request.Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

            HttpResponseMessage response;
            try
            {
                response = await Http.SendAsync(request, ct).ConfigureAwait(false);
            }
            catch (Exception e) when ((e is HttpRequestException || e is TaskCanceledException) && !ct.IsCancellationRequested)
            {
                if (!idempotent) throw new CivoTransientException($"Civo {method} {path}: {e.Message}", e);
                if (attempt >= MaxAttempts)
                    throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ConnectionError, $"Cannot reach the Civo API at {_baseUrl}: {e.Message}", "Civo", e);
                var wait = Backoff(attempt);
                _logger.LogWarning("Civo {Method} {Path} failed ({Error}); retrying in {Delay} ms.", method, path, e.Message, (int)wait.TotalMilliseconds);
                await Task.Delay(wait, _time, ct).ConfigureAwait(false);
                continue;
            }

            using (response)
            {
                var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
                var status = (int)response.StatusCode;
                if (response.IsSuccessStatusCode) return text;
                if (response.StatusCode == HttpStatusCode.NotFound && notFoundIsNull) return null;

                var transient = status == 429 || status >= 500;
                if (transient && attempt < MaxAttempts && (status == 429 || idempotent))
                {
                    var wait = RetryAfter(response) ?? Backoff(attempt);
                    if (wait > MaxDelay) wait = MaxDelay;
                    _logger.LogWarning("Civo {Method} {Path} answered {Status}; retrying in {Delay} ms (attempt {Attempt} of {Max}).",
                        method, path, status, (int)wait.TotalMilliseconds, attempt, MaxAttempts);
                    await Task.Delay(wait, _time, ct).ConfigureAwait(false);
                    continue;
                }
                var (code, reason) = ParseError(text);
                var detail = reason ?? (string.IsNullOrWhiteSpace(text) ? response.ReasonPhrase : text.Trim());
                var codePart = code is null ? "" : $" ({code})";
                if (transient && !idempotent) throw new CivoTransientException($"Civo {method} {path} answered {status}{codePart}: {detail}");
                if (status is 401 or 403 && IsAuthError(status, code))
                    throw new KsctlException("KsctlAuthenticationFailed", KsctlErrorCategory.AuthenticationError,
                        $"Civo rejected the API key ({status}{codePart}): {detail}", "Civo")
                    { RecommendedAction = "Check the key in CIVO_TOKEN (Civo dashboard → Settings → Profile → Security)." };
                throw new KsctlException("KsctlCloudApiError", Category(status),
                    $"Civo {method} {uri.AbsolutePath} failed with {status}{codePart}: {detail}", "Civo");
            }
        }
    }

    /// <summary>401 is always the key; 403 is the key unless Civo says it is something else (a quota, a permission on one resource).</summary>
    private static bool IsAuthError(int status, string? code) =>
        status == 401 || code is null || code.Contains("auth", StringComparison.OrdinalIgnoreCase) || code.Contains("token", StringComparison.OrdinalIgnoreCase);

    private static KsctlErrorCategory Category(int status) => status switch
    {
        400 or 422 => KsctlErrorCategory.InvalidArgument,
        403 => KsctlErrorCategory.SecurityError,
        404 => KsctlErrorCategory.ObjectNotFound,
        409 => KsctlErrorCategory.ResourceExists,
        429 => KsctlErrorCategory.ResourceBusy,
        >= 500 => KsctlErrorCategory.ResourceUnavailable,
        _ => KsctlErrorCategory.InvalidResult,
    };

    internal static (string? Code, string? Reason) ParseError(string text)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return (null, null);
            string? Prop(string name) => doc.RootElement.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            return (Prop("code"), Prop("reason") ?? Prop("message"));
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta) return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        if (header?.Date is { } date)
        {
            var wait = date - _time.GetUtcNow();
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }
        return null;
    }

    /// <summary>Full-jitter exponential backoff: uniform in [0, min(max, base·2^(attempt-1))], at least 50 ms.</summary>
    internal static TimeSpan Backoff(int attempt)
    {
        var cap = Math.Min(MaxDelay.TotalMilliseconds, BaseDelay.TotalMilliseconds * Math.Pow(2, attempt - 1));
        return TimeSpan.FromMilliseconds(Math.Max(50, Random.Shared.NextDouble() * cap));
    }
}
