using System.Net;
using System.Text;
using Ksctl.Core.Providers.Aws;

namespace Ksctl.Aws.Tests;

/// <summary>
/// <see cref="AwsRequestSigner"/> (the SDK's SigV4 signer for services without an SDK package here) against the
/// emulator's independent verification, and the emulator's refusals of what AWS refuses.
/// </summary>
public sealed class AwsSigV4Tests : IAsyncLifetime
{
    private AwsEmulator _aws = null!;
    private readonly HttpClient _http = new();
    private static readonly AwsSigningKeys Keys = new(AwsEmulator.AccessKeyId, AwsEmulator.SecretKey);

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
        await AwsRequestSigner.SignAsync(request, Keys, "sts", "us-east-1");
        using var answer = await _http.SendAsync(request);
        var text = await answer.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Contains($"<Account>{AwsEmulator.Account}</Account>", text);
        Assert.Contains("AWS4-HMAC-SHA256 Credential=" + AwsEmulator.AccessKeyId, string.Join(",", request.Headers.GetValues("Authorization")));
        Assert.DoesNotContain(AwsEmulator.SecretKey, request.Headers.ToString());

        _aws.Principals["ASIAKSCTLSIGNERTEST1"] = new AwsEmulator.Principal("ASIAKSCTLSIGNERTEST1", "signer/secret/0123456789abcdefghijklmnopq",
            AwsEmulator.Account, $"arn:aws:sts::{AwsEmulator.Account}:assumed-role/r/s", "SignerSessionToken");
        using var session = CallerIdentity();
        await AwsRequestSigner.SignAsync(session, new AwsSigningKeys("ASIAKSCTLSIGNERTEST1", "signer/secret/0123456789abcdefghijklmnopq", "SignerSessionToken"), "sts", "us-east-1");
        Assert.Contains("x-amz-security-token", string.Join(",", session.Headers.GetValues("Authorization")));
        using var sessionAnswer = await _http.SendAsync(session);
        Assert.Equal(HttpStatusCode.OK, sessionAnswer.StatusCode);
    }

    [Fact]
    public async Task A_body_changed_after_signing_is_SignatureDoesNotMatch()
    {
        using var request = CallerIdentity();
        await AwsRequestSigner.SignAsync(request, Keys, "sts", "us-east-1");
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
        await AwsRequestSigner.SignAsync(wrongService, Keys, "ssm", "us-east-1");
        using var a = await _http.SendAsync(wrongService);
        Assert.Equal(HttpStatusCode.BadRequest, a.StatusCode);
        Assert.Equal("SerializationException", a.Headers.GetValues("x-amzn-ErrorType").Single());

        // Twenty minutes old: outside the 15-minute window.
        using var stale = CallerIdentity();
        await AwsRequestSigner.SignAsync(stale, Keys, "sts", "us-east-1", DateTime.UtcNow.AddMinutes(-20));
        using var b = await _http.SendAsync(stale);
        Assert.Equal(HttpStatusCode.Forbidden, b.StatusCode);
        Assert.Contains("Signature expired", await b.Content.ReadAsStringAsync());

        // The signature is bound to the region of its scope: the same request re-labelled for another region fails.
        using var relabelled = CallerIdentity();
        await AwsRequestSigner.SignAsync(relabelled, Keys, "sts", "us-east-1");
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
