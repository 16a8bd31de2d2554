using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using Azure.ResourceManager;
using Ksctl.Core.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Azure;

/// <summary>
/// ARM resources as JSON by resource id, over the HTTP pipeline of Azure.ResourceManager's <see cref="ArmClient"/>
/// (bearer token from the credential, retries of 429/5xx and lost connections with jittered exponential backoff that
/// honours Retry-After). Every resource type is reached the same generic way: PUT/GET/DELETE on its id with a pinned
/// api-version (<see cref="AzureApiVersions"/>), so no service package is needed. Long-running operations are polled
/// through <c>Azure-AsyncOperation</c> (else <c>Location</c>) to completion, with progress logged.
/// </summary>
internal sealed class ArmRestClient
{
    private static readonly TimeSpan MaxPoll = TimeSpan.FromSeconds(30);
    private readonly ArmClient _arm;
    private readonly HttpPipeline _pipeline;
    private readonly Uri _endpoint;
    private readonly AzureEndpoints _endpoints;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    public ArmRestClient(AzureSignIn signIn, AzureEndpoints endpoints, ILogger logger, TimeProvider time)
    {
        var options = new ArmClientOptions { Environment = new ArmEnvironment(endpoints.ResourceManager, endpoints.Audience) };
        AzureCredentials.Configure(options, endpoints, maxRetries: 8);
        _arm = new ArmClient(signIn.Credential, signIn.SubscriptionId, options);
        _pipeline = PipelineOf.Get(_arm);
        _endpoint = endpoints.ResourceManager;
        _endpoints = endpoints;
        _logger = logger;
        _time = time;
    }

    /// <summary>The subscriptions the credential can see (Azure.ResourceManager's typed call).</summary>
    public async Task<IReadOnlyList<string>> ListSubscriptionIdsAsync(CancellationToken ct)
    {
        var ids = new List<string>();
        await Call("list subscriptions", async () =>
        {
            await foreach (var s in _arm.GetSubscriptions().GetAllAsync(ct).ConfigureAwait(false))
                if (s.Data.SubscriptionId is { } id) ids.Add(id);
            return 0;
        }).ConfigureAwait(false);
        return ids;
    }

    /// <summary>The resource, or null when ARM says it does not exist (404).</summary>
    public async Task<JsonObject?> GetAsync(string id, string apiVersion, CancellationToken ct)
    {
        var (status, body, _) = await SendAsync(RequestMethod.Get, id, apiVersion, null, $"GET {ShortName(id)}", ct, notFoundOk: true).ConfigureAwait(false);
        return status == 404 ? null : Parse(body, id);
    }

    /// <summary>
    /// The <c>value</c> items of an ARM collection (GET on a list path such as a subscription's locations), following
    /// <c>nextLink</c>: ARM may page any list, and an item left on a later page would silently be missing.
    /// </summary>
    public async Task<IReadOnlyList<JsonObject>> ListAsync(string path, string apiVersion, string what, CancellationToken ct)
    {
        var items = new List<JsonObject>();
        var (_, text, _) = await SendAsync(RequestMethod.Get, path, apiVersion, null, what, ct).ConfigureAwait(false);
        for (var page = 1; ; page++)
        {
            var body = Parse(text, path);
            if (body["value"] is JsonArray values) items.AddRange(values.OfType<JsonObject>());
            // nextLink already carries the api-version and the continuation token.
            if (body["nextLink"]?.GetValue<string>() is not { Length: > 0 } next || !Uri.TryCreate(next, UriKind.Absolute, out var uri)) return items;
            if (page >= MaxPages)
                throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult, $"Azure {what}: more than {MaxPages} pages; ARM keeps answering with a nextLink.", "Azure");
            (_, text, _) = await SendAsync(RequestMethod.Get, uri, what, ct).ConfigureAwait(false);
        }
    }

    /// <summary>A bound on nextLink chains: the lists Ksctl reads have a few hundred items, a loop would be a server bug.</summary>
    private const int MaxPages = 100;

    /// <summary>
    /// Creates or updates the resource (PUT is idempotent by id: a repeat with the same body changes nothing) and waits
    /// until its provisioning has finished. Returns the resource as ARM then reports it.
    /// </summary>
    public async Task<JsonObject> PutAsync(string id, string apiVersion, JsonObject body, string what, TimeSpan timeout, CancellationToken ct)
    {
        var (status, text, response) = await SendAsync(RequestMethod.Put, id, apiVersion, body, what, ct).ConfigureAwait(false);
        var deadline = _time.GetUtcNow() + timeout;
        if (AsyncOperation(response) is { } operation)
            await PollOperationAsync(operation, what, deadline, RetryAfter(response), ct).ConfigureAwait(false);
        // A synchronous answer carries the resource; after an operation, read it afresh.
        var resource = AsyncOperation(response) is null && !string.IsNullOrWhiteSpace(text) ? Parse(text, id) : null;
        // Without an operation URL ARM reports progress on the resource itself: poll it until it is terminal.
        var delay = RetryAfter(response);
        string? last = null;
        while (true)
        {
            resource ??= await GetAsync(id, apiVersion, ct).ConfigureAwait(false)
                ?? throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ObjectNotFound, $"Azure {what}: the resource {id} is gone right after it was created.", "Azure");
            var state = ProvisioningState(resource);
            if (state is null or "Succeeded") return resource;
            if (state is "Failed" or "Canceled")
                throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult, $"Azure {what} ended in provisioning state {state}.", "Azure");
            if (state != last) _logger.LogInformation("Azure {What}: provisioning state {State}.", what, state);
            last = state;
            delay = await WaitAsync(delay, deadline, what, ct).ConfigureAwait(false);
            resource = null;
        }
    }

    /// <summary>Deletes the resource and waits until ARM says it is gone; false when it did not exist.</summary>
    public async Task<bool> DeleteAsync(string id, string apiVersion, string what, TimeSpan timeout, CancellationToken ct)
    {
        var (status, _, response) = await SendAsync(RequestMethod.Delete, id, apiVersion, null, what, ct, notFoundOk: true).ConfigureAwait(false);
        if (status is 404 or 204) return status != 404;
        var deadline = _time.GetUtcNow() + timeout;
        if (AsyncOperation(response) is { } operation)
            await PollOperationAsync(operation, what, deadline, RetryAfter(response), ct).ConfigureAwait(false);
        else if (Location(response) is { } location)
            await PollLocationAsync(location, what, deadline, RetryAfter(response), ct).ConfigureAwait(false);
        return true;
    }

    /// <summary>A POST action on a resource (listClusterAdminCredential): its JSON answer.</summary>
    public async Task<JsonObject> PostActionAsync(string id, string action, string apiVersion, string what, CancellationToken ct)
    {
        var (_, text, _) = await SendAsync(RequestMethod.Post, $"{id}/{action}", apiVersion, null, what, ct).ConfigureAwait(false);
        return Parse(text, id);
    }

    public static string? ProvisioningState(JsonObject resource) =>
        resource["properties"]?["provisioningState"]?.GetValue<string>();

    private async Task PollOperationAsync(Uri operation, string what, DateTimeOffset deadline, TimeSpan? first, CancellationToken ct)
    {
        var delay = first;
        string? last = null;
        var polls = 0;
        while (true)
        {
            delay = await WaitAsync(delay, deadline, what, ct).ConfigureAwait(false);
            var (_, text, response) = await SendAsync(RequestMethod.Get, operation, what + " (operation status)", ct).ConfigureAwait(false);
            polls++;
            using var doc = JsonDocument.Parse(string.IsNullOrWhiteSpace(text) ? "{}" : text);
            var status = doc.RootElement.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
            switch (status)
            {
                case "Succeeded":
                    _logger.LogInformation("Azure {What}: done after {Polls} status check(s).", what, polls);
                    return;
                case "Failed" or "Canceled":
                    var error = ArmError.From(doc.RootElement) ?? new ArmError(status, "the operation ended without an error body");
                    throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult, $"Azure {what} failed: {error.Code}: {error.Message}", "Azure");
            }
            if (status != last) _logger.LogInformation("Azure {What}: {Status}.", what, status ?? "(no status yet)");
            last = status;
            delay = RetryAfter(response) ?? delay;
        }
    }

    /// <summary>The Location form: 202 while running, 200/204 when done.</summary>
    private async Task PollLocationAsync(Uri location, string what, DateTimeOffset deadline, TimeSpan? first, CancellationToken ct)
    {
        var delay = first;
        while (true)
        {
            delay = await WaitAsync(delay, deadline, what, ct).ConfigureAwait(false);
            var (status, _, response) = await SendAsync(RequestMethod.Get, location, what + " (operation status)", ct).ConfigureAwait(false);
            if (status != 202)
            {
                _logger.LogInformation("Azure {What}: done.", what);
                return;
            }
            delay = RetryAfter(response) ?? delay;
        }
    }

    /// <summary>Waits before the next poll: ARM's Retry-After if it gave one, else growing by half, never below the floor.</summary>
    private async Task<TimeSpan> WaitAsync(TimeSpan? hint, DateTimeOffset deadline, string what, CancellationToken ct)
    {
        var delay = hint ?? _endpoints.MinimumPollInterval;
        if (delay < _endpoints.MinimumPollInterval) delay = _endpoints.MinimumPollInterval;
        if (delay > MaxPoll) delay = MaxPoll;
        if (_time.GetUtcNow() + delay > deadline)
            throw new KsctlException("KsctlOperationTimeout", KsctlErrorCategory.OperationTimeout,
                $"Azure {what} had not finished by its deadline. Re-run the command to keep waiting (nothing is created twice).", "Azure");
        await Task.Delay(delay, _time, ct).ConfigureAwait(false);
        return TimeSpan.FromMilliseconds(Math.Min(MaxPoll.TotalMilliseconds, delay.TotalMilliseconds * 1.5));
    }

    private Task<(int Status, string Body, Response Response)> SendAsync(RequestMethod method, string id, string apiVersion, JsonObject? body, string what, CancellationToken ct, bool notFoundOk = false)
    {
        var uri = new Uri(_endpoint, $"{id.TrimStart('/')}?api-version={Uri.EscapeDataString(apiVersion)}");
        return SendAsync(method, uri, what, ct, body, notFoundOk);
    }

    private async Task<(int Status, string Body, Response Response)> SendAsync(RequestMethod method, Uri uri, string what, CancellationToken ct, JsonObject? body = null, bool notFoundOk = false)
    {
        // 429/5xx and lost connections are retried inside the pipeline (Azure.Core's RetryPolicy: jittered exponential
        // backoff honouring Retry-After). A 409 that ARM documents as transient (another operation on the same resource or
        // a resource it depends on, typical for NICs and VMs created in parallel in one subnet) is retried here.
        for (var attempt = 1; ; attempt++)
        {
            using var message = _pipeline.CreateMessage();
            var request = message.Request;
            request.Method = method;
            request.Uri.Reset(uri);
            request.Headers.Add("Accept", "application/json");
            if (body is not null)
            {
                request.Headers.Add("Content-Type", "application/json");
                request.Content = RequestContent.Create(Encoding.UTF8.GetBytes(body.ToJsonString()));
            }
            else if (method == RequestMethod.Post)
            {
                request.Content = RequestContent.Create(Array.Empty<byte>());
            }
            await Call(what, async () => { await _pipeline.SendAsync(message, ct).ConfigureAwait(false); return 0; }).ConfigureAwait(false);
            var response = message.Response;
            var text = response.Content?.ToString() ?? "";
            var status = response.Status;
            if (status is >= 200 and < 300 || (status == 404 && notFoundOk)) return (status, text, response);
            var error = ArmError.Parse(text) ?? new ArmError(response.ReasonPhrase is { Length: > 0 } r ? r.Replace(" ", "") : status.ToString(), text.Trim());
            if (status == 409 && TransientConflicts.Contains(error.Code) && attempt < MaxConflictRetries)
            {
                var wait = RetryAfter(response) ?? ConflictBackoff(attempt);
                _logger.LogWarning("Azure {What}: {Code} ({Message}); retrying in {Delay} ms.", what, error.Code, error.Message, (int)wait.TotalMilliseconds);
                await Task.Delay(wait, _time, ct).ConfigureAwait(false);
                continue;
            }
            throw error.ToException(what, status);
        }
    }

    private const int MaxConflictRetries = 10;
    private static readonly HashSet<string> TransientConflicts = new(StringComparer.OrdinalIgnoreCase)
    {
        "AnotherOperationInProgress", "RetryableError", "OperationNotAllowedWhileUpdating", "ReferencedResourceNotProvisioned",
    };

    /// <summary>Full jitter between the retry floor and a cap that doubles per attempt (up to 30 s).</summary>
    private TimeSpan ConflictBackoff(int attempt)
    {
        var floor = _endpoints.RetryDelay.TotalMilliseconds;
        var cap = Math.Min(30_000, floor * Math.Pow(2, attempt));
        return TimeSpan.FromMilliseconds(floor + Random.Shared.NextDouble() * Math.Max(0, cap - floor));
    }

    /// <summary>Token and transport failures become Ksctl errors (a bad secret is KsctlAuthenticationFailed, with Entra's reason).</summary>
    private static async Task<T> Call<T>(string what, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (AuthenticationFailedException e) when (Unreachable(e))
        {
            // Entra never answered: a network problem, not a wrong credential.
            throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ConnectionError, $"Cannot reach Microsoft Entra ID to sign in: {SignInReason(e)}", "Azure", e)
            {
                RecommendedAction = "Check the network path (proxy, DNS, firewall) to login.microsoftonline.com and management.azure.com, then run the command again.",
            };
        }
        catch (AuthenticationFailedException e)
        {
            throw new KsctlException("KsctlAuthenticationFailed", KsctlErrorCategory.AuthenticationError, $"Azure sign-in failed: {SignInReason(e)}", "Azure", e)
            {
                RecommendedAction = "Check the client id, tenant id and secret (-Credential/-TenantId, Set-KsctlCredential -Provider Azure, or AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET), or sign in with Connect-AzAccount / az login.",
            };
        }
        catch (RequestFailedException e) when (e.Status == 0)
        {
            throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ConnectionError, $"Cannot reach Azure Resource Manager for {what}: {FirstLine(e.Message)}", "Azure", e);
        }
        catch (RequestFailedException e)
        {
            var error = ArmError.Parse(e.GetRawResponse()?.Content?.ToString()) ?? new ArmError(e.ErrorCode ?? e.Status.ToString(), FirstLine(e.Message));
            throw error.ToException(what, e.Status);
        }
    }

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();

    /// <summary>
    /// Entra's own reason (AADSTS code and text) when there is one, else the credential's message on one line. The
    /// messages of Azure.Identity never contain the secret.
    /// </summary>
    internal static string SignInReason(Exception e)
    {
        // Inner exceptions often repeat the outer message: keep each text once.
        var texts = new List<string>();
        foreach (var m in Chain(e).Select(x => x.Message.Trim()))
            if (!texts.Any(t => t.Contains(m, StringComparison.Ordinal))) texts.Add(m);
        var all = string.Join("\n", texts);
        var entra = System.Text.RegularExpressions.Regex.Match(all, @"AADSTS\d+:[^\r\n]*");
        var who = FirstLine(e.Message);
        var colon = who.IndexOf(':');
        if (entra.Success) return $"{(colon > 0 ? who[..colon] : "Entra ID")}: {entra.Value.Trim()}";
        var text = string.Join(" ", all.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return text.Length > 800 ? text[..800] + "…" : text;
    }

    private static IEnumerable<Exception> Chain(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException) yield return x;
    }

    /// <summary>True when every attempt failed before any HTTP answer (DNS, refused or timed-out connections).</summary>
    private static bool Unreachable(Exception e)
    {
        static IEnumerable<Exception> All(Exception x) =>
            new[] { x }.Concat(x is AggregateException a ? a.InnerExceptions.SelectMany(All) : x.InnerException is { } i ? All(i) : []);
        var all = All(e).ToList();
        return all.Any(x => x is HttpRequestException or System.Net.Sockets.SocketException)
            && !all.Any(x => x is RequestFailedException { Status: > 0 } || x.Message.Contains("AADSTS", StringComparison.Ordinal));
    }

    private static Uri? AsyncOperation(Response response) =>
        response.Headers.TryGetValue("Azure-AsyncOperation", out var v) && Uri.TryCreate(v, UriKind.Absolute, out var u) ? u : null;

    private static Uri? Location(Response response) =>
        response.Headers.TryGetValue("Location", out var v) && Uri.TryCreate(v, UriKind.Absolute, out var u) ? u : null;

    private static TimeSpan? RetryAfter(Response response) =>
        response.Headers.TryGetValue("Retry-After", out var v) && int.TryParse(v, out var seconds) && seconds >= 0 ? TimeSpan.FromSeconds(seconds) : null;

    private static JsonObject Parse(string text, string id)
    {
        try
        {
            return JsonNode.Parse(text) as JsonObject ?? throw new JsonException("not an object");
        }
        catch (JsonException e)
        {
            throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult, $"Azure returned a response Ksctl cannot read for {id}: {e.Message}", "Azure", e);
        }
    }

    /// <summary>"virtualMachines/demo-vm-cp-0" from a full id, for messages.</summary>
    internal static string ShortName(string id)
    {
        var parts = id.Trim('/').Split('/');
        return parts.Length >= 2 ? $"{parts[^2]}/{parts[^1]}" : id;
    }

    /// <summary>The ArmClient's pipeline, reached the way Azure.ResourceManager's own service libraries reach it (ArmResource.Pipeline).</summary>
    private sealed class PipelineOf : ArmResource
    {
        private PipelineOf(ArmClient client) : base(client, new ResourceIdentifier("/")) { }
        public static HttpPipeline Get(ArmClient client) => new PipelineOf(client).Pipeline;
    }
}
