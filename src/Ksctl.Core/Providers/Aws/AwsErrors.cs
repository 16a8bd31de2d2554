using System.Net;
using Amazon.Runtime;
using Ksctl.Core.Diagnostics;

namespace Ksctl.Core.Providers.Aws;

/// <summary>
/// AWS's errors as Ksctl errors, the service's code and message verbatim. The codes are AWS's own: the common errors of
/// the EC2 API reference ("Error codes for the Amazon EC2 API"), STS/IAM common errors, and the JSON services' __type.
/// </summary>
internal static class AwsErrors
{
    /// <summary>The credential itself is refused (unknown key, bad signature, expired session): nothing else can work.</summary>
    public static readonly IReadOnlySet<string> CredentialCodes = new HashSet<string>(StringComparer.Ordinal)
    {
        "AuthFailure", "InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException", "InvalidSignatureException",
        "ExpiredToken", "ExpiredTokenException", "IncompleteSignature", "MissingAuthenticationToken", "InvalidAccessKeyId",
    };

    /// <summary>
    /// EC2's eventual consistency: a resource just created is not yet visible to the next call (EC2 API reference,
    /// "Eventual consistency in the Amazon EC2 API"): retry with back-off, never create again.
    /// </summary>
    public static bool IsNotYetVisible(AmazonServiceException e) =>
        e.ErrorCode is { } c && c.EndsWith(".NotFound", StringComparison.Ordinal) && c.StartsWith("Invalid", StringComparison.Ordinal);

    public static KsctlException ToException(string service, string what, AmazonServiceException e)
    {
        var code = e.ErrorCode ?? "Unknown";
        var status = (int)e.StatusCode;
        if (CredentialCodes.Contains(code))
            return new KsctlException("KsctlAuthenticationFailed", KsctlErrorCategory.AuthenticationError,
                $"AWS rejected the credential ({service} {code}): {e.Message}", "Aws", e)
            {
                RecommendedAction = "Check the access key and secret (-Credential, Set-KsctlCredential -Provider Aws, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) or the profile (-ProfileName, AWS_PROFILE).",
            };
        return new KsctlException("KsctlCloudApiError", Category(status, code), $"AWS {service} {what} failed with {status} {code}: {e.Message}", "Aws", e);
    }

    /// <summary>The network failed before AWS answered (DNS, refused connection, TLS): a connection error, not a bad credential.</summary>
    public static KsctlException Unreachable(string service, Uri url, Exception e) =>
        new("KsctlCloudApiError", KsctlErrorCategory.ConnectionError, $"Cannot reach AWS {service} at {url.GetLeftPart(UriPartial.Authority)}: {e.Message}", "Aws", e);

    internal static KsctlErrorCategory Category(int status, string code) => code switch
    {
        "UnauthorizedOperation" or "AccessDenied" or "AccessDeniedException" or "OptInRequired" or "Blocked" => KsctlErrorCategory.SecurityError,
        "InsufficientInstanceCapacity" or "InstanceLimitExceeded" or "VcpuLimitExceeded" or "ResourceLimitExceeded" or "Unsupported"
            or "VpcLimitExceeded" or "AddressLimitExceeded" or "LimitExceeded" or "LimitExceededException" => KsctlErrorCategory.ResourceUnavailable,
        "RequestLimitExceeded" or "Throttling" or "ThrottlingException" => KsctlErrorCategory.ResourceBusy,
        "DependencyViolation" or "ResourceInUseException" or "IncorrectState" or "IncorrectInstanceState" => KsctlErrorCategory.InvalidOperation,
        _ when code.EndsWith("NotFound", StringComparison.Ordinal) || code.EndsWith("NotFoundException", StringComparison.Ordinal) || code == "NoSuchEntity" => KsctlErrorCategory.ObjectNotFound,
        _ when code.EndsWith(".Duplicate", StringComparison.Ordinal) || code is "IdempotentParameterMismatch" => KsctlErrorCategory.ResourceExists,
        _ => status switch
        {
            400 => KsctlErrorCategory.InvalidArgument,
            401 or 403 => KsctlErrorCategory.SecurityError,
            404 => KsctlErrorCategory.ObjectNotFound,
            409 => KsctlErrorCategory.InvalidOperation,
            429 => KsctlErrorCategory.ResourceBusy,
            >= 500 => KsctlErrorCategory.ResourceUnavailable,
            _ => KsctlErrorCategory.InvalidResult,
        },
    };

    public static bool IsStatus(AmazonServiceException e, HttpStatusCode status) => e.StatusCode == status;
}
