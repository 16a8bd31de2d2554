using Amazon.Runtime;
using Amazon.Runtime.Internal;
using Amazon.Runtime.Internal.Auth;
using Amazon.SecurityToken;

namespace Ksctl.Core.Providers.Aws;

/// <summary>An access key for <see cref="AwsRequestSigner"/>; <see cref="ToString"/> never shows the secret.</summary>
public sealed record AwsSigningKeys(string AccessKeyId, string SecretAccessKey, string? SessionToken = null)
{
    public override string ToString() => $"AWS access key {AccessKeyId}";
}

/// <summary>
/// Signs an <see cref="HttpRequestMessage"/> for an AWS service that has no SDK package here (IAM, EKS) with the SDK's
/// own SigV4 signer (<c>Amazon.Runtime.Internal.Auth.AWS4Signer</c>), exactly as an SDK client would: it adds
/// <c>X-Amz-Date</c>, <c>X-Amz-Content-SHA256</c>, <c>X-Amz-Security-Token</c> for a session and <c>Authorization</c>,
/// signing host, the date, the token and the content type. Sign last: any header added afterwards is not signed, and
/// a changed body breaks the signature.
/// </summary>
public static class AwsRequestSigner
{
    /// <param name="service">The signing name: <c>iam</c>, <c>eks</c>, <c>sts</c>...</param>
    /// <param name="region">The signing region (IAM: us-east-1, see <see cref="AwsEndpoints.SigningRegion"/>).</param>
    /// <param name="signedAt">The signing time (UTC); null: now.</param>
    public static async Task SignAsync(HttpRequestMessage request, AwsSigningKeys keys, string service, string region,
        DateTime? signedAt = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(keys);
        var uri = request.RequestUri ?? throw new ArgumentException("The request has no URI.", nameof(request));
        if (!uri.IsAbsoluteUri) throw new ArgumentException("The request URI must be absolute.", nameof(request));
        var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);

        var sdkRequest = new DefaultRequest(new UnsignedRequest(), service)
        {
            Endpoint = new Uri(uri.GetLeftPart(UriPartial.Authority)),
            ResourcePath = uri.AbsolutePath,
            HttpMethod = request.Method.Method,
            Content = body,
            OverrideSigningServiceName = service,
            AuthenticationRegion = region,
        };
        foreach (var (name, value) in Query(uri.Query)) sdkRequest.Parameters.Add(name, value);
        if (request.Content?.Headers.ContentType is { } contentType) sdkRequest.Headers["Content-Type"] = contentType.ToString();
        if (keys.SessionToken is { Length: > 0 } token) sdkRequest.Headers["X-Amz-Security-Token"] = token;

        // The SDK reads the signing region and service from a client config when the request does not say them.
        var config = new AmazonSecurityTokenServiceConfig { AuthenticationRegion = region, AuthenticationServiceName = service };
        var time = (signedAt ?? DateTime.UtcNow).ToUniversalTime();
        var result = new AWS4Signer().SignRequest(sdkRequest, config, null, keys.AccessKeyId, keys.SecretAccessKey, time);

        foreach (var name in new[] { "X-Amz-Date", "X-Amz-Content-SHA256", "X-Amz-Security-Token" })
            if (sdkRequest.Headers.TryGetValue(name, out var value))
            {
                request.Headers.Remove(name);
                request.Headers.TryAddWithoutValidation(name, value);
            }
        request.Headers.Remove("Authorization");
        request.Headers.TryAddWithoutValidation("Authorization", result.ForAuthorizationHeader);
    }

    /// <summary>The same with an SDK credential (a profile's, an SSO session's): its current keys are read first.</summary>
    internal static async Task SignAsync(HttpRequestMessage request, AWSCredentials credentials, string service, string region,
        DateTime? signedAt = null, CancellationToken cancellationToken = default)
    {
        var current = await credentials.GetCredentialsAsync().ConfigureAwait(false);
        await SignAsync(request, new AwsSigningKeys(current.AccessKey, current.SecretKey, current.UseToken ? current.Token : null),
            service, region, signedAt, cancellationToken).ConfigureAwait(false);
    }

    private static IEnumerable<(string Name, string Value)> Query(string query)
    {
        foreach (var pair in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var i = pair.IndexOf('=');
            var name = Uri.UnescapeDataString((i < 0 ? pair : pair[..i]).Replace('+', ' '));
            var value = i < 0 ? "" : Uri.UnescapeDataString(pair[(i + 1)..].Replace('+', ' '));
            yield return (name, value);
        }
    }

    private sealed class UnsignedRequest : AmazonWebServiceRequest;
}
