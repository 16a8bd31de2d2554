using System.Security.Cryptography;
using System.Text;
using Ksctl.Core.Clusters;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Providers;

namespace Ksctl.Aws.Tests;

/// <summary>
/// The sign-in ways that hand out temporary credentials: SSO profiles (the token `aws sso login` cached, exchanged at
/// the SSO portal), web identity (STS AssumeRoleWithWebIdentity), container credentials and the instance role over
/// IMDSv2. Each is proven end to end: the SDK's own provider reads what the real environment would hold, the emulator
/// issues session keys, and the preflight's GetCallerIdentity and a create's first EC2 calls are signed with them.
/// The host's chain is off in the other tests; here it is on, with every variable the test set removed after it.
/// </summary>
[Collection(AwsEnvironmentCollection.Name)]
public sealed class AwsDefaultChainTests : IAsyncLifetime
{
    private AwsTestBed _bed = null!;
    private AwsEmulator Aws => _bed.Aws;

    public async Task InitializeAsync() => _bed = await AwsTestBed.StartAsync();
    public async Task DisposeAsync() => await _bed.DisposeAsync();

    private Ksctl.Core.Providers.Aws.AwsEndpoints Chain => _bed.Endpoints with { ExcludeHostCredentials = false };
    private static ClusterSpec Spec() => new() { Id = new ClusterId(CloudProvider.Aws, ClusterType.SelfManaged, "chain", "eu-west-1"), WorkerCount = 1 };

    /// <summary>Preflight, then a create whose CreateVpc is refused: which key signed STS and the first EC2 calls.</summary>
    private async Task<(string Sts, IReadOnlyList<string> Ec2)> SignInAndCreateAsync(ProviderCredential? credential = null)
    {
        var before = Aws.Requests.Count;
        await _bed.Provider(credential, Chain).PreflightAsync(Spec(), CancellationToken.None);
        var sts = Aws.Requests.Skip(before).Last(r => r.Service == "sts" && r.Action == "GetCallerIdentity");
        Assert.Equal(200, sts.Status);

        Aws.FailNext("ec2:CreateVpc", 403, "UnauthorizedOperation", "You are not authorized to perform this operation.");
        before = Aws.Requests.Count;
        using var manager = new ClusterManager(_bed.Services(), _bed.Registry(Chain), _bed.Store, _bed.Events);
        var options = new OperationOptions { Credential = credential };
        var failed = await Assert.ThrowsAsync<PlanFailedException>(() => manager.CreateAsync(Spec(), options, CancellationToken.None));
        Assert.Equal("KsctlCreationFailed", failed.ErrorId);
        var ec2 = Aws.Requests.Skip(before).Where(r => r.Service == "ec2").ToList();
        Assert.Contains(ec2, r => r.ErrorCode == "UnauthorizedOperation");
        await manager.DeleteAsync(Spec().Id, options, CancellationToken.None);
        return (sts.AccessKeyId!, ec2.Select(r => r.AccessKeyId!).Distinct().ToList());
    }

    private void WriteConfig(string text)
    {
        var path = Path.Combine(_bed.Home, "aws-config");
        File.WriteAllText(path, text, Encoding.ASCII);
        Environment.SetEnvironmentVariable("AWS_CONFIG_FILE", path);
    }

    private const string SsoConfig = """
        [profile sso-dev]
        sso_session = corp
        sso_account_id = 123456789012
        sso_role_name = KsctlAdmin
        region = eu-west-1

        [sso-session corp]
        sso_start_url = https://corp.awsapps.com/start
        sso_region = us-east-1
        sso_registration_scopes = sso:account:access

        """;

    /// <summary>The token cache file as `aws sso login` writes it: ~/.aws/sso/cache/{sha1(session name)}.json.</summary>
    private static string CacheSsoToken(string home, string session, string accessToken, DateTimeOffset expires)
    {
        var folder = Path.Combine(home, ".aws", "sso", "cache");
        Directory.CreateDirectory(folder);
        var file = Path.Combine(folder, Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(session))) + ".json");
        File.WriteAllText(file, $$"""
            {"startUrl": "https://corp.awsapps.com/start", "region": "us-east-1", "accessToken": "{{accessToken}}",
             "expiresAt": "{{expires.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}}", "clientId": "ksctl-test-client", "clientSecret": "c2VjcmV0",
             "registrationExpiresAt": "{{expires.AddDays(80).UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}}", "refreshToken": "aorvJYubGpU6i91YnH7Mfo"}
            """);
        return file;
    }

    [Fact]
    public async Task An_SSO_profile_exchanges_the_cached_login_token_at_the_portal_and_signs_preflight_and_create_with_the_role_keys()
    {
        var home = _bed.UseOwnHome();
        WriteConfig(SsoConfig);
        Environment.SetEnvironmentVariable("AWS_ENDPOINT_URL_SSO", Aws.BaseUrl.ToString());
        Aws.SsoTokens["sso-access-token-0001"] = (DateTimeOffset.UtcNow.AddHours(8), [(AwsEmulator.Account, "KsctlAdmin")]);
        CacheSsoToken(home, "corp", "sso-access-token-0001", DateTimeOffset.UtcNow.AddHours(8));

        var (sts, ec2) = await SignInAndCreateAsync(new ProviderCredential { ProfileName = "sso-dev" });

        Assert.StartsWith("ASIA", sts);
        Assert.Contains(sts, Aws.Issued.Where(i => i.Source == "sso").Select(i => i.AccessKeyId));
        Assert.All(ec2, key => Assert.Contains(key, Aws.Issued.Where(i => i.Source == "sso").Select(i => i.AccessKeyId)));
        Assert.Contains(_bed.Events.All, e => e.Message.Contains("assumed-role/AWSReservedSSO_KsctlAdmin"));

        // The portal was asked with the cached token for the profile's account and role.
        Assert.Contains(Aws.Requests, r => r.Service == "sso" && r.Status == 200 && r.Path.Contains("role_name=KsctlAdmin") && r.Path.Contains($"account_id={AwsEmulator.Account}"));

        // The same profile through AWS_PROFILE (the default chain's own way to name it).
        Environment.SetEnvironmentVariable("AWS_PROFILE", "sso-dev");
        var before = Aws.Requests.Count;
        await _bed.Provider(endpoints: Chain).PreflightAsync(Spec(), CancellationToken.None);
        Assert.Contains(Aws.Requests.Skip(before), r => r.Service == "sso" && r.Status == 200);
        Assert.DoesNotContain("sso-access-token-0001", await _bed.AllOutputAsync());
    }

    [Fact]
    public async Task An_SSO_login_that_expired_or_a_role_not_assigned_fails_the_preflight_as_KsctlAuthenticationFailed_and_nothing_is_created()
    {
        var home = _bed.UseOwnHome();
        WriteConfig(SsoConfig);
        Environment.SetEnvironmentVariable("AWS_ENDPOINT_URL_SSO", Aws.BaseUrl.ToString());

        // The portal forgot the session (signed out elsewhere, or revoked): UnauthorizedException.
        CacheSsoToken(home, "corp", "sso-access-token-revoked", DateTimeOffset.UtcNow.AddHours(8));
        var e = await Assert.ThrowsAnyAsync<KsctlException>(() => _bed.Provider(new ProviderCredential { ProfileName = "sso-dev" }, Chain).PreflightAsync(Spec(), CancellationToken.None));
        Assert.Equal("KsctlAuthenticationFailed", e.ErrorId);
        Assert.Contains(Aws.Requests, r => r.Service == "sso" && r.Status == 401 && r.ErrorCode == "UnauthorizedException");

        // A role the user is not assigned: ResourceNotFoundException, "No access".
        Aws.SsoTokens["sso-access-token-0002"] = (DateTimeOffset.UtcNow.AddHours(8), [(AwsEmulator.Account, "ReadOnly")]);
        CacheSsoToken(home, "corp", "sso-access-token-0002", DateTimeOffset.UtcNow.AddHours(8));
        e = await Assert.ThrowsAnyAsync<KsctlException>(() => _bed.Provider(new ProviderCredential { ProfileName = "sso-dev" }, Chain).PreflightAsync(Spec(), CancellationToken.None));
        Assert.Equal("KsctlAuthenticationFailed", e.ErrorId);
        Assert.Contains(Aws.Requests, r => r.Service == "sso" && r.Status == 404);

        Assert.DoesNotContain(Aws.Requests, r => r.Service is "sts" or "ec2" && r.Status == 200);
        Assert.Empty(Aws.Inventory);
    }

    [Fact]
    public async Task Web_identity_assumes_the_role_with_the_token_file_and_signs_preflight_and_create_with_the_session()
    {
        var tokenFile = Path.Combine(_bed.Home, "oidc-token");
        File.WriteAllText(tokenFile, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmtzY3RsL2tzY3RsOnJlZjpyZWZzL2hlYWRzL21haW4ifQ.c2ln");
        const string role = $"arn:aws:iam::{AwsEmulator.Account}:role/ci-deployer";
        Aws.WebIdentityTokens[File.ReadAllText(tokenFile)] = ("repo:ksctl/ksctl:ref:refs/heads/main", DateTimeOffset.UtcNow.AddMinutes(30));
        Aws.WebIdentityRoles[role] = ["repo:ksctl/ksctl:ref:refs/heads/main"];
        Environment.SetEnvironmentVariable("AWS_WEB_IDENTITY_TOKEN_FILE", tokenFile);
        Environment.SetEnvironmentVariable("AWS_ROLE_ARN", role);
        Environment.SetEnvironmentVariable("AWS_ROLE_SESSION_NAME", "gha-run-42");

        var (sts, ec2) = await SignInAndCreateAsync();

        var keys = Aws.Issued.Where(i => i.Source == "web-identity").Select(i => i.AccessKeyId).ToList();
        Assert.Contains(sts, keys);
        Assert.All(ec2, key => Assert.Contains(key, keys));
        Assert.Contains(_bed.Events.All, e => e.Message.Contains("assumed-role/ci-deployer/gha-run-42"));
        // AssumeRoleWithWebIdentity went out unsigned, to STS where Ksctl's endpoints say (here the emulator).
        Assert.Contains(Aws.Requests, r => r.Service == "sts" && r.Action == "AssumeRoleWithWebIdentity" && r.Status == 200 && r.AccessKeyId == "anonymous");

        // A token for a subject the role's trust policy does not name: STS's AccessDenied, in preflight. (A token the
        // provider never issued is InvalidIdentityToken, which the SDK retries with its own back-off.)
        File.WriteAllText(tokenFile, "eyJzdWIiOiJyZXBvOmV2aWwvZm9yayJ9.e30.c2ln");
        Aws.WebIdentityTokens[File.ReadAllText(tokenFile)] = ("repo:evil/fork:ref:refs/heads/main", DateTimeOffset.UtcNow.AddMinutes(30));
        var e = await Assert.ThrowsAnyAsync<KsctlException>(() => _bed.Provider(endpoints: Chain).PreflightAsync(Spec(), CancellationToken.None));
        Assert.Equal("KsctlAuthenticationFailed", e.ErrorId);
        Assert.Contains("web identity", e.Message);
        Assert.Contains(Aws.Requests, r => r.ErrorCode == "AccessDenied" && r.Action == "AssumeRoleWithWebIdentity");
        // Half the pair is a clear refusal before any request.
        Environment.SetEnvironmentVariable("AWS_ROLE_ARN", null);
        var before = Aws.Requests.Count;
        e = await Assert.ThrowsAnyAsync<KsctlException>(() => _bed.Provider(endpoints: Chain).PreflightAsync(Spec(), CancellationToken.None));
        Assert.Contains("AWS_ROLE_ARN", e.Message);
        Assert.Equal(before, Aws.Requests.Count);
    }

    [Fact]
    public async Task Container_credentials_are_fetched_with_the_authorization_token_file_and_sign_preflight_and_create()
    {
        var tokenFile = Path.Combine(_bed.Home, "eks-pod-identity-token");
        File.WriteAllText(tokenFile, "eyJwb2QiOiJrc2N0bCJ9.e30.cG9k");
        Aws.ContainerAuthorization = File.ReadAllText(tokenFile);
        Environment.SetEnvironmentVariable("AWS_CONTAINER_CREDENTIALS_FULL_URI", new Uri(Aws.BaseUrl, Aws.ContainerPath).ToString());
        Environment.SetEnvironmentVariable("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tokenFile);

        var (sts, ec2) = await SignInAndCreateAsync();

        var keys = Aws.Issued.Where(i => i.Source == "container").Select(i => i.AccessKeyId).ToList();
        Assert.Contains(sts, keys);
        Assert.All(ec2, key => Assert.Contains(key, keys));
        Assert.Contains(_bed.Events.All, e => e.Message.Contains("assumed-role/pod-role/eks-pod"));

        // (A token the agent refuses is retried by the SDK's container provider with its own one-second back-off; the
        // refusal itself is the same KsctlAuthenticationFailed path the web identity and instance-role tests prove.)
    }

    [Fact]
    public async Task The_instance_role_is_read_over_IMDSv2_token_first_and_signs_preflight_and_create()
    {
        Aws.InstanceRole = "ksctl-runner";
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", null);

        var (sts, ec2) = await SignInAndCreateAsync();

        var keys = Aws.Issued.Where(i => i.Source == "imds").Select(i => i.AccessKeyId).ToList();
        Assert.Contains(sts, keys);
        Assert.All(ec2, key => Assert.Contains(key, keys));
        // IMDSv2: the session token PUT comes first, and no GET went without a token (the emulator answers those 401).
        var imds = Aws.Requests.Where(r => r.Service == "imds").ToList();
        Assert.Equal(("PUT", "/latest/api/token", 200), (imds[0].Method, imds[0].Path, imds[0].Status));
        Assert.DoesNotContain(imds, r => r.Status == 401);
        Assert.Contains(imds, r => r.Method == "GET" && r.Path == "/latest/meta-data/iam/security-credentials/ksctl-runner" && r.Status == 200);

        // No role attached to the instance: a clear refusal in preflight.
        Aws.InstanceRole = null;
        var e = await Assert.ThrowsAnyAsync<KsctlException>(() => _bed.Provider(endpoints: Chain).PreflightAsync(Spec(), CancellationToken.None));
        Assert.Equal("KsctlAuthenticationFailed", e.ErrorId);
        Assert.Contains("instance role", e.Message);
    }

    [Fact]
    public async Task The_order_is_keys_then_AWS_PROFILE_then_the_default_profile_then_web_identity_then_container_then_the_instance_role()
    {
        var home = _bed.UseOwnHome();
        // Every way at once.
        AwsTestBed.UseEnvironmentCredential();
        Environment.SetEnvironmentVariable("AWS_ENDPOINT_URL_SSO", Aws.BaseUrl.ToString());
        Aws.SsoTokens["sso-access-token-0003"] = (DateTimeOffset.UtcNow.AddHours(8), [(AwsEmulator.Account, "KsctlAdmin")]);
        CacheSsoToken(home, "corp", "sso-access-token-0003", DateTimeOffset.UtcNow.AddHours(8));
        Aws.Principals["AKIAKSCTLDEFAULTPRF1"] = new AwsEmulator.Principal("AKIAKSCTLDEFAULTPRF1", "default/profile/secret/0123456789abcdef", AwsEmulator.Account,
            $"arn:aws:iam::{AwsEmulator.Account}:user/default-profile");
        WriteConfig(SsoConfig + "[default]\naws_access_key_id = AKIAKSCTLDEFAULTPRF1\naws_secret_access_key = default/profile/secret/0123456789abcdef\n");
        Environment.SetEnvironmentVariable("AWS_PROFILE", "sso-dev");
        var tokenFile = Path.Combine(_bed.Home, "oidc-token");
        File.WriteAllText(tokenFile, "web-identity-token-0001");
        Aws.WebIdentityTokens["web-identity-token-0001"] = ("system:serviceaccount:ci:runner", DateTimeOffset.UtcNow.AddMinutes(30));
        Aws.WebIdentityRoles[$"arn:aws:iam::{AwsEmulator.Account}:role/irsa"] = ["system:serviceaccount:ci:runner"];
        Environment.SetEnvironmentVariable("AWS_WEB_IDENTITY_TOKEN_FILE", tokenFile);
        Environment.SetEnvironmentVariable("AWS_ROLE_ARN", $"arn:aws:iam::{AwsEmulator.Account}:role/irsa");
        Aws.ContainerAuthorization = "pod-token";
        Environment.SetEnvironmentVariable("AWS_CONTAINER_CREDENTIALS_FULL_URI", new Uri(Aws.BaseUrl, Aws.ContainerPath).ToString());
        Environment.SetEnvironmentVariable("AWS_CONTAINER_AUTHORIZATION_TOKEN", "pod-token");
        Aws.InstanceRole = "ksctl-runner";
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", null);

        async Task<string> WhoAsync()
        {
            var before = Aws.Requests.Count;
            await _bed.Provider(endpoints: Chain).PreflightAsync(Spec(), CancellationToken.None);
            var key = Aws.Requests.Skip(before).Last(r => r.Service == "sts" && r.Action == "GetCallerIdentity").AccessKeyId!;
            return key == AwsEmulator.AccessKeyId ? "keys" : key == "AKIAKSCTLDEFAULTPRF1" ? "default" : Aws.Issued.Single(i => i.AccessKeyId == key).Source;
        }

        Assert.Equal("keys", await WhoAsync());
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", null);
        Assert.Equal("sso", await WhoAsync());
        Environment.SetEnvironmentVariable("AWS_PROFILE", null);
        Assert.Equal("default", await WhoAsync());
        WriteConfig(SsoConfig);
        Assert.Equal("web-identity", await WhoAsync());
        Environment.SetEnvironmentVariable("AWS_WEB_IDENTITY_TOKEN_FILE", null);
        Environment.SetEnvironmentVariable("AWS_ROLE_ARN", null);
        Assert.Equal("container", await WhoAsync());
        Environment.SetEnvironmentVariable("AWS_CONTAINER_CREDENTIALS_FULL_URI", null);
        Assert.Equal("imds", await WhoAsync());
        // And IMDS off with nothing else: no credential, said before any request.
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
        var e = await Assert.ThrowsAnyAsync<KsctlException>(() => _bed.Provider(endpoints: Chain).PreflightAsync(Spec(), CancellationToken.None));
        Assert.StartsWith("No AWS credential was found", e.Message);
    }
}
