using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Ksctl.Core.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Civo;

/// <summary>A 5xx or a lost connection on a request that may have been applied (a POST): the caller decides how to recover.</summary>
internal sealed class CivoTransientException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>An error answer of Civo's API: Civo's <c>code</c> kept, so callers can tell "in use" from other refusals.</summary>
internal sealed class CivoApiException(string errorId, KsctlErrorCategory category, string message, string? code, int status)
    : KsctlException(errorId, category, message, "Civo")
{
    public string? Code { get; } = code;
    public int Status { get; } = status;
}

/// <summary>
/// Civo's REST API v2 over HttpClient: bearer key, JSON bodies, its <c>{"code","reason","details"}</c> errors surfaced
/// verbatim (civogo errors.go joins reason and details the same way), page-by-page listing, the per-key request budget
/// (<see cref="CivoRateGate"/>: a 429 waits for X-RateLimit-Reset), and retries with jittered backoff on 5xx. The
/// endpoint must be https (<see cref="CivoEndpoint"/>); every id put in a path is checked to be a Civo id. The key is never logged.
/// </summary>
internal sealed partial class CivoClient
{
    public const string UrlVariable = "CIVO_API_URL";
    public const string DefaultUrl = "https://api.civo.com/v2";
    private const int MaxAttempts = 8;
    private static readonly TimeSpan BaseDelay = TimeSpan.FromMilliseconds(500);
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
    private readonly CivoRateGate _gate;

    public CivoClient(string token, ILogger logger, TimeProvider time, string? baseUrl = null)
    {
        _token = token;
        _logger = logger;
        _time = time;
        _baseUrl = CivoEndpoint.BaseUrl(baseUrl ?? Environment.GetEnvironmentVariable(UrlVariable));
        _gate = CivoRateGate.For(_baseUrl, token);
    }

    public Uri BaseUrl => new(_baseUrl);

    /// <summary>
    /// An authenticated, account-scoped call (GET /v2/quota, civo.com/api/quota): a key that Civo does not know, or that
    /// has no access to an account, fails here; 401/403 become KsctlAuthenticationFailed.
    /// </summary>
    public Task ValidateKeyAsync(CancellationToken ct) => SendAsync(HttpMethod.Get, "quota", null, idempotent: true, ct);

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
    /// Sends one request, waiting out the request budget (429 → until X-RateLimit-Reset; Civo did not apply it) and
    /// retrying, for idempotent requests, 5xx and lost connections. A non-idempotent request that gets a 5xx or loses
    /// its connection throws <see cref="CivoTransientException"/>. Returns the body, or null for a 404 when
    /// <paramref name="notFoundIsNull"/>.
    /// </summary>
    private async Task<string?> SendAsync(HttpMethod method, string path, object? body, bool idempotent, CancellationToken ct, bool notFoundIsNull = false)
    {
        var uri = new Uri(_baseUrl + path);
        var budgetWaits = 0;
        for (var attempt = 1; ; attempt++)
        {
            ct.ThrowIfCancellationRequested();
            await _gate.WaitAsync(_time, ct).ConfigureAwait(false);
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
                var budgetWait = _gate.Observe(response, _time);
                if (response.IsSuccessStatusCode) return text;
                if (response.StatusCode == HttpStatusCode.NotFound && notFoundIsNull) return null;

                var transient = status == 429 || status >= 500;
                if (transient && attempt < MaxAttempts && (status == 429 || idempotent))
                {
                    if (status == 429 && budgetWait is { } untilReset && ++budgetWaits <= 20)
                    {
                        attempt--; // not a failure: Civo applied nothing and said when to come back
                        // The gate holds every request of this key until the reset; this one goes again after it.
                        _logger.LogWarning("Civo's request budget is used up ({Method} {Path} answered 429); waiting {Delay} s for it to reset.", method, path, Math.Ceiling(untilReset.TotalSeconds));
                        continue;
                    }
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
                    throw new CivoApiException("KsctlAuthenticationFailed", KsctlErrorCategory.AuthenticationError,
                        $"Civo rejected the API key ({status}{codePart}): {detail}", code, status)
                    { RecommendedAction = "Check the key in CIVO_TOKEN (Civo dashboard → Settings → Profile → Security)." };
                throw new CivoApiException("KsctlCloudApiError", Category(status),
                    $"Civo {method} {uri.AbsolutePath} failed with {status}{codePart}: {detail}", code, status);
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

    /// <summary>Civo's code, and its reason with the details after it (as civogo's decodeError writes them).</summary>
    internal static (string? Code, string? Reason) ParseError(string text)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return (null, null);
            string? Prop(string name) => doc.RootElement.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            var reason = Prop("reason") ?? Prop("message");
            var details = Prop("details");
            if (!string.IsNullOrWhiteSpace(details)) reason = reason is null ? details : $"{reason}, {details}";
            return (Prop("code"), reason);
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

    /// <summary>Full-jitter exponential backoff: uniform in [0, min(max, base·2^(attempt-1))], at least 100 ms.</summary>
    internal static TimeSpan Backoff(int attempt)
    {
        var cap = Math.Min(MaxDelay.TotalMilliseconds, BaseDelay.TotalMilliseconds * Math.Pow(2, attempt - 1));
        return TimeSpan.FromMilliseconds(Math.Max(100, Random.Shared.NextDouble() * cap));
    }
}
