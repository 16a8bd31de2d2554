using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Ksctl.Core.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Gcp;

/// <summary>
/// Compute Engine and GKE v1 over HttpClient: a bearer token from the credential chain, JSON bodies, Google's error
/// shapes (<see cref="GcpError"/>), retries with backoff for 429/5xx and for answers lost on the way (an insert is
/// re-sent with the same requestId, which Compute documents as idempotent for 60 minutes), and every mutation followed
/// through its Operation resource (PENDING → RUNNING → DONE, the error inside a DONE operation) against a deadline.
/// Only URLs under the configured endpoints are ever requested (an operation's selfLink is checked first).
/// </summary>
internal sealed class GcpRestClient
{
    private static readonly HttpClient Http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = TimeSpan.FromSeconds(100) };
    private readonly GcpSignIn _signIn;
    private readonly GcpEndpoints _endpoints;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    public GcpRestClient(GcpSignIn signIn, GcpEndpoints endpoints, ILogger logger, TimeProvider time)
    {
        _signIn = signIn;
        _endpoints = endpoints;
        _logger = logger;
        _time = time;
    }

    public GcpTimings Timings => _endpoints.Timings;

    /// <summary>The resource, or null when it does not exist (404).</summary>
    public async Task<JsonObject?> GetAsync(Uri url, string what, CancellationToken ct)
    {
        var (status, body) = await SendAsync(HttpMethod.Get, url, null, what, ct, notFoundOk: true).ConfigureAwait(false);
        return status == 404 ? null : body;
    }

    /// <summary>Every item of a list (follows nextPageToken).</summary>
    public async Task<List<JsonObject>> ListAsync(Uri url, string what, CancellationToken ct, string itemsField = "items")
    {
        var all = new List<JsonObject>();
        string? token = null;
        do
        {
            var page = token is null ? url : new Uri(url + (url.Query.Length > 0 ? "&" : "?") + "pageToken=" + Uri.EscapeDataString(token));
            var (_, body) = await SendAsync(HttpMethod.Get, page, null, what, ct).ConfigureAwait(false);
            all.AddRange((body?[itemsField] as JsonArray ?? []).OfType<JsonObject>());
            token = body?["nextPageToken"] is JsonValue v && v.TryGetValue<string>(out var t) && t.Length > 0 ? t : null;
        } while (token is not null);
        return all;
    }

    /// <summary>
    /// POSTs <paramref name="body"/> to a Compute collection with <paramref name="requestId"/> and waits for the operation.
    /// 409 alreadyExists (the same name from an earlier, lost request id) counts as done when <paramref name="existsOk"/>.
    /// </summary>
    public async Task<JsonObject?> InsertAsync(Uri collection, JsonObject body, string requestId, string what, TimeSpan deadline, CancellationToken ct, bool existsOk = true)
    {
        var url = WithRequestId(collection, requestId);
        try
        {
            var (_, op) = await SendAsync(HttpMethod.Post, url, body, what, ct).ConfigureAwait(false);
            return await WaitAsync(op!, what, deadline, ct).ConfigureAwait(false);
        }
        catch (KsctlException e) when (existsOk && e.Data["GcpCode"] is "alreadyExists" or "ALREADY_EXISTS")
        {
            _logger.LogInformation("GCP {What} exists already.", what);
            return null;
        }
    }

    /// <summary>POSTs a GKE or Compute action and waits for its operation.</summary>
    public async Task<JsonObject> PostAndWaitAsync(Uri url, JsonObject body, string what, TimeSpan deadline, CancellationToken ct)
    {
        var (_, op) = await SendAsync(HttpMethod.Post, url, body, what, ct).ConfigureAwait(false);
        return await WaitAsync(op!, what, deadline, ct).ConfigureAwait(false);
    }

    /// <summary>DELETEs and waits; false when it was already gone (404).</summary>
    public async Task<bool> DeleteAsync(Uri resource, string? requestId, string what, TimeSpan deadline, CancellationToken ct)
    {
        var url = requestId is null ? resource : WithRequestId(resource, requestId);
        var (status, op) = await SendAsync(HttpMethod.Delete, url, null, what, ct, notFoundOk: true).ConfigureAwait(false);
        if (status == 404) return false;
        await WaitAsync(op!, what, deadline, ct).ConfigureAwait(false);
        return true;
    }

    /// <summary>Polls an operation's selfLink until DONE; throws Google's error from inside a DONE operation.</summary>
    public async Task<JsonObject> WaitAsync(JsonObject operation, string what, TimeSpan deadline, CancellationToken ct)
    {
        var until = _time.GetUtcNow() + deadline;
        var delay = Timings.FirstPoll;
        while (true)
        {
            var status = Text(operation, "status");
            if (status == "DONE")
            {
                if (GcpError.FromOperation(operation) is { } error) throw error.ToException(what);
                return operation;
            }
            if (status is not ("PENDING" or "RUNNING" or "ABORTING"))
                throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult, $"GCP {what}: the operation reports status '{Model.ClusterId.Printable(status)}'.", "Gcp");
            if (_time.GetUtcNow() >= until)
                throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.OperationTimeout,
                    $"GCP {what} did not finish within {deadline.TotalMinutes:0.#} minutes (operation {Text(operation, "name")} is {status}{Progress(operation)}); re-run to resume.", "Gcp");
            _logger.LogDebug("GCP {What}: {Status}{Progress}.", what, status, Progress(operation));
            await Task.Delay(delay, _time, ct).ConfigureAwait(false);
            delay = Timings.Next(delay);
            var self = Text(operation, "selfLink") is { } link && Uri.TryCreate(link, UriKind.Absolute, out var u) ? u : null;
            if (self is null || !_endpoints.Owns(self))
                throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.SecurityError,
                    $"GCP {what}: refusing to follow the operation's selfLink '{Model.ClusterId.Printable(self?.GetLeftPart(UriPartial.Path) ?? Text(operation, "selfLink"))}', which is not under the Compute or GKE endpoint.", "Gcp");
            var (_, next) = await SendAsync(HttpMethod.Get, self, null, what, ct).ConfigureAwait(false);
            operation = next!;
        }
    }

    private static string Progress(JsonObject op) => op["progress"] is JsonValue p && p.TryGetValue<int>(out var n) && n > 0 ? $", {n}%" : "";

    internal static string? Text(JsonNode? node, string name) => node?[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static Uri WithRequestId(Uri url, string requestId) =>
        new(url + (url.Query.Length > 0 ? "&" : "?") + "requestId=" + Uri.EscapeDataString(requestId));

    private async Task<(int Status, JsonObject? Body)> SendAsync(HttpMethod method, Uri url, JsonObject? body, string what, CancellationToken ct, bool notFoundOk = false)
    {
        if (!_endpoints.Owns(url))
            throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.SecurityError, $"GCP {what}: {url.GetLeftPart(UriPartial.Authority)} is not a configured Google endpoint; nothing was sent.", "Gcp");
        var delay = Timings.RetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            var token = await _signIn.Token(ct).ConfigureAwait(false);
            using var request = new HttpRequestMessage(method, url);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
            HttpResponseMessage response;
            try
            {
                response = await Http.SendAsync(request, ct).ConfigureAwait(false);
            }
            catch (HttpRequestException e) when (attempt < Timings.MaxAttempts)
            {
                // A lost answer: GETs and DELETEs are safe to repeat and inserts carry a requestId, so the retry cannot make a second resource.
                _logger.LogWarning("GCP {What}: no answer ({Message}); retry {Attempt} in {Delay}.", what, e.Message, attempt, delay);
                await Task.Delay(delay, _time, ct).ConfigureAwait(false);
                delay = Timings.Next(delay);
                continue;
            }
            catch (HttpRequestException e)
            {
                throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ConnectionError, $"GCP {what}: no answer after {attempt} attempts: {e.Message}", "Gcp", e);
            }
            using (response)
            {
                var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
                var status = (int)response.StatusCode;
                if (response.IsSuccessStatusCode)
                {
                    try { return (status, text.Length == 0 ? new JsonObject() : JsonNode.Parse(text) as JsonObject ?? throw new System.Text.Json.JsonException("not an object")); }
                    catch (System.Text.Json.JsonException e)
                    {
                        throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult, $"GCP {what}: the answer is not a JSON object ({e.Message}).", "Gcp", e);
                    }
                }
                if (status == 404 && notFoundOk) return (404, null);
                var error = GcpError.Parse(status, text);
                if (error.Retryable && attempt < Timings.MaxAttempts)
                {
                    var wait = response.Headers.RetryAfter?.Delta is { } ra && ra > delay ? ra : delay;
                    _logger.LogWarning("GCP {What}: {Status} {Code}; retry {Attempt} in {Delay}.", what, status, error.Code, attempt, wait);
                    await Task.Delay(wait, _time, ct).ConfigureAwait(false);
                    delay = Timings.Next(delay);
                    continue;
                }
                throw error.ToException(what);
            }
        }
    }
}
