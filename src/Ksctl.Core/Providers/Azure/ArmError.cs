using System.Text.Json;
using Ksctl.Core.Diagnostics;

namespace Ksctl.Core.Providers.Azure;

/// <summary>ARM's error body <c>{"error":{"code","message"}}</c> (also the <c>error</c> of a failed long-running operation).</summary>
internal sealed record ArmError(string Code, string Message)
{
    /// <summary>Reads ARM's error shape; null when the body is not one (an HTML page from a proxy, an empty body).</summary>
    public static ArmError? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        try
        {
            using var doc = JsonDocument.Parse(text);
            return From(doc.RootElement);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static ArmError? From(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) return null;
        var e = root.TryGetProperty("error", out var inner) && inner.ValueKind == JsonValueKind.Object ? inner : root;
        string? Prop(string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var code = Prop("code");
        var message = Prop("message");
        if (code is null && message is null) return null;
        // ARM nests the real cause of a deployment-style failure in details[]: keep the first one's text too.
        if (e.TryGetProperty("details", out var details) && details.ValueKind == JsonValueKind.Array && details.GetArrayLength() > 0
            && From(details[0]) is { } first && first.Message != message)
            message = $"{message} ({first.Code}: {first.Message})";
        return new ArmError(code ?? "Unknown", message ?? "");
    }

    /// <summary>The cloud's words, verbatim: "Azure &lt;what&gt; failed with &lt;status&gt; &lt;code&gt;: &lt;message&gt;".</summary>
    public KsctlException ToException(string what, int status) =>
        status == 401 || Code is "InvalidAuthenticationToken" or "InvalidAuthenticationTokenTenant" or "ExpiredAuthenticationToken"
            ? new KsctlException("KsctlAuthenticationFailed", KsctlErrorCategory.AuthenticationError, $"Azure rejected the credential ({status} {Code}): {Message}", "Azure")
            {
                RecommendedAction = "Check the client id, tenant id, secret and subscription (-Credential/-TenantId/-SubscriptionId, Set-KsctlCredential, or AZURE_* variables).",
            }
            : new KsctlException("KsctlCloudApiError", Category(status, Code), $"Azure {what} failed with {status} {Code}: {Message}", "Azure");

    /// <summary>A long-running operation that ended Failed/Canceled: ARM's code and message verbatim, categorised by code.</summary>
    public ArmOperationFailedException ToOperationException(string what) => new(what, this);

    /// <summary>
    /// Codes ARM documents as transient: the same request succeeds once the other operation (on the resource, or on one
    /// it references, typically the subnet of NICs created in parallel) has finished. Re-issuing the PUT is the cure
    /// (learn.microsoft.com "Troubleshoot common Azure deployment errors": AnotherOperationInProgress, RetryableError;
    /// networking's ReferencedResourceNotProvisioned, OperationNotAllowedWhileUpdating).
    /// </summary>
    public static readonly IReadOnlySet<string> Retryable = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "AnotherOperationInProgress", "RetryableError", "OperationNotAllowedWhileUpdating", "ReferencedResourceNotProvisioned",
    };

    public bool IsRetryable => Retryable.Contains(Code);

    /// <summary>
    /// Capacity and quota refusals (learn.microsoft.com error-sku-not-available, error-resource-quota, and the AKS
    /// quota codes): the request is fine but the region or subscription cannot serve it now. ResourceUnavailable,
    /// whatever the HTTP status (ARM answers them with 400, 409 or inside a failed operation).
    /// </summary>
    private static bool Unavailable(string code) =>
        code.Contains("Quota", StringComparison.OrdinalIgnoreCase)
        || code is "OperationNotAllowed" or "SkuNotAvailable" or "AllocationFailed" or "ZonalAllocationFailed" or "OverconstrainedAllocationRequest"
            or "ResourceQuotaExceeded" or "QuotaExceeded" or "InsufficientVCPUQuota" or "ServiceQuotaExceeded";

    internal static KsctlErrorCategory Category(int status, string code) => status switch
    {
        _ when Unavailable(code) => KsctlErrorCategory.ResourceUnavailable,
        _ when code == "MissingSubscriptionRegistration" => KsctlErrorCategory.InvalidOperation,
        0 => KsctlErrorCategory.InvalidResult,
        400 or 422 => KsctlErrorCategory.InvalidArgument,
        403 => KsctlErrorCategory.SecurityError,
        404 => KsctlErrorCategory.ObjectNotFound,
        409 when code is "Conflict" or "ResourceExists" or "ResourceGroupBeingDeleted" => KsctlErrorCategory.ResourceExists,
        409 => KsctlErrorCategory.InvalidOperation,
        429 => KsctlErrorCategory.ResourceBusy,
        >= 500 => KsctlErrorCategory.ResourceUnavailable,
        _ => KsctlErrorCategory.InvalidResult,
    };
}

/// <summary>A long-running operation that ARM reports Failed or Canceled, with its error code (to decide on a retry).</summary>
internal sealed class ArmOperationFailedException(string what, ArmError error)
    : KsctlException("KsctlCloudApiError", ArmError.Category(0, error.Code), $"Azure {what} failed: {error.Code}: {error.Message}", "Azure")
{
    public ArmError Error { get; } = error;
}
