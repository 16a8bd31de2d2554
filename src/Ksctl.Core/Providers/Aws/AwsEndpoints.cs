using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Ksctl.Core.Diagnostics;

namespace Ksctl.Core.Providers.Aws;

/// <summary>
/// Where the AWS services are, one URL per service, and how patient to be with them. Null (the default) means the real
/// regional endpoint (<see cref="Regional"/>: <c>https://ec2.us-east-1.amazonaws.com</c> and so on); tests point every
/// service at the in-process emulator, the way <see cref="Azure.AzureEndpoints"/> points ARM at the ARM emulator.
/// </summary>
internal sealed record AwsEndpoints
{
    public static readonly AwsEndpoints Public = new();

    /// <summary>The services Ksctl calls, by the name SigV4 signs them with (the credential scope's service).</summary>
    public const string Ec2 = "ec2", Sts = "sts", Ssm = "ssm", Iam = "iam", Eks = "eks";

    public Uri? Ec2Url { get; init; }
    public Uri? StsUrl { get; init; }
    public Uri? SsmUrl { get; init; }
    /// <summary>IAM is global: its one endpoint signs with region us-east-1.</summary>
    public Uri? IamUrl { get; init; }
    public Uri? EksUrl { get; init; }

    /// <summary>Every service at one URL (the emulator routes by the signature's service).</summary>
    public static AwsEndpoints AllAt(Uri url) => new() { Ec2Url = url, StsUrl = url, SsmUrl = url, IamUrl = url, EksUrl = url };

    /// <summary>Extra server certificate check (tests only); null uses the system's trust.</summary>
    public Func<X509Certificate2?, X509Chain?, SslPolicyErrors, bool>? ServerCertificateValidation { get; init; }

    /// <summary>
    /// Tests only: after -Credential, the stored credential, the AWS_* keys and a named profile, the SDK's default chain
    /// (the default profile of ~/.aws, web identity, container and instance roles over IMDS) is not asked, so a test never
    /// signs in as the developer or waits on IMDS.
    /// </summary>
    public bool ExcludeHostCredentials { get; init; }

    /// <summary>How many times the SDK retries a throttled or failed call (standard retry mode).</summary>
    public int MaxErrorRetry { get; init; } = 8;

    /// <summary>Lower bound between polls of a resource's state (instances running, terminated...).</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>First back-off for Ksctl's own retries (eventual consistency, DependencyViolation), doubling to 30 s.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The URL of <paramref name="service"/> in <paramref name="region"/>: the override, else the SDKs' standard variables
    /// (AWS_ENDPOINT_URL_&lt;SERVICE&gt;, then AWS_ENDPOINT_URL, unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true:
    /// docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html; VPC endpoints, proxies and local emulators use
    /// them), else AWS's regional endpoint.
    /// </summary>
    public Uri For(string service, string region) => service.ToLowerInvariant() switch // callers name EC2 as "EC2" in messages
    {
        Ec2 => Ec2Url,
        Sts => StsUrl,
        Ssm => SsmUrl,
        Iam => IamUrl,
        Eks => EksUrl,
        _ => throw new ArgumentException($"Unknown AWS service '{service}'.", nameof(service)),
    } ?? Configured(service) ?? Regional(service, region);

    /// <summary>The endpoint the environment configures for a service (its SDK service id upper-cased), or null.</summary>
    internal static Uri? Configured(string service)
    {
        if (string.Equals(Environment.GetEnvironmentVariable("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true", StringComparison.OrdinalIgnoreCase)) return null;
        var value = Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL_" + service.ToUpperInvariant()) is { Length: > 0 } specific ? specific
            : Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL") is { Length: > 0 } global ? global : null;
        if (value is null) return null;
        if (!Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri))
            throw new InvalidSpecException("AWS_ENDPOINT_URL", $"'{value}' is not an absolute URL of an AWS endpoint.");
        return uri;
    }

    /// <summary>
    /// AWS's own endpoint (docs.aws.amazon.com/general/latest/gr/rande.html): <c>https://{service}.{region}.amazonaws.com</c>,
    /// IAM's global <c>https://iam.amazonaws.com</c>, and <c>.amazonaws.com.cn</c> in the China partition.
    /// </summary>
    public static Uri Regional(string service, string region)
    {
        var suffix = region.StartsWith("cn-", StringComparison.Ordinal) ? "amazonaws.com.cn" : "amazonaws.com";
        return service == Iam
            ? new Uri(region.StartsWith("cn-", StringComparison.Ordinal) ? "https://iam.cn-north-1.amazonaws.com.cn/" : "https://iam.amazonaws.com/")
            : new Uri($"https://{service}.{region}.{suffix}/");
    }

    /// <summary>The region a service's requests are signed for: IAM's is us-east-1 (cn-north-1 in China), the others the cluster's.</summary>
    public static string SigningRegion(string service, string region) =>
        service == Iam ? (region.StartsWith("cn-", StringComparison.Ordinal) ? "cn-north-1" : "us-east-1") : region;

    /// <summary>
    /// Refuses an override that would send signed requests in clear text: https, except on a loopback address (a local
    /// emulator or proxy). Checked before any request.
    /// </summary>
    public void Validate()
    {
        foreach (var (name, uri) in new[]
                 {
                     ("Ec2Url", Ec2Url ?? Configured(Ec2)), ("StsUrl", StsUrl ?? Configured(Sts)), ("SsmUrl", SsmUrl ?? Configured(Ssm)),
                     ("IamUrl", IamUrl ?? Configured(Iam)), ("EksUrl", EksUrl ?? Configured(Eks)),
                 })
        {
            if (uri is null) continue;
            if (!uri.IsAbsoluteUri || string.IsNullOrEmpty(uri.Host))
                throw new InvalidSpecException(name, $"'{uri}' is not an absolute URL of an AWS endpoint.");
            var loopback = uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
            if (uri.Scheme != Uri.UriSchemeHttps && !(loopback && uri.Scheme == Uri.UriSchemeHttp))
                throw new InvalidSpecException(name, $"the AWS endpoint '{uri.GetLeftPart(UriPartial.Authority)}' must use https (plain http is accepted only on a loopback address); nothing was sent.");
        }
    }
}
