using Amazon.SecurityToken.Model;
using Ksctl.Core.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Aws;

/// <summary>Who the credential is, as STS says: the account, the ARN and the user id (GetCallerIdentity).</summary>
internal sealed record AwsCaller(string Account, string Arn, string UserId);

/// <summary>Signing in and the SDK clients of one operation.</summary>
internal sealed partial class AwsProvider
{
    /// <summary>The credential (first match of <see cref="AwsCredentials"/>) and the SDK clients for <paramref name="region"/>.</summary>
    internal async Task<AwsClients> ConnectAsync(string region, CancellationToken ct)
    {
        var signIn = await AwsCredentials.ResolveAsync(ExplicitCredential, StoredCredential, _endpoints, ct, region).ConfigureAwait(false);
        _logger.LogDebug("AWS: signing in with the {SignIn}.", signIn.ToString());
        return new AwsClients(signIn, region, _endpoints);
    }

    /// <summary>STS GetCallerIdentity: the account and ARN of the credential (a refused one: KsctlAuthenticationFailed).</summary>
    internal static async Task<AwsCaller> CallerAsync(AwsClients clients, CancellationToken ct)
    {
        var answer = await clients.CallAsync(AwsEndpoints.Sts, "GetCallerIdentity",
            c => clients.Sts.GetCallerIdentityAsync(new GetCallerIdentityRequest(), c), ct).ConfigureAwait(false);
        // Trust nothing read back: an account is 12 digits, an ARN starts arn:aws (arn:aws-cn, arn:aws-us-gov).
        if (answer.Account is not { Length: 12 } account || !account.All(char.IsAsciiDigit)
            || answer.Arn is not { } arn || !arn.StartsWith("arn:aws", StringComparison.Ordinal))
            throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult,
                "AWS STS GetCallerIdentity answered without a valid account and ARN.", "Aws");
        return new AwsCaller(account, arn, answer.UserId ?? "");
    }
}
