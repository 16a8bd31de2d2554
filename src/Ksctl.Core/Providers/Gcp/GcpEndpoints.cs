using System.Net;
using Ksctl.Core.Diagnostics;

namespace Ksctl.Core.Providers.Gcp;

/// <summary>
/// Where Compute Engine, GKE and Google's OAuth token endpoint are. The default is Google's public endpoints; tests
/// point all three at the in-process emulator (plain http is accepted only on a loopback address).
/// </summary>
internal sealed record GcpEndpoints
{
    public static readonly GcpEndpoints Public = new()
    {
        Compute = new Uri("https://compute.googleapis.com/compute/v1/"),
        Container = new Uri("https://container.googleapis.com/v1/"),
        TokenUrl = new Uri("https://oauth2.googleapis.com/token"),
    };

    /// <summary>Compute Engine API v1 root (ends with /compute/v1/).</summary>
    public required Uri Compute { get; init; }
    /// <summary>GKE API v1 root (ends with /v1/).</summary>
    public required Uri Container { get; init; }
    /// <summary>Google's OAuth 2.0 token endpoint: the audience of a service account's JWT-bearer assertion.</summary>
    public required Uri TokenUrl { get; init; }
    /// <summary>Google's Security Token Service (workload identity federation exchanges its external token here).</summary>
    public Uri StsUrl { get; init; } = new("https://sts.googleapis.com/v1/token");
    /// <summary>The IAM Credentials API root: a federated identity may impersonate a service account only through it.</summary>
    public Uri IamCredentials { get; init; } = new("https://iamcredentials.googleapis.com/");
    /// <summary>
    /// Whether the last resort of the credential order, Application Default Credentials (gcloud's user credentials,
    /// workload identity federation, the metadata server), is tried. Tests turn it off so nothing of the host signs in.
    /// </summary>
    public bool UseApplicationDefault { get; init; } = true;
    /// <summary>How often and how long to wait (tests substitute milliseconds).</summary>
    public GcpTimings Timings { get; init; } = GcpTimings.Default;

    /// <summary>Refuses an endpoint that would send a token or a signed assertion in clear text; checked before any request.</summary>
    public void Validate()
    {
        foreach (var (name, uri) in new[] { ("Compute", Compute), ("Container", Container), ("TokenUrl", TokenUrl), ("StsUrl", StsUrl), ("IamCredentials", IamCredentials) })
        {
            if (!uri.IsAbsoluteUri || string.IsNullOrEmpty(uri.Host))
                throw new InvalidSpecException(name, $"'{uri}' is not an absolute URL of a Google endpoint.");
            var loopback = uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
            if (uri.Scheme != Uri.UriSchemeHttps && !(loopback && uri.Scheme == Uri.UriSchemeHttp))
                throw new InvalidSpecException(name, $"the Google endpoint '{uri.GetLeftPart(UriPartial.Authority)}' must use https (plain http only on a loopback address); nothing was sent.");
        }
    }

    /// <summary>Whether <paramref name="url"/> (a selfLink read from an answer) is under one of these endpoints: only those are followed.</summary>
    public bool Owns(Uri url) =>
        new[] { Compute, Container }.Any(root => Uri.Compare(url, root, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0
            && url.AbsolutePath.StartsWith(root.AbsolutePath, StringComparison.Ordinal));
}

/// <summary>Polling and retry timings. Compute operations take seconds, GKE clusters minutes.</summary>
internal sealed record GcpTimings
{
    public static readonly GcpTimings Default = new();
    public TimeSpan FirstPoll { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan MaxPoll { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>First retry delay for 429/5xx and lost answers (doubles, with jitter, up to <see cref="MaxPoll"/>).</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);
    public int MaxAttempts { get; init; } = 8;
    public TimeSpan OperationDeadline { get; init; } = TimeSpan.FromMinutes(10);
    public TimeSpan ClusterDeadline { get; init; } = TimeSpan.FromMinutes(40);
    /// <summary>How long a firewall or network may stay in use after what used it is gone (deletes finish lazily).</summary>
    public TimeSpan InUse { get; init; } = TimeSpan.FromMinutes(3);
    /// <summary>How long the metadata server may take to answer before Ksctl concludes it is not on Google Cloud.</summary>
    public TimeSpan MetadataProbe { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan Next(TimeSpan delay) => TimeSpan.FromMilliseconds(Math.Min(MaxPoll.TotalMilliseconds, delay.TotalMilliseconds * 2));
}
