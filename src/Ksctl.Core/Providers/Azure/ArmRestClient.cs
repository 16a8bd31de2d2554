using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.ResourceManager;
using Ksctl.Core.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Azure;

/// <summary>
/// ARM resources as JSON by resource id, over the HTTP pipeline of Azure.ResourceManager's <see cref="ArmClient"/>
/// (bearer token from the credential, retries of 429/5xx and lost connections with jittered exponential backoff that
/// honours Retry-After). Every resource type is reached the same generic way: PUT/GET/DELETE on its id with a pinned
/// api-version (<see cref="AzureApiVersions"/>), so no service package is needed. Long-running operations are polled
/// (ArmRestClient.Polling.cs); requests, their guards and provider registration are in ArmRestClient.Send.cs.
/// </summary>
internal sealed partial class ArmRestClient
{
    /// <summary>How often a PUT whose operation ended with a retryable code is re-issued before the step fails.</summary>
    internal const int MaxOperationAttempts = 6;
    private readonly ArmClient _arm;
    private readonly HttpPipeline _pipeline;
    private readonly Uri _endpoint;
    private readonly AzureEndpoints _endpoints;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    public ArmRestClient(AzureSignIn signIn, AzureEndpoints endpoints, ILogger logger, TimeProvider time)
    {
        endpoints.Validate();
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
        await ArmSignIn.Call("list subscriptions", async () =>
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
    /// <param name="register">False for Tab completion: a key press must not change the subscription (register a namespace).</param>
    public async Task<IReadOnlyList<JsonObject>> ListAsync(string path, string apiVersion, string what, CancellationToken ct, string itemsProperty = "value", bool register = true)
    {
        var items = new List<JsonObject>();
        var (_, text, _) = await SendAsync(RequestMethod.Get, path, apiVersion, null, what, ct, register: register).ConfigureAwait(false);
        for (var page = 1; ; page++)
        {
            var body = Parse(text, path);
            if (body[itemsProperty] is JsonArray values) items.AddRange(values.OfType<JsonObject>());
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
    /// until its provisioning has finished. An operation that ends Failed with a code ARM documents as transient
    /// (<see cref="ArmError.Retryable"/>, e.g. NICs created in parallel in one subnet) is re-issued with backoff, up to
    /// <see cref="MaxOperationAttempts"/> times; any other failure fails the step with ARM's code and message.
    /// </summary>
    public async Task<JsonObject> PutAsync(string id, string apiVersion, JsonObject body, string what, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = _time.GetUtcNow() + timeout;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await PutOnceAsync(id, apiVersion, body, what, deadline, ct).ConfigureAwait(false);
            }
            catch (ArmOperationFailedException e) when (e.Error.IsRetryable && attempt < MaxOperationAttempts)
            {
                var wait = Backoff(attempt);
                _logger.LogWarning("Azure {What}: the operation ended with {Code} ({Message}); re-issuing the PUT in {Delay} ms (attempt {Next} of {Max}).",
                    what, e.Error.Code, e.Error.Message, (int)wait.TotalMilliseconds, attempt + 1, MaxOperationAttempts);
                await Task.Delay(wait, _time, ct).ConfigureAwait(false);
            }
        }
    }

    private async Task<JsonObject> PutOnceAsync(string id, string apiVersion, JsonObject body, string what, DateTimeOffset deadline, CancellationToken ct)
    {
        var (_, text, response) = await SendAsync(RequestMethod.Put, id, apiVersion, body, what, ct).ConfigureAwait(false);
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

    /// <summary>Full jitter between the retry floor and a cap that doubles per attempt (up to 30 s).</summary>
    private TimeSpan Backoff(int attempt)
    {
        var floor = _endpoints.RetryDelay.TotalMilliseconds;
        var cap = Math.Min(30_000, floor * Math.Pow(2, attempt));
        return TimeSpan.FromMilliseconds(floor + Random.Shared.NextDouble() * Math.Max(0, cap - floor));
    }

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
