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

    private static KsctlErrorCategory Category(int status, string code) => status switch
    {
        400 when code.Contains("Quota", StringComparison.OrdinalIgnoreCase) => KsctlErrorCategory.ResourceUnavailable,
        400 or 422 => KsctlErrorCategory.InvalidArgument,
        403 => KsctlErrorCategory.SecurityError,
        404 => KsctlErrorCategory.ObjectNotFound,
        409 => KsctlErrorCategory.ResourceExists,
        429 => KsctlErrorCategory.ResourceBusy,
        >= 500 => KsctlErrorCategory.ResourceUnavailable,
        _ => KsctlErrorCategory.InvalidResult,
    };
}
