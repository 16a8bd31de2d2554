using System.Text.RegularExpressions;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Amazon.Runtime.Credentials;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Storage.Credentials;

namespace Ksctl.Core.Providers.Aws;

/// <summary>Which way the AWS credential was found (shown in verbose output; never the secret).</summary>
internal enum AwsCredentialSource { Parameter, Profile, Stored, Environment, Default, WebIdentity, Container, InstanceRole }

/// <summary>The SDK credential, where it came from, and a label that is never secret (an access key id or a profile name).</summary>
internal sealed record AwsSignIn(AWSCredentials Credentials, AwsCredentialSource Source, string? Label)
{
    public override string ToString() => $"{Source} credential{(Label is null ? "" : $" ({Label})")}";
}

/// <summary>
/// Finds the AWS credential, first match wins: -Credential (user name = access key id, password = secret access key) or
/// -ProfileName (both are choices made for this one operation, as the AWS CLI's --profile beats its environment), the
/// stored credential (Set-KsctlCredential -Provider Aws), AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (+AWS_SESSION_TOKEN),
/// AWS_PROFILE, then <see cref="AwsDefaultChain"/>: the default profile of the shared config/credentials files
/// (AWS_CONFIG_FILE/AWS_SHARED_CREDENTIALS_FILE move them; static keys, SSO, assume-role, credential_process), web
/// identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN), container credentials and the instance role over IMDSv2.
/// A profile or a default-chain credential is fetched at once (SSO portal, STS, IMDS...), so a dead one fails here;
/// the preflight's STS GetCallerIdentity then proves the credential to AWS.
/// </summary>
internal static class AwsCredentials
{
    public const string AccessKeyVariable = "AWS_ACCESS_KEY_ID";
    public const string SecretKeyVariable = "AWS_SECRET_ACCESS_KEY";
    public const string SessionTokenVariable = "AWS_SESSION_TOKEN";
    public const string ProfileVariable = "AWS_PROFILE";

    // IAM's AccessKeyId: 16 to 128 word characters (IAM API reference, AccessKey data type); AKIA.../ASIA... in practice.
    private static readonly Regex AccessKeyId = new(@"^\w{16,128}\z", RegexOptions.CultureInvariant);
    // A profile name is an ini section name: no brackets, no line breaks, no leading/trailing blanks.
    private static readonly Regex ProfileName = new(@"^[A-Za-z0-9][A-Za-z0-9_.@+=,:/-]{0,127}\z", RegexOptions.CultureInvariant);

    public static async Task<AwsSignIn> ResolveAsync(ProviderCredential? explicitCredential, Func<CancellationToken, Task<StoredCredential?>>? stored,
        AwsEndpoints endpoints, CancellationToken ct, string region = "us-east-1")
    {
        if (await ResolveWithoutProbingAsync(explicitCredential, stored, endpoints, ct).ConfigureAwait(false) is { } found)
            return found.Source is AwsCredentialSource.Profile or AwsCredentialSource.Default
                ? await AwsDefaultChain.ProveAsync(found, ct).ConfigureAwait(false)
                : found;
        if (endpoints.ExcludeHostCredentials)
            throw NotFound("no -Credential, -ProfileName, stored credential, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE was given, and the default chain is off");
        return await AwsDefaultChain.ResolveAsync(endpoints, region, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// The same order without the default chain's last resorts (instance/container roles, web identity): only what is at
    /// hand. Null where <see cref="ResolveAsync"/> would ask the default chain, which can wait on IMDS for seconds: Tab
    /// completion must not.
    /// </summary>
    public static async Task<AwsSignIn?> ResolveWithoutProbingAsync(ProviderCredential? explicitCredential,
        Func<CancellationToken, Task<StoredCredential?>>? stored, AwsEndpoints endpoints, CancellationToken ct)
    {
        endpoints.Validate();
        var profile = explicitCredential?.ProfileName;
        if (explicitCredential is { HasSecret: true })
        {
            if (profile is not null)
                throw new InvalidSpecException("ProfileName", "give either -Credential (an access key) or -ProfileName (a profile of the shared config files), not both.");
            var keyId = explicitCredential.UserName?.Trim();
            if (keyId is null || !AccessKeyId.IsMatch(keyId))
                throw new InvalidSpecException("Credential", "the user name of -Credential must be the AWS access key id (16 to 128 letters and digits, such as AKIA...); the password is the secret access key.");
            return new AwsSignIn(new BasicAWSCredentials(keyId, explicitCredential.Secret), AwsCredentialSource.Parameter, keyId);
        }
        if (profile is not null) return Profile(profile, AwsCredentialSource.Profile);
        if (stored is not null && await stored(ct).ConfigureAwait(false) is { } s)
        {
            if (!AccessKeyId.IsMatch(s.UserName ?? ""))
                throw new KsctlException("KsctlAuthenticationFailed", KsctlErrorCategory.AuthenticationError,
                    "The stored AWS credential's user name is not an access key id.", "Aws")
                { RecommendedAction = "Set-KsctlCredential -Provider Aws -Credential <access key id / secret access key>." };
            return new AwsSignIn(new BasicAWSCredentials(s.UserName, s.Secret), AwsCredentialSource.Stored, s.UserName);
        }
        var (key, secret, token) = (Variable(AccessKeyVariable), Variable(SecretKeyVariable), Variable(SessionTokenVariable));
        if (key is not null && secret is not null)
            return new AwsSignIn(token is null ? new BasicAWSCredentials(key, secret) : new SessionAWSCredentials(key, secret, token),
                AwsCredentialSource.Environment, key);
        if (Variable(ProfileVariable) is { } envProfile) return Profile(envProfile, AwsCredentialSource.Default);
        return null;
    }

    /// <summary>
    /// A profile of the shared files, as the SDK reads them: the config file (AWS_CONFIG_FILE or ~/.aws/config,
    /// sections <c>[profile name]</c>) and the credentials file (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials).
    /// Static keys, session tokens, SSO (sso_session/sso_start_url, using the token cache `aws sso login` wrote),
    /// role_arn with source_profile, credential_process and web identity profiles all resolve here.
    /// </summary>
    private static AwsSignIn Profile(string name, AwsCredentialSource source)
    {
        if (!ProfileName.IsMatch(name))
            throw new InvalidSpecException("ProfileName", $"'{name}' is not a profile name of the AWS shared config files.");
        AwsSharedFiles.FollowEnvironment();
        var chain = new CredentialProfileStoreChain(Variable("AWS_SHARED_CREDENTIALS_FILE"));
        AWSCredentials? credentials;
        try
        {
            chain.TryGetAWSCredentials(name, out credentials);
        }
        catch (Exception e) when (e is AmazonClientException or InvalidOperationException or ArgumentException)
        {
            throw new KsctlException("KsctlAuthenticationFailed", KsctlErrorCategory.AuthenticationError,
                $"The AWS profile '{name}' cannot be used: {e.Message}", "Aws", e) { RecommendedAction = ProfileAdvice };
        }
        if (credentials is null)
            throw new KsctlException("KsctlAuthenticationFailed", KsctlErrorCategory.AuthenticationError,
                $"The AWS profile '{name}' was not found (or has no credentials) in the shared config files ({ConfigFile()}, {CredentialsFile()}).", "Aws")
            { RecommendedAction = ProfileAdvice };
        return new AwsSignIn(credentials, source, $"profile {name}");
    }

    private const string ProfileAdvice = "Check the profile with 'aws configure list --profile <name>' (for SSO: 'aws sso login --profile <name>'), or give -Credential.";

    private static string ConfigFile() => Variable("AWS_CONFIG_FILE") ?? "~/.aws/config";
    private static string CredentialsFile() => Variable("AWS_SHARED_CREDENTIALS_FILE") ?? "~/.aws/credentials";

    private static KsctlException NotFound(string why) =>
        new("KsctlAuthenticationFailed", KsctlErrorCategory.AuthenticationError, $"No AWS credential was found: {why}.", "Aws")
        {
            RecommendedAction = "Give -Credential (access key id / secret access key) or -ProfileName, run Set-KsctlCredential -Provider Aws, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.",
        };

    private static string? Variable(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v.Trim() : null;
}
