using System.Net.Sockets;
using Azure;
using Azure.Identity;
using Ksctl.Core.Diagnostics;

namespace Ksctl.Core.Storage.AzureBlob;

/// <summary>Turns SDK and network failures into Ksctl errors, so no Azure type needs to be caught by callers.</summary>
internal static class BlobErrors
{
    public const string LeaseAlreadyPresent = "LeaseAlreadyPresent";

    public static bool IsStatus(this RequestFailedException ex, int status, params string[] codes) =>
        ex.Status == status && (codes.Length == 0 || codes.Contains(ex.ErrorCode, StringComparer.Ordinal));

    /// <summary>
    /// The Ksctl error for <paramref name="ex"/>, or null when it is not an SDK/network failure (a KsctlException,
    /// or a cancellation the caller asked for, passes through unchanged).
    /// </summary>
    public static KsctlException? Translate(Exception ex, string store, CancellationToken cancellationToken)
    {
        if (ex is KsctlException) return null;
        if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested) return null;
        if (ex is AuthenticationFailedException or CredentialUnavailableException)
            return new StateStoreAccessDeniedException(store, ex.Message, KsctlErrorCategory.AuthenticationError, ex)
            {
                RecommendedAction = "Sign in (Connect-AzAccount / az login), or give the runbook's managed identity the 'Storage Blob Data Contributor' role on the container.",
            };
        if (IsUnavailable(ex))
            return new StateStoreUnavailableException(store, Describe(ex), ex);
        if (ex is RequestFailedException { Status: 401 or 403 } denied)
            return new StateStoreAccessDeniedException(store, $"{denied.Status} {denied.ErrorCode}", KsctlErrorCategory.SecurityError, ex)
            {
                RecommendedAction = "Check the connection string or SAS, or give your identity the 'Storage Blob Data Contributor' role on the container.",
            };
        if (ex is RequestFailedException failed)
            return new KsctlException("KsctlStateStoreError", KsctlErrorCategory.InvalidResult,
                $"The state store ({store}) answered {failed.Status} {failed.ErrorCode}: {FirstLine(failed.Message)}", store, ex);
        return null;
    }

    /// <summary>Network failures, timeouts and server errors that survived the client's retries.</summary>
    public static bool IsUnavailable(Exception ex) => ex switch
    {
        AggregateException agg => agg.InnerExceptions.Count > 0 && agg.InnerExceptions.All(IsUnavailable),
        RequestFailedException rfe => rfe.Status == 0 || rfe.Status >= 500 || (rfe.InnerException is { } inner && IsUnavailable(inner)),
        HttpRequestException or SocketException or IOException or TimeoutException => true,
        // Azure.Core reports its NetworkTimeout as a cancellation the caller did not ask for.
        OperationCanceledException => true,
        _ => false,
    };

    private static string Describe(Exception ex)
    {
        var root = ex;
        while (root is AggregateException { InnerExceptions.Count: > 0 } agg) root = agg.InnerExceptions[^1];
        var innermost = root;
        var timedOut = root is OperationCanceledException or TimeoutException;
        while (innermost.InnerException is { } inner)
        {
            innermost = inner;
            timedOut |= inner is OperationCanceledException or TimeoutException;
        }
        var text = FirstLine(innermost.Message);
        return timedOut ? $"it did not answer within the network timeout ({text})" : text;
    }

    private static string FirstLine(string message)
    {
        var line = message.Split('\n', 2)[0].Trim();
        return line.Length == 0 ? "(no detail)" : line;
    }
}
