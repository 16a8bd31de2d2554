using System.Text;
using Amazon.SimpleSystemsManagement.Model;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Providers;
using Ksctl.Core.Providers.Aws;
using Ksctl.Core.Storage.Credentials;

namespace Ksctl.Aws.Tests;

/// <summary>Signing in to AWS: the credential order, profiles, sessions, and each way a sign-in fails before anything is created.</summary>
[Collection(AwsEnvironmentCollection.Name)]
public sealed class AwsSignInTests : IAsyncLifetime
{
    private AwsTestBed _bed = null!;
    private AwsEmulator Aws => _bed.Aws;

    public async Task InitializeAsync() => _bed = await AwsTestBed.StartAsync();
    public async Task DisposeAsync() => await _bed.DisposeAsync();

    private static ClusterSpec Spec(string region = "us-east-1") => new() { Id = new ClusterId(CloudProvider.Aws, ClusterType.SelfManaged, "demo", region) };

    [Fact]
    public async Task Preflight_asks_STS_who_the_environment_keys_are()
    {
        AwsTestBed.UseEnvironmentCredential();
        await _bed.Provider().PreflightAsync(Spec(), CancellationToken.None);

        var call = Assert.Single(Aws.Requests, r => r.Service == "sts");
        Assert.Equal(("GetCallerIdentity", 200, AwsEmulator.AccessKeyId), (call.Action, call.Status, call.AccessKeyId));
        Assert.Contains(_bed.Events.All, e => e.Message.Contains($"arn:aws:iam::{AwsEmulator.Account}:user/ksctl-tests"));
        Assert.DoesNotContain(AwsEmulator.SecretKey, await _bed.AllOutputAsync());
    }

    [Fact]
    public async Task A_wrong_secret_is_KsctlAuthenticationFailed_with_AWS_words_and_nothing_else_is_called()
    {
        AwsTestBed.UseEnvironmentCredential(secret: "wrong/secret/0000000000000000000000000000");
        using var manager = _bed.NewManager();

        var e = await Assert.ThrowsAnyAsync<KsctlException>(() => _bed.Provider().PreflightAsync(Spec(), CancellationToken.None));

        Assert.Equal("KsctlAuthenticationFailed", e.ErrorId);
        Assert.Equal(KsctlErrorCategory.AuthenticationError, e.Category);
        Assert.Contains("SignatureDoesNotMatch", e.Message);
        Assert.Contains("The request signature we calculated does not match", e.Message);
        Assert.DoesNotContain("wrong/secret", e.Message);
        Assert.All(Aws.Requests, r => Assert.Equal("sts", r.Service));
        Assert.Empty(Aws.Inventory);
    }

    [Fact]
    public async Task An_unknown_key_is_InvalidClientTokenId()
    {
        AwsTestBed.UseEnvironmentCredential(keyId: "AKIAUNKNOWNKEY000000");
        var e = await Assert.ThrowsAnyAsync<KsctlException>(() => _bed.Provider().PreflightAsync(Spec(), CancellationToken.None));
        Assert.Equal("KsctlAuthenticationFailed", e.ErrorId);
        Assert.Contains("InvalidClientTokenId", e.Message);
        Assert.Contains("The security token included in the request is invalid", e.Message);
    }

    [Fact]
    public async Task A_session_token_is_sent_signed_and_must_be_the_one_issued_with_the_key()
    {
        Aws.Principals["ASIAKSCTLSESSION0001"] = new AwsEmulator.Principal("ASIAKSCTLSESSION0001", "session/secret/abcdefghijklmnopqrstuvwxyz0",
            AwsEmulator.Account, $"arn:aws:sts::{AwsEmulator.Account}:assumed-role/ci/ksctl", SessionToken: "FwoGZXIvYXdzEKsctlSessionToken==");
        AwsTestBed.UseEnvironmentCredential("ASIAKSCTLSESSION0001", "session/secret/abcdefghijklmnopqrstuvwxyz0", "FwoGZXIvYXdzEKsctlSessionToken==");
        await _bed.Provider().PreflightAsync(Spec(), CancellationToken.None);
        Assert.Contains(_bed.Events.All, e => e.Message.Contains("assumed-role/ci/ksctl"));

        AwsTestBed.UseEnvironmentCredential("ASIAKSCTLSESSION0001", "session/secret/abcdefghijklmnopqrstuvwxyz0", "AnotherToken");
        var e = await Assert.ThrowsAnyAsync<KsctlException>(() => _bed.Provider().PreflightAsync(Spec(), CancellationToken.None));
        Assert.Equal("KsctlAuthenticationFailed", e.ErrorId);
        Assert.Contains("InvalidClientTokenId", e.Message);

        // The same key without its token: refused too.
        AwsTestBed.UseEnvironmentCredential("ASIAKSCTLSESSION0001", "session/secret/abcdefghijklmnopqrstuvwxyz0");
        e = await Assert.ThrowsAnyAsync<KsctlException>(() => _bed.Provider().PreflightAsync(Spec(), CancellationToken.None));
        Assert.Contains("InvalidClientTokenId", e.Message);
    }

    [Fact]
    public async Task Credential_order_is_parameter_then_stored_then_environment_then_profile()
    {
        var keys = new Dictionary<string, string>
        {
            ["param"] = "AKIAKSCTLPARAMETER01", ["stored"] = "AKIAKSCTLSTOREDKEY01", ["env"] = "AKIAKSCTLENVIRONMEN1", ["profile"] = "AKIAKSCTLPROFILEKEY1",
        };
        foreach (var (who, key) in keys)
            Aws.Principals[key] = new AwsEmulator.Principal(key, $"{who}/secret/0123456789abcdefghijklmnop", AwsEmulator.Account, $"arn:aws:iam::{AwsEmulator.Account}:user/{who}");
        WriteSharedConfig($"[profile ops]\naws_access_key_id = {keys["profile"]}\naws_secret_access_key = profile/secret/0123456789abcdefghijklmnop\n");
        Environment.SetEnvironmentVariable("AWS_PROFILE", "ops");
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", keys["env"]);
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", "env/secret/0123456789abcdefghijklmnop");
        await _bed.Credentials.SetAsync(new StoredCredential { Provider = CloudProvider.Aws, UserName = keys["stored"], Secret = "stored/secret/0123456789abcdefghijklmnop" }, CancellationToken.None);

        async Task<string> WhoAsync(ProviderCredential? credential = null)
        {
            var before = Aws.Requests.Count;
            await _bed.Provider(credential).PreflightAsync(Spec(), CancellationToken.None);
            return Aws.Requests.Skip(before).Single(r => r.Service == "sts").AccessKeyId!;
        }

        Assert.Equal(keys["param"], await WhoAsync(new ProviderCredential { UserName = keys["param"], Secret = "param/secret/0123456789abcdefghijklmnop" }));
        Assert.Equal(keys["stored"], await WhoAsync());
        await _bed.Credentials.RemoveAsync(CloudProvider.Aws, CancellationToken.None);
        Assert.Equal(keys["env"], await WhoAsync());
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", null);
        Assert.Equal(keys["profile"], await WhoAsync());
        // -ProfileName is a choice for this operation: it wins over the environment's keys, like the AWS CLI's --profile.
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", keys["env"]);
        Assert.Equal(keys["profile"], await WhoAsync(new ProviderCredential { ProfileName = "ops" }));
        Assert.DoesNotContain("/secret/", await _bed.AllOutputAsync());
    }

    [Fact]
    public async Task A_profile_from_the_shared_config_file_signs_in_with_its_session_token()
    {
        Aws.Principals["ASIAKSCTLPROFILESES1"] = new AwsEmulator.Principal("ASIAKSCTLPROFILESES1", "profile/session/secret/0123456789abcdefgh",
            AwsEmulator.Account, $"arn:aws:sts::{AwsEmulator.Account}:assumed-role/dev/alice", "IQoJb3JpZ2luProfileToken");
        WriteSharedConfig("[default]\nregion = eu-west-1\n\n[profile dev]\nregion = eu-west-1\naws_access_key_id = ASIAKSCTLPROFILESES1\n" +
                          "aws_secret_access_key = profile/session/secret/0123456789abcdefgh\naws_session_token = IQoJb3JpZ2luProfileToken\n");

        await _bed.Provider(new ProviderCredential { ProfileName = "dev" }).PreflightAsync(Spec(), CancellationToken.None);
        Assert.Contains(_bed.Events.All, e => e.Message.Contains("assumed-role/dev/alice") && e.Message.Contains("profile dev"));

        // A profile that is not there is said plainly, before any request.
        var before = Aws.Requests.Count;
        var e = await Assert.ThrowsAnyAsync<KsctlException>(() => _bed.Provider(new ProviderCredential { ProfileName = "nope" }).PreflightAsync(Spec(), CancellationToken.None));
        Assert.Equal("KsctlAuthenticationFailed", e.ErrorId);
        Assert.Contains("'nope' was not found", e.Message);
        Assert.Equal(before, Aws.Requests.Count);
        // -Credential and -ProfileName together are ambiguous: refused.
        var both = await Assert.ThrowsAsync<InvalidSpecException>(() => _bed.Provider(new ProviderCredential
        {
            UserName = AwsEmulator.AccessKeyId, Secret = AwsEmulator.SecretKey, ProfileName = "dev",
        }).PreflightAsync(Spec(), CancellationToken.None));
        Assert.Equal("ProfileName", both.Parameter);
    }

    [Fact]
    public async Task Without_any_credential_the_sign_in_fails_before_any_request()
    {
        var e = await Assert.ThrowsAnyAsync<KsctlException>(() => _bed.Provider().PreflightAsync(Spec(), CancellationToken.None));
        Assert.Equal("KsctlAuthenticationFailed", e.ErrorId);
        Assert.StartsWith("No AWS credential was found", e.Message);
        Assert.NotNull(e.RecommendedAction);
        Assert.Empty(Aws.Requests);

        // A -Credential whose user name is not an access key id is a spec error naming the parameter.
        var invalid = await Assert.ThrowsAsync<InvalidSpecException>(() => _bed.Provider(new ProviderCredential { UserName = "alice", Secret = "x" })
            .PreflightAsync(Spec(), CancellationToken.None));
        Assert.Equal("Credential", invalid.Parameter);
        // -ProfileName is AWS's alone.
        Assert.Equal("ProfileName", Assert.Throws<InvalidSpecException>(() => _bed.Registry().Get(CloudProvider.Civo, new ProviderCredential { ProfileName = "dev" })).Parameter);
        Assert.Empty(Aws.Requests);
    }

    [Fact]
    public async Task Throttled_calls_are_retried_by_the_SDK_with_the_service_own_code()
    {
        AwsTestBed.UseEnvironmentCredential();
        Aws.ThrottleFraction = 0.5;
        for (var i = 0; i < 4; i++) await _bed.Provider().PreflightAsync(Spec(), CancellationToken.None);
        Assert.Equal(4, Aws.Requests.Count(r => r.Status == 200));
        // Every other call throttled: the first preflight passed at once, the three others each after one retry.
        Assert.Equal(3, Aws.Requests.Count(r => r.ErrorCode == "Throttling" && r.Status == 400));
        Assert.Equal(3, Aws.Throttled);
    }

    [Fact]
    public async Task The_Ubuntu_AMI_parameter_is_read_over_JSON_1_1_and_an_unknown_one_is_ParameterNotFound()
    {
        AwsTestBed.UseEnvironmentCredential();
        using var clients = await _bed.Provider().ConnectAsync("eu-west-1", CancellationToken.None);
        var name = string.Format(AwsEmulator.UbuntuParameter, "amd64");
        var answer = await clients.CallAsync("ssm", "GetParameter", c => clients.Ssm.GetParameterAsync(new GetParameterRequest { Name = name }, c), CancellationToken.None);
        Assert.Equal(Aws.UbuntuAmi("eu-west-1", "amd64"), answer.Parameter.Value);
        Assert.NotEqual(Aws.UbuntuAmi("us-east-1", "amd64"), answer.Parameter.Value);

        var e = await Assert.ThrowsAnyAsync<KsctlException>(() => clients.CallAsync("ssm", "GetParameter",
            c => clients.Ssm.GetParameterAsync(new GetParameterRequest { Name = "/nope" }, c), CancellationToken.None));
        Assert.Equal("KsctlCloudApiError", e.ErrorId);
        Assert.Equal(KsctlErrorCategory.ObjectNotFound, e.Category);
        Assert.Contains("ParameterNotFound", e.Message);
    }

    [Fact]
    public async Task An_endpoint_over_plain_http_elsewhere_than_loopback_is_refused_before_anything_is_sent()
    {
        AwsTestBed.UseEnvironmentCredential();
        var e = await Assert.ThrowsAsync<InvalidSpecException>(() => _bed.Provider(endpoints: _bed.Endpoints with { StsUrl = new Uri("http://sts.example.com/") })
            .PreflightAsync(Spec(), CancellationToken.None));
        Assert.Equal("StsUrl", e.Parameter);
        Assert.Empty(Aws.Requests);
    }

    [Fact]
    public async Task The_SDK_endpoint_variables_are_followed_and_held_to_the_same_https_rule()
    {
        AwsTestBed.UseEnvironmentCredential();
        // AWS_ENDPOINT_URL_STS beats AWS_ENDPOINT_URL (here: a port nothing listens on), as the SDKs' configuration says.
        Environment.SetEnvironmentVariable("AWS_ENDPOINT_URL", "http://127.0.0.1:9/");
        Environment.SetEnvironmentVariable("AWS_ENDPOINT_URL_STS", Aws.BaseUrl.ToString());
        await _bed.Provider(endpoints: AwsEndpoints.Public with { ExcludeHostCredentials = true, MaxErrorRetry = 0 }).PreflightAsync(Spec(), CancellationToken.None);
        Assert.Single(Aws.Requests, r => r.Service == "sts" && r.Status == 200);

        Environment.SetEnvironmentVariable("AWS_ENDPOINT_URL_STS", "http://sts.example.com/");
        var e = await Assert.ThrowsAsync<InvalidSpecException>(() => _bed.Provider(endpoints: AwsEndpoints.Public with { ExcludeHostCredentials = true })
            .PreflightAsync(Spec(), CancellationToken.None));
        Assert.Equal("StsUrl", e.Parameter);
        Assert.Single(Aws.Requests);
    }

    private void WriteSharedConfig(string text)
    {
        var path = Path.Combine(_bed.Home, "aws-config");
        File.WriteAllText(path, text, Encoding.ASCII);
        Environment.SetEnvironmentVariable("AWS_CONFIG_FILE", path);
    }
}
