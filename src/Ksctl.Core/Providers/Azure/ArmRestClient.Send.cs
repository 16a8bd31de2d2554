using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Azure;
using Azure.Core;
using Ksctl.Core.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Azure;

/// <summary>
/// One ARM request: the path is checked before anything is sent (a relative ARM path, never an absolute URI, another
/// host, dot segments or a query), URLs that ARM hands back (operation status, nextLink) must be on the ARM endpoint
/// itself (the bearer token goes nowhere else), transient 409s are retried, and a namespace the subscription has not
/// registered (409 MissingSubscriptionRegistration, learn.microsoft.com error-register-resource-provider) is
/// registered (Providers_Register, resources.json 2021-04-01) before the request is sent again.
/// </summary>
internal sealed partial class ArmRestClient
{
    private const int MaxConflictRetries = 10;
    private const int MaxRegistrationRounds = 3;
    internal static readonly TimeSpan RegistrationTimeout = TimeSpan.FromMinutes(10);

    /// <summary>/subscriptions/{id}/... with plain segments: letters, digits and . _ ( ) - only, never "." or "..".</summary>
    private static readonly Regex ArmPath = new(@"^/subscriptions/[A-Za-z0-9-]{1,64}(/[A-Za-z0-9._()\-]{1,128})*\z", RegexOptions.CultureInvariant);

    /// <summary>The request URI of an ARM path, or KsctlInvalidResourceId when the path could reach anything else.</summary>
    internal Uri ResolvePath(string path, string apiVersion)
    {
        if (!ArmPath.IsMatch(path) || path.Split('/').Any(s => s is "." or ".."))
            throw new KsctlException("KsctlInvalidResourceId", KsctlErrorCategory.InvalidData,
                $"'{path}' is not an Azure resource path Ksctl sends requests to (expected /subscriptions/<id>/... with plain names); nothing was sent.", path);
        var uri = new Uri(_endpoint, $"{path.TrimStart('/')}?api-version={Uri.EscapeDataString(apiVersion)}");
        CheckOrigin(uri, path);
        return uri;
    }

    /// <summary>A URL from ARM (operation status, nextLink) is followed only on ARM's own scheme, host and port.</summary>
    private void CheckOrigin(Uri uri, string what)
    {
        if (!uri.IsAbsoluteUri || uri.Scheme != _endpoint.Scheme || !string.Equals(uri.Host, _endpoint.Host, StringComparison.OrdinalIgnoreCase) || uri.Port != _endpoint.Port)
            throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.SecurityError,
                $"Azure {what}: refusing to follow {uri.GetLeftPart(UriPartial.Authority)}, which is not the Resource Manager endpoint {_endpoint.GetLeftPart(UriPartial.Authority)}; the token is sent nowhere else.", "Azure");
    }

    private async Task<(int Status, string Body, Response Response)> SendAsync(RequestMethod method, string path, string apiVersion, JsonObject? body, string what, CancellationToken ct, bool notFoundOk = false, bool register = true)
    {
        var uri = ResolvePath(path, apiVersion);
        for (var round = 1; ; round++)
        {
            try
            {
                return await SendAsync(method, uri, what, ct, body, notFoundOk).ConfigureAwait(false);
            }
            catch (KsctlException e) when (register && e.Data["ArmCode"] is "MissingSubscriptionRegistration" && round <= MaxRegistrationRounds && Namespace(path) is { } ns)
            {
                // The namespace comes from our own path, never from the message: only what Ksctl asked for is registered.
                _logger.LogWarning("Azure {What}: the subscription is not registered for {Namespace}; registering it.", what, ns);
                try
                {
                    await RegisterAsync(path.Split('/')[2], ns, ct).ConfigureAwait(false);
                }
                catch (KsctlException refused) when (refused.ErrorId == "KsctlCloudApiError" && refused.Category == KsctlErrorCategory.SecurityError)
                {
                    // Registering needs */register/action (Contributor has it; narrower custom roles may not).
                    throw new KsctlException(refused.ErrorId, refused.Category, refused.Message, "Azure", refused)
                    {
                        RecommendedAction = $"Ask a subscription owner to register the namespace once (Register-AzResourceProvider -ProviderNamespace {ns}, or az provider register --namespace {ns}), then run the command again.",
                    };
                }
            }
        }
    }

    /// <summary>"Microsoft.Network" from /subscriptions/s/resourceGroups/g/providers/Microsoft.Network/...; null for a group.</summary>
    internal static string? Namespace(string path)
    {
        var parts = path.Split('/');
        var i = Array.FindIndex(parts, p => p.Equals("providers", StringComparison.OrdinalIgnoreCase));
        return i > 0 && i + 1 < parts.Length ? parts[i + 1] : null;
    }

    /// <summary>POST …/providers/{ns}/register, then GET …/providers/{ns} until registrationState is Registered.</summary>
    private async Task RegisterAsync(string subscription, string ns, CancellationToken ct)
    {
        var provider = $"/subscriptions/{subscription}/providers/{ns}";
        var what = $"registration of {ns}";
        var (_, text, _) = await SendAsync(RequestMethod.Post, ResolvePath(provider + "/register", AzureApiVersions.Resources), what, ct).ConfigureAwait(false);
        var deadline = _time.GetUtcNow() + RegistrationTimeout;
        TimeSpan? delay = null;
        while (true)
        {
            var state = (JsonNode.Parse(string.IsNullOrWhiteSpace(text) ? "{}" : text) as JsonObject)?["registrationState"]?.GetValue<string>();
            if (string.Equals(state, "Registered", StringComparison.OrdinalIgnoreCase))
            {
                _logger.LogInformation("Azure: {Namespace} is registered for subscription {Subscription}.", ns, subscription);
                return;
            }
            delay = await WaitAsync(delay, deadline, what, ct).ConfigureAwait(false);
            (_, text, _) = await SendAsync(RequestMethod.Get, ResolvePath(provider, AzureApiVersions.Resources), what, ct).ConfigureAwait(false);
        }
    }

    private async Task<(int Status, string Body, Response Response)> SendAsync(RequestMethod method, Uri uri, string what, CancellationToken ct, JsonObject? body = null, bool notFoundOk = false)
    {
        CheckOrigin(uri, what);
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
            await ArmSignIn.Call(what, async () => { await _pipeline.SendAsync(message, ct).ConfigureAwait(false); return 0; }).ConfigureAwait(false);
            var response = message.Response;
            var text = response.Content?.ToString() ?? "";
            var status = response.Status;
            if (status is >= 200 and < 300 || (status == 404 && notFoundOk)) return (status, text, response);
            var error = ArmError.Parse(text) ?? new ArmError(response.ReasonPhrase is { Length: > 0 } r ? r.Replace(" ", "") : status.ToString(), text.Trim());
            if (status == 409 && error.IsRetryable && attempt < MaxConflictRetries)
            {
                var wait = RetryAfter(response) ?? Backoff(attempt);
                _logger.LogWarning("Azure {What}: {Code} ({Message}); retrying in {Delay} ms.", what, error.Code, error.Message, (int)wait.TotalMilliseconds);
                await Task.Delay(wait, _time, ct).ConfigureAwait(false);
                continue;
            }
            var exception = error.ToException(what, status);
            exception.Data["ArmCode"] = error.Code;
            throw exception;
        }
    }

    private static Uri? AsyncOperation(Response response) =>
        response.Headers.TryGetValue("Azure-AsyncOperation", out var v) && Uri.TryCreate(v, UriKind.Absolute, out var u) ? u : null;

    private static Uri? Location(Response response) =>
        response.Headers.TryGetValue("Location", out var v) && Uri.TryCreate(v, UriKind.Absolute, out var u) ? u : null;

    private static TimeSpan? RetryAfter(Response response) =>
        response.Headers.TryGetValue("Retry-After", out var v) && int.TryParse(v, out var seconds) && seconds >= 0 ? TimeSpan.FromSeconds(seconds) : null;
}
