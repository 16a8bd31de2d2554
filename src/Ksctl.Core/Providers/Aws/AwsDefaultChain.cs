using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Amazon.Runtime.SharedInterfaces;
using Amazon.SecurityToken;
using Ksctl.Core.Diagnostics;

namespace Ksctl.Core.Providers.Aws;

/// <summary>
/// The last resorts of the AWS sign-in, once -Credential, -ProfileName, the stored credential, the AWS_* keys and
/// AWS_PROFILE gave nothing, in the order issue #14 states: the <c>[default]</c> profile of the shared files (static,
/// SSO, assume-role, credential_process), web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, as EKS IRSA and
/// CI OIDC set them), container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI/RELATIVE_URI: ECS tasks, EKS Pod
/// Identity) and the instance role over IMDSv2.
/// <para>Why not the SDK's DefaultAWSCredentialsIdentityResolver: its process-wide instance caches what it found (a
/// PowerShell session that changes its environment keeps the first answer), it asks web identity before the shared
/// files, and its web-identity STS client goes to the global endpoint of the SDK's fallback region rather than the
/// cluster's region (and to no override). Each provider here is the SDK's own class, built fresh for this sign-in and
/// proven at once, so a credential that cannot be had fails in preflight as KsctlAuthenticationFailed, naming its way.</para>
/// </summary>
internal static class AwsDefaultChain
{
    public const string WebIdentityTokenFileVariable = "AWS_WEB_IDENTITY_TOKEN_FILE";
    public const string RoleArnVariable = "AWS_ROLE_ARN";
    public const string RoleSessionNameVariable = "AWS_ROLE_SESSION_NAME";
    public const string ContainerFullUriVariable = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
    public const string ContainerRelativeUriVariable = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
    public const string MetadataDisabledVariable = "AWS_EC2_METADATA_DISABLED";

    public static async Task<AwsSignIn> ResolveAsync(AwsEndpoints endpoints, string region, CancellationToken ct)
    {
        AwsSharedFiles.FollowEnvironment();
        AWSCredentials credentials;
        string? label;
        AwsCredentialSource source;
        try
        {
            (source, label, credentials) = Pick(endpoints, region);
        }
        catch (Exception e) when (e is AmazonClientException or AmazonServiceException or InvalidOperationException or HttpRequestException or IOException)
        {
            // The instance role's provider asks IMDS for the role's name as it is built.
            throw Refused(AwsCredentialSource.InstanceRole, e.Message);
        }
        return await ProveAsync(new AwsSignIn(credentials, source, label), ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Gets the credential now (an SSO login that expired or was revoked, a web identity token STS refuses, no IMDS,
    /// a credential_process that fails): the preflight's error then names the way that was tried and is
    /// KsctlAuthenticationFailed, not a cloud error of whatever call happened to resolve it first. Nothing is created.
    /// </summary>
    public static async Task<AwsSignIn> ProveAsync(AwsSignIn signIn, CancellationToken ct)
    {
        try
        {
            await signIn.Credentials.GetCredentialsAsync().WaitAsync(ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AmazonClientException or AmazonServiceException or InvalidOperationException or ArgumentException or HttpRequestException or IOException)
        {
            throw new KsctlException("KsctlAuthenticationFailed", KsctlErrorCategory.AuthenticationError,
                $"The AWS {Describe(signIn.Source)}{(signIn.Label is null ? "" : $" ({signIn.Label})")} gave no credential: {e.Message}", "Aws", e)
            {
                RecommendedAction = signIn.Source is AwsCredentialSource.Profile or AwsCredentialSource.Default
                    ? "For an SSO profile run 'aws sso login --profile <name>'; otherwise check it with 'aws configure list --profile <name>', or give -Credential."
                    : "Give -Credential or -ProfileName, run Set-KsctlCredential -Provider Aws, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.",
            };
        }
        return signIn;
    }

    private static (AwsCredentialSource Source, string? Label, AWSCredentials Credentials) Pick(AwsEndpoints endpoints, string region)
    {
        var chain = new CredentialProfileStoreChain(Variable("AWS_SHARED_CREDENTIALS_FILE"));
        if (chain.TryGetProfile("default", out _) && chain.TryGetAWSCredentials("default", out var profile) && profile is not null)
            return (AwsCredentialSource.Default, "profile default", profile);

        var tokenFile = Variable(WebIdentityTokenFileVariable);
        var roleArn = Variable(RoleArnVariable);
        if (tokenFile is not null || roleArn is not null)
        {
            if (tokenFile is null || roleArn is null)
                throw Refused(AwsCredentialSource.WebIdentity, $"{WebIdentityTokenFileVariable} and {RoleArnVariable} must both be set");
            if (!Path.IsPathFullyQualified(tokenFile))
                throw Refused(AwsCredentialSource.WebIdentity, $"{WebIdentityTokenFileVariable} must be an absolute path, not '{tokenFile}'");
            return (AwsCredentialSource.WebIdentity, roleArn,
                new WebIdentityCredentials(tokenFile, roleArn, Variable(RoleSessionNameVariable), () => StsClient(endpoints, region)));
        }

        if (Variable(ContainerFullUriVariable) is { } full) return (AwsCredentialSource.Container, full, new GenericContainerCredentials());
        if (Variable(ContainerRelativeUriVariable) is { } relative) return (AwsCredentialSource.Container, relative, new GenericContainerCredentials());

        if (string.Equals(Variable(MetadataDisabledVariable), "true", StringComparison.OrdinalIgnoreCase))
            throw Refused(AwsCredentialSource.InstanceRole, $"there is no default profile, web identity or container credential, and {MetadataDisabledVariable} turns the instance role off");
        return (AwsCredentialSource.InstanceRole, null, new InstanceProfileAWSCredentials());
    }

    /// <summary>STS for AssumeRoleWithWebIdentity: the cluster's regional endpoint (or the override), unsigned as the operation is.</summary>
    private static AmazonSecurityTokenServiceClient StsClient(AwsEndpoints endpoints, string region) =>
        new(new AnonymousAWSCredentials(), new AmazonSecurityTokenServiceConfig
        {
            ServiceURL = endpoints.For(AwsEndpoints.Sts, region).ToString(),
            AuthenticationRegion = region,
            RetryMode = RequestRetryMode.Standard,
            MaxErrorRetry = endpoints.MaxErrorRetry,
        });

    /// <summary>The SDK's web identity credential (token file re-read at each refresh), with STS where Ksctl says.</summary>
    private sealed class WebIdentityCredentials(string tokenFile, string roleArn, string? sessionName, Func<AmazonSecurityTokenServiceClient> client)
        : AssumeRoleWithWebIdentityCredentials(tokenFile, roleArn, sessionName)
    {
        protected override ICoreAmazonSTS CreateClient() => client();
    }

    private static string Describe(AwsCredentialSource source) => source switch
    {
        AwsCredentialSource.WebIdentity => "web identity",
        AwsCredentialSource.Container => "container credential endpoint",
        AwsCredentialSource.InstanceRole => "instance role (IMDSv2)",
        _ => "profile",
    };

    private static KsctlException Refused(AwsCredentialSource source, string why) =>
        new("KsctlAuthenticationFailed", KsctlErrorCategory.AuthenticationError, $"No AWS credential was found: the {Describe(source)}: {why}.", "Aws")
        {
            RecommendedAction = "Give -Credential (access key id / secret access key) or -ProfileName, run Set-KsctlCredential -Provider Aws, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.",
        };

    private static string? Variable(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v.Trim() : null;
}
