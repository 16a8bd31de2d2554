using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Amazon.Runtime;
using Amazon.Runtime.Signing;

namespace Ksctl.Core.Providers.Aws.Eks;

/// <summary>
/// The bearer token EKS accepts (kubernetes-sigs/aws-iam-authenticator pkg/token/token.go, the same as
/// `aws eks get-token`): an STS GetCallerIdentity URL presigned with SigV4 by the SDK's signer, with the
/// <c>x-k8s-aws-id</c> header (the cluster name) among the signed headers and X-Amz-Expires 60, encoded base64url
/// without padding after the prefix <c>k8s-aws-v1.</c>. The authenticator accepts it for 15 minutes after X-Amz-Date;
/// the ExecCredential says it expires one minute earlier, as the authenticator's generator does.
/// </summary>
public static class EksToken
{
    public const string Prefix = "k8s-aws-v1.";
    public const string ClusterIdHeader = "x-k8s-aws-id";
    internal static readonly TimeSpan PresignExpiry = TimeSpan.FromSeconds(60);
    internal static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(14);

    /// <summary>
    /// The ExecCredential (client.authentication.k8s.io/v1beta1) JSON for <paramref name="clusterName"/> in
    /// <paramref name="region"/>, signed with the AWS SDK's default credential chain (AWS_* variables, the profile
    /// <paramref name="profile"/> or AWS_PROFILE, SSO, web identity, container and instance roles). This is what the
    /// kubeconfig's exec entry runs (`ksctl token`) where the AWS CLI is not installed.
    /// </summary>
    public static string ExecCredentialJson(string clusterName, string region, string? profile = null, string? stsEndpoint = null)
    {
        if (string.IsNullOrWhiteSpace(clusterName)) throw new Diagnostics.InvalidSpecException("ClusterName", "is required (the EKS cluster's name).");
        if (string.IsNullOrWhiteSpace(region)) throw new Diagnostics.InvalidSpecException("Region", "is required (the EKS cluster's region, e.g. us-east-1).");
        AWSCredentials credentials;
        if (!string.IsNullOrEmpty(profile))
        {
            if (!new Amazon.Runtime.CredentialManagement.CredentialProfileStoreChain().TryGetAWSCredentials(profile, out credentials))
                throw new Diagnostics.KsctlException("KsctlAuthenticationFailed", Diagnostics.KsctlErrorCategory.AuthenticationError,
                    $"The AWS profile '{profile}' was not found in the shared config or credentials file.", profile);
        }
        else
        {
            credentials = Amazon.Runtime.Credentials.DefaultAWSCredentialsIdentityResolver.GetCredentials();
        }
        var sts = stsEndpoint is null ? EksEndpoints.Public.Sts(region) : new Uri(stsEndpoint);
        var (token, expires) = Generate(credentials, clusterName, region, sts, DateTime.UtcNow);
        return ExecCredential(token, expires);
    }

    /// <summary>The token and when the ExecCredential should say it expires.</summary>
    internal static (string Token, DateTime Expires) Generate(AWSCredentials credentials, string clusterName, string region, Uri stsEndpoint, DateTime now)
    {
        var request = new AWSSigningRequest
        {
            HttpMethod = HttpMethod.Get,
            RequestUri = new Uri(stsEndpoint, "/?Action=GetCallerIdentity&Version=2011-06-15"),
        };
        request.Headers[ClusterIdHeader] = clusterName;
        var signed = AWSSigV4Signer.Presign(request, new AWSSigV4Parameters
        {
            Credentials = credentials,
            Region = Amazon.RegionEndpoint.GetBySystemName(region),
            Service = "sts",
            SignedAt = now,
        }, PresignExpiry);
        var url = signed.Uri.AbsoluteUri;
        var encoded = Convert.ToBase64String(Encoding.UTF8.GetBytes(url)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return (Prefix + encoded, now + Lifetime);
    }

    /// <summary>The presigned URL inside a token (null when it is not a k8s-aws-v1 token).</summary>
    internal static string? DecodeUrl(string token)
    {
        if (!token.StartsWith(Prefix, StringComparison.Ordinal)) return null;
        var body = token[Prefix.Length..].Replace('-', '+').Replace('_', '/');
        body = body.PadRight(body.Length + (4 - body.Length % 4) % 4, '=');
        try { return Encoding.UTF8.GetString(Convert.FromBase64String(body)); }
        catch (FormatException) { return null; }
    }

    internal static string ExecCredential(string token, DateTime expires) => new JsonObject
    {
        ["kind"] = "ExecCredential",
        ["apiVersion"] = "client.authentication.k8s.io/v1beta1",
        ["spec"] = new JsonObject(),
        ["status"] = new JsonObject
        {
            ["expirationTimestamp"] = expires.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            ["token"] = token,
        },
    }.ToJsonString();
}
