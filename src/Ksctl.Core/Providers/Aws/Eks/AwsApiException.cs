using Ksctl.Core.Diagnostics;

namespace Ksctl.Core.Providers.Aws.Eks;

/// <summary>
/// An error answer from an AWS service Ksctl calls over HTTPS itself (IAM, EKS): the service's own error code
/// (e.g. <c>NoSuchEntity</c>, <c>ResourceInUseException</c>) and message, verbatim, with the HTTP status.
/// </summary>
internal sealed class AwsApiException(string errorId, KsctlErrorCategory category, string message, string code, int status)
    : KsctlException(errorId, category, message, code)
{
    public string Code { get; } = code;
    public int Status { get; } = status;

    /// <summary>Codes that mean the credentials themselves were refused (from the AWS common errors list).</summary>
    internal static bool IsAuthCode(string code) => code is "InvalidClientTokenId" or "SignatureDoesNotMatch" or "UnrecognizedClientException"
        or "ExpiredToken" or "ExpiredTokenException" or "IncompleteSignature" or "InvalidSignatureException" or "MissingAuthenticationToken";

    /// <summary>Throttling codes of IAM (query protocol) and EKS (REST-JSON).</summary>
    internal static bool IsThrottling(string code) => code is "Throttling" or "ThrottlingException" or "TooManyRequestsException" or "RequestLimitExceeded";

    internal static AwsApiException From(string service, string operation, int status, string? code, string? message)
    {
        code ??= status switch { 404 => "NotFound", 403 => "AccessDenied", _ => $"Http{status}" };
        var text = $"{service} {operation} failed with {status} ({code}): {message ?? "(no message)"}";
        if (IsAuthCode(code))
            return new AwsApiException("KsctlAuthenticationFailed", KsctlErrorCategory.AuthenticationError, text, code, status)
            { RecommendedAction = "Check the AWS credentials (-Credential, Set-KsctlCredential -Provider Aws, AWS_* variables or the profile)." };
        var category = status switch
        {
            400 => KsctlErrorCategory.InvalidArgument,
            403 => KsctlErrorCategory.SecurityError,
            404 => KsctlErrorCategory.ObjectNotFound,
            409 => KsctlErrorCategory.ResourceExists,
            429 => KsctlErrorCategory.ResourceBusy,
            >= 500 => KsctlErrorCategory.ResourceUnavailable,
            _ => KsctlErrorCategory.NotSpecified,
        };
        return new AwsApiException("KsctlCloudApiError", category, text, code, status);
    }
}
