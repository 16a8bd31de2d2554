using System.Text.Json.Nodes;
using Ksctl.Core.Diagnostics;

namespace Ksctl.Core.Providers.Gcp;

/// <summary>
/// Google's error shapes: the JSON error body of a failed call <c>{"error":{"code":int,"message","status","errors":[{"reason",
/// "domain","message"}]}}</c> (cloud.google.com/apis/design/errors; Compute's "errors[].reason", GKE's "status"), and the
/// error inside a DONE operation: Compute's <c>error.errors[{code,message}]</c> (compute-api.json Operation.error) or
/// GKE's <c>error</c> google.rpc.Status (container-api.json Operation.error).
/// </summary>
internal sealed record GcpError(int Status, string Code, string Message)
{
    public static GcpError Parse(int status, string? text)
    {
        JsonObject? error = null;
        try { error = (JsonNode.Parse(text ?? "") as JsonObject)?["error"] as JsonObject; }
        catch (System.Text.Json.JsonException) { }
        if (error is null) return new GcpError(status, status.ToString(), Trim(text));
        var reason = (error["errors"] as JsonArray)?.FirstOrDefault()?["reason"] is JsonValue r && r.TryGetValue<string>(out var rs) ? rs : null;
        var code = error["status"] is JsonValue st && st.TryGetValue<string>(out var ss) ? ss : null;
        var message = error["message"] is JsonValue m && m.TryGetValue<string>(out var ms) ? ms : "";
        return new GcpError(status, reason ?? code ?? status.ToString(), message);
    }

    /// <summary>The error inside a DONE operation (Compute or GKE), or null when it succeeded.</summary>
    public static GcpError? FromOperation(JsonObject operation)
    {
        if (operation["error"] is not JsonObject error) return null;
        if (error["errors"] is JsonArray { Count: > 0 } errors)
        {
            var parts = errors.OfType<JsonObject>().Select(e => (Code: Str(e["code"]) ?? "UNKNOWN", Message: Str(e["message"]) ?? "")).ToList();
            var status = operation["httpErrorStatusCode"] is JsonValue h && h.TryGetValue<int>(out var hs) ? hs : 400;
            return new GcpError(status, parts[0].Code, string.Join("; ", parts.Select(p => p.Message)));
        }
        var rpc = error["code"] is JsonValue c && c.TryGetValue<int>(out var ci) ? ci : 2;
        return new GcpError(rpc, RpcCode(rpc), Str(error["message"]) ?? Str(operation["statusMessage"]) ?? "");
    }

    /// <summary>Statuses and reasons Google documents as "retry with exponential backoff" (cloud.google.com/compute/docs/api/how-tos/api-rate-limits; apis/design/errors).</summary>
    public bool Retryable => Status is 429 or 500 or 502 or 503 or 504
        || (Status == 403 && Code is "rateLimitExceeded" or "userRateLimitExceeded" or "RATE_LIMIT_EXCEEDED");

    public KsctlException ToException(string what) =>
        Status is 401 || (Status == 403 && Code is "ACCESS_TOKEN_SCOPE_INSUFFICIENT" or "accessNotConfigured" or "SERVICE_DISABLED")
            ? new KsctlException("KsctlAuthenticationFailed", KsctlErrorCategory.AuthenticationError, $"GCP {what} was refused ({Status} {Code}): {Message}", "Gcp")
            {
                RecommendedAction = "Check the service account's key and roles (Compute Admin, Kubernetes Engine Admin, Service Account User) and that the Compute Engine and GKE APIs are enabled in the project.",
            }
            : new KsctlException("KsctlCloudApiError", Category, $"GCP {what} failed with {Status} {Code}: {Message}", "Gcp") { Data = { ["GcpCode"] = Code, ["GcpStatus"] = Status } };

    private KsctlErrorCategory Category => Code switch
    {
        "QUOTA_EXCEEDED" or "quotaExceeded" or "ZONE_RESOURCE_POOL_EXHAUSTED" => KsctlErrorCategory.ResourceUnavailable,
        "resourceInUseByAnotherResource" => KsctlErrorCategory.ResourceBusy,
        "alreadyExists" => KsctlErrorCategory.ResourceExists,
        "notFound" => KsctlErrorCategory.ObjectNotFound,
        _ when Status == 403 => KsctlErrorCategory.SecurityError,
        _ when Status == 400 => KsctlErrorCategory.InvalidArgument,
        _ => KsctlErrorCategory.NotSpecified,
    };

    private static string? Str(JsonNode? n) => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static string Trim(string? text) => text is null ? "" : text.Length > 300 ? text[..300] : text;

    /// <summary>google.rpc.Code names (googleapis google/rpc/code.proto).</summary>
    private static string RpcCode(int code) => code switch
    {
        1 => "CANCELLED", 3 => "INVALID_ARGUMENT", 4 => "DEADLINE_EXCEEDED", 5 => "NOT_FOUND", 6 => "ALREADY_EXISTS", 7 => "PERMISSION_DENIED",
        8 => "RESOURCE_EXHAUSTED", 9 => "FAILED_PRECONDITION", 10 => "ABORTED", 13 => "INTERNAL", 14 => "UNAVAILABLE", 16 => "UNAUTHENTICATED", _ => "UNKNOWN",
    };
}
