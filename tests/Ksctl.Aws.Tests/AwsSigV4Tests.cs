using System.Net;
using System.Text;
using Amazon.Runtime;
using Amazon.Runtime.Signing;

namespace Ksctl.Aws.Tests;

/// <summary>
/// The SDK's public SigV4 signer (AWSSigV4Signer, which SigV4SigningHandler runs for Ksctl's IAM and EKS calls: the one
/// signing path besides the SDK clients' own) against the emulator's independent verification, and the emulator's
/// refusals of what AWS refuses.
/// </summary>
public sealed class AwsSigV4Tests : IAsyncLifetime
{
    private AwsEmulator _aws = null!;
    private readonly HttpClient _http = new();
    private static readonly AWSCredentials Keys = new BasicAWSCredentials(AwsEmulator.AccessKeyId, AwsEmulator.SecretKey);

    /// <summary>Signs <paramref name="request"/> as SigV4SigningHandler does: every header of the signer's result is applied.</summary>
    private static async Task SignAsync(HttpRequestMessage request, AWSCredentials credentials, string service, string region, DateTime? signedAt = null)
    {
        var signing = new AWSSigningRequest { HttpMethod = request.Method, RequestUri = request.RequestUri! };
        if (request.Content is not null)
        {
            signing.Content = await request.Content.ReadAsByteArrayAsync();
            signing.Headers["Content-Type"] = request.Content.Headers.ContentType!.ToString();
        }
        var result = await AWSSigV4Signer.SignAsync(signing, new AWSSigV4Parameters
        {
            Credentials = credentials, Region = Amazon.RegionEndpoint.GetBySystemName(region), Service = service, SignedAt = signedAt ?? DateTime.UtcNow,
        });
        foreach (var (name, value) in result.Headers) request.Headers.TryAddWithoutValidation(name, value);
    }

    public async Task InitializeAsync() => _aws = await AwsEmulator.StartAsync();
    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _aws.DisposeAsync();
    }

    private HttpRequestMessage CallerIdentity(string body = "Action=GetCallerIdentity&Version=2011-06-15") =>
        new(HttpMethod.Post, _aws.BaseUrl) { Content = new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded") };

    [Fact]
    public async Task A_request_signed_with_the_SDK_signer_is_accepted_and_its_session_token_checked()
    {
        using var request = CallerIdentity();
        await SignAsync(request, Keys, "sts", "us-east-1");
        using var answer = await _http.SendAsync(request);
        var text = await answer.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Contains($"<Account>{AwsEmulator.Account}</Account>", text);
        Assert.Contains("AWS4-HMAC-SHA256 Credential=" + AwsEmulator.AccessKeyId, string.Join(",", request.Headers.GetValues("Authorization")));
        Assert.DoesNotContain(AwsEmulator.SecretKey, request.Headers.ToString());

        _aws.Principals["ASIAKSCTLSIGNERTEST1"] = new AwsEmulator.Principal("ASIAKSCTLSIGNERTEST1", "signer/secret/0123456789abcdefghijklmnopq",
            AwsEmulator.Account, $"arn:aws:sts::{AwsEmulator.Account}:assumed-role/r/s", "SignerSessionToken");
        using var session = CallerIdentity();
        await SignAsync(session, new SessionAWSCredentials("ASIAKSCTLSIGNERTEST1", "signer/secret/0123456789abcdefghijklmnopq", "SignerSessionToken"), "sts", "us-east-1");
        Assert.Contains("x-amz-security-token", string.Join(",", session.Headers.GetValues("Authorization")));
        using var sessionAnswer = await _http.SendAsync(session);
        Assert.Equal(HttpStatusCode.OK, sessionAnswer.StatusCode);
    }

    [Fact]
    public async Task A_body_changed_after_signing_is_SignatureDoesNotMatch()
    {
        using var request = CallerIdentity();
        await SignAsync(request, Keys, "sts", "us-east-1");
        request.Content = new StringContent("Action=GetCallerIdentity&Version=2011-06-15&x=1", Encoding.UTF8, "application/x-www-form-urlencoded");
        using var answer = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, answer.StatusCode);
        var text = await answer.Content.ReadAsStringAsync();
        Assert.Contains("<Code>SignatureDoesNotMatch</Code>", text);
        Assert.Contains("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">", text);
    }

    [Fact]
    public async Task A_wrong_region_or_service_in_the_scope_or_a_stale_date_is_refused()
    {
        // Signed for ssm but meant as an STS call: the scope routes it to SSM, whose JSON protocol refuses the form body.
        using var wrongService = CallerIdentity();
        await SignAsync(wrongService, Keys, "ssm", "us-east-1");
        using var a = await _http.SendAsync(wrongService);
        Assert.Equal(HttpStatusCode.BadRequest, a.StatusCode);
        Assert.Equal("SerializationException", a.Headers.GetValues("x-amzn-ErrorType").Single());

        // Twenty minutes old: outside the 15-minute window.
        using var stale = CallerIdentity();
        await SignAsync(stale, Keys, "sts", "us-east-1", DateTime.UtcNow.AddMinutes(-20));
        using var b = await _http.SendAsync(stale);
        Assert.Equal(HttpStatusCode.Forbidden, b.StatusCode);
        Assert.Contains("Signature expired", await b.Content.ReadAsStringAsync());

        // The signature is bound to the region of its scope: the same request re-labelled for another region fails.
        using var relabelled = CallerIdentity();
        await SignAsync(relabelled, Keys, "sts", "us-east-1");
        var auth = string.Join(",", relabelled.Headers.GetValues("Authorization")).Replace("/us-east-1/", "/eu-west-1/");
        relabelled.Headers.Remove("Authorization");
        relabelled.Headers.TryAddWithoutValidation("Authorization", auth);
        using var c = await _http.SendAsync(relabelled);
        Assert.Contains("<Code>SignatureDoesNotMatch</Code>", await c.Content.ReadAsStringAsync());

        // No signature at all.
        using var unsigned = CallerIdentity();
        using var d = await _http.SendAsync(unsigned);
        Assert.Contains("<Code>MissingAuthenticationToken</Code>", await d.Content.ReadAsStringAsync());
        Assert.All(_aws.Requests, r => Assert.True(r.Status >= 400));
    }
}
