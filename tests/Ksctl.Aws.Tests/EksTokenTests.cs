using System.Text.Json.Nodes;
using System.Web;
using Amazon.Runtime;
using Ksctl.Core.Providers.Aws.Eks;

namespace Ksctl.Aws.Tests;

/// <summary>
/// The EKS bearer token, checked the way EKS's authenticator checks it (kubernetes-sigs/aws-iam-authenticator
/// pkg/token/token.go Verify): the k8s-aws-v1. prefix, base64url without padding, at most 4 KiB, path "/", only the
/// whitelisted query parameters, Action=GetCallerIdentity, x-k8s-aws-id among the signed headers, X-Amz-Expires 0-900;
/// then the URL is sent to STS with the cluster id header and STS's answer names the principal.
/// </summary>
[Collection(AwsEnvironmentCollection.Name)]
public sealed class EksTokenTests : IAsyncLifetime
{
    private AwsTestBed _bed = null!;
    private static readonly HashSet<string> Whitelist =
        ["action", "version", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-expires", "x-amz-security-token", "x-amz-signature", "x-amz-signedheaders"];

    public async Task InitializeAsync() => _bed = await AwsTestBed.StartAsync();
    public async Task DisposeAsync() => await _bed.DisposeAsync();

    private static Uri Url(string token)
    {
        Assert.StartsWith(EksToken.Prefix, token);
        Assert.True(token.Length <= 4096);
        Assert.DoesNotContain("=", token);
        Assert.DoesNotContain("+", token);
        Assert.DoesNotContain("/", token);
        return new Uri(EksToken.DecodeUrl(token)!);
    }

    private async Task<HttpResponseMessage> VerifyAsync(Uri url, string clusterId)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Add(EksToken.ClusterIdHeader, clusterId);
        request.Headers.Add("Accept", "application/json");
        return await http.SendAsync(request);
    }

    [Fact]
    public async Task The_presigned_URL_verifies_against_the_credentials_that_made_it_and_only_for_its_cluster()
    {
        var credentials = new BasicAWSCredentials(AwsEmulator.AccessKeyId, AwsEmulator.SecretKey);
        var (token, expires) = EksToken.Generate(credentials, "shop", "eu-west-1", _bed.Aws.BaseUrl, DateTime.UtcNow);

        var url = Url(token);
        Assert.Equal("/", url.AbsolutePath);
        var query = HttpUtility.ParseQueryString(url.Query);
        Assert.All(query.AllKeys, k => Assert.Contains(k!.ToLowerInvariant(), Whitelist));
        Assert.Equal("GetCallerIdentity", query["Action"]);
        Assert.Contains(EksToken.ClusterIdHeader, query["X-Amz-SignedHeaders"]!.Split(';'));
        Assert.Equal("60", query["X-Amz-Expires"]);
        Assert.Contains("/eu-west-1/sts/aws4_request", query["X-Amz-Credential"]);
        Assert.InRange(expires - DateTime.UtcNow, TimeSpan.FromMinutes(13), TimeSpan.FromMinutes(15));

        using var ok = await VerifyAsync(url, "shop");
        var body = await ok.Content.ReadAsStringAsync();
        Assert.True(ok.IsSuccessStatusCode, body);
        Assert.Contains($"arn:aws:iam::{AwsEmulator.Account}:user/ksctl-tests", body);

        // The same token presented for another cluster: the signed header differs, STS refuses the signature.
        using var other = await VerifyAsync(url, "other");
        Assert.Equal(403, (int)other.StatusCode);
        Assert.Contains("SignatureDoesNotMatch", await other.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_token_from_wrong_or_unknown_credentials_does_not_verify()
    {
        var (wrongSecret, _) = EksToken.Generate(new BasicAWSCredentials(AwsEmulator.AccessKeyId, "not-the-secret"), "shop", "us-east-1", _bed.Aws.BaseUrl, DateTime.UtcNow);
        using var refused = await VerifyAsync(Url(wrongSecret), "shop");
        Assert.Equal(403, (int)refused.StatusCode);
        Assert.Contains("SignatureDoesNotMatch", await refused.Content.ReadAsStringAsync());

        var (unknown, _) = EksToken.Generate(new BasicAWSCredentials("AKIAUNKNOWNKEY000000", "x"), "shop", "us-east-1", _bed.Aws.BaseUrl, DateTime.UtcNow);
        using var unknownKey = await VerifyAsync(Url(unknown), "shop");
        Assert.Equal(403, (int)unknownKey.StatusCode);
        Assert.Contains("InvalidClientTokenId", await unknownKey.Content.ReadAsStringAsync());

        // Older than the 15 minutes STS honours a presigned URL for.
        var (old, _) = EksToken.Generate(new BasicAWSCredentials(AwsEmulator.AccessKeyId, AwsEmulator.SecretKey), "shop", "us-east-1", _bed.Aws.BaseUrl, DateTime.UtcNow.AddMinutes(-20));
        using var expired = await VerifyAsync(Url(old), "shop");
        Assert.Equal(403, (int)expired.StatusCode);
    }

    [Fact]
    public void The_ExecCredential_is_what_kubectl_expects_from_an_exec_plugin()
    {
        var json = JsonNode.Parse(EksToken.ExecCredential("k8s-aws-v1.abc", new DateTime(2030, 1, 2, 3, 4, 5, DateTimeKind.Utc)))!;
        Assert.Equal("ExecCredential", json["kind"]!.GetValue<string>());
        Assert.Equal("client.authentication.k8s.io/v1beta1", json["apiVersion"]!.GetValue<string>());
        Assert.Equal("k8s-aws-v1.abc", json["status"]!["token"]!.GetValue<string>());
        Assert.Equal("2030-01-02T03:04:05Z", json["status"]!["expirationTimestamp"]!.GetValue<string>());
    }

    [Fact]
    public void The_token_command_signs_with_the_environment_credentials_and_refuses_missing_arguments()
    {
        AwsTestBed.UseEnvironmentCredential();
        var json = JsonNode.Parse(EksToken.ExecCredentialJson("shop", "us-east-1", stsEndpoint: _bed.Aws.BaseUrl.ToString()))!;
        var url = Url(json["status"]!["token"]!.GetValue<string>());
        Assert.Contains(AwsEmulator.AccessKeyId + "/", HttpUtility.ParseQueryString(url.Query)["X-Amz-Credential"]);

        Assert.Equal("ClusterName", Assert.Throws<Ksctl.Core.Diagnostics.InvalidSpecException>(() => EksToken.ExecCredentialJson("", "us-east-1")).Parameter);
        Assert.Equal("Region", Assert.Throws<Ksctl.Core.Diagnostics.InvalidSpecException>(() => EksToken.ExecCredentialJson("shop", " ")).Parameter);
    }

    [Fact]
    public void The_kubeconfig_runs_aws_eks_get_token_when_the_CLI_is_there_else_ksctl_token()
    {
        var id = new Ksctl.Core.Model.ClusterId(Ksctl.Core.Model.CloudProvider.Aws, Ksctl.Core.Model.ClusterType.Managed, "shop", "us-east-1");
        foreach (var cli in new[] { true, false })
        {
            var yaml = EksKubeconfig.Build(id, "https://ABC.gr7.us-east-1.eks.amazonaws.com", "Q0E=", "ctx", cli);
            var config = Ksctl.Core.Kube.KubeconfigFile.Parse(yaml, "test");
            var exec = config.Users.Single().UserCredentials.ExternalExecution;
            Assert.Equal(cli ? "aws" : "ksctl", exec.Command);
            Assert.Equal(cli ? ["--region", "us-east-1", "eks", "get-token", "--cluster-name", "shop", "--output", "json"] : ["token", "--cluster-name", "shop", "--region", "us-east-1"], exec.Arguments);
            Assert.Equal("Q0E=", config.Clusters.Single().ClusterEndpoint.CertificateAuthorityData);
        }
    }
}
