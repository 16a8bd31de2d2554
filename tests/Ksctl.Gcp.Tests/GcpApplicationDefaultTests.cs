using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Providers.Gcp;

namespace Ksctl.Gcp.Tests;

/// <summary>
/// Application Default Credentials, the last resort of the credential order, against the emulator's token sources:
/// gcloud's user credentials (authorized_user, a refresh-token grant to Ksctl's token endpoint), workload identity
/// federation (external_account, a token exchange at the STS endpoint), and the metadata server (GCE_METADATA_HOST,
/// Metadata-Flavor: Google). Order: GOOGLE_APPLICATION_CREDENTIALS, then gcloud's file, then the metadata server. The
/// environment is the test bed's own (every GOOGLE_*, CLOUDSDK_* and GCE_METADATA_HOST cleared and restored).
/// </summary>
[Collection(GcpEnvironmentCollection.Name)]
public sealed class GcpApplicationDefaultTests : IAsyncLifetime
{
    private GcpTestBed _bed = null!;
    private string _gcloud = null!;
    private GcpEndpoints _endpoints = null!;

    public async Task InitializeAsync()
    {
        _bed = await GcpTestBed.StartAsync();
        _gcloud = Directory.CreateDirectory(Path.Combine(_bed.Home, "gcloud")).FullName;
        Environment.SetEnvironmentVariable("CLOUDSDK_CONFIG", _gcloud);
        // Nothing listens on port 1 of the loopback: "no metadata server here", answered at once.
        Environment.SetEnvironmentVariable("GCE_METADATA_HOST", "127.0.0.1:1");
        _endpoints = _bed.Endpoints with { UseApplicationDefault = true, StsUrl = _bed.Gcp.StsUrl };
    }

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    /// <summary>Signs in through the chain, then proves the token is one Compute accepts for the project found.</summary>
    private async Task<(GcpSignIn SignIn, string Email)> SignInAsync()
    {
        var signIn = await GcpCredentials.ResolveAsync(null, null, _endpoints, CancellationToken.None);
        var token = await signIn.Token(CancellationToken.None);
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_bed.Gcp.ComputeUrl, $"projects/{signIn.Project}"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (signIn, _bed.Gcp.TokenRequests.Last().Email!);
    }

    [Fact]
    public async Task ADC_order_is_GOOGLE_APPLICATION_CREDENTIALS_then_gcloud_user_credentials_then_the_metadata_server()
    {
        var gcp = _bed.Gcp;

        // Nothing: no gcloud file, no metadata server.
        var none = await Assert.ThrowsAsync<KsctlException>(SignInAsync);
        Assert.Equal("KsctlAuthenticationFailed", none.ErrorId);
        Assert.Contains("gcloud auth application-default login", none.RecommendedAction);

        // A server that answers without Metadata-Flavor: Google is not the metadata server.
        Environment.SetEnvironmentVariable("GCE_METADATA_HOST", gcp.MetadataHost);
        Assert.Equal("KsctlAuthenticationFailed", (await Assert.ThrowsAsync<KsctlException>(SignInAsync)).ErrorId);

        // The metadata server: its default service account, the project it names, every request with the flavor header.
        gcp.MetadataAccount = GcpEmulator.NewAccount("1234567-compute", GcpEmulator.Project) with { Email = "1234567-compute@developer.gserviceaccount.com" };
        var (metadata, email) = await SignInAsync();
        Assert.Equal((GcpCredentialSource.ApplicationDefault, GcpEmulator.Project), (metadata.Source, metadata.Project));
        Assert.Equal(gcp.MetadataAccount.Email, email);
        Assert.Equal("metadata", gcp.Grants.Last());
        Assert.Equal(0, gcp.MetadataRefused);
        using (var http = new HttpClient())
            Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync($"http://{gcp.MetadataHost}/computeMetadata/v1/project/project-id")).StatusCode);
        Assert.Equal(1, gcp.MetadataRefused);

        // gcloud's user credentials come before the metadata server: a refresh-token grant to Ksctl's token endpoint.
        var user = gcp.NewUser("developer@example.com");
        File.WriteAllText(Path.Combine(_gcloud, "application_default_credentials.json"), user.FileJson());
        Environment.SetEnvironmentVariable("GOOGLE_CLOUD_PROJECT", GcpEmulator.Project);
        var (gcloud, userEmail) = await SignInAsync();
        Assert.Equal("developer@example.com", userEmail);
        Assert.Equal("refresh_token", gcp.Grants.Last());
        Assert.Equal(GcpEmulator.Project, gcloud.Project);

        // The same file again: the credential (and its token) is reused, as for the many steps of one operation.
        var grants = gcp.Grants.Count;
        await SignInAsync();
        Assert.Equal(grants, gcp.Grants.Count);

        // A revoked refresh token: KsctlAuthenticationFailed with Google's answer.
        File.WriteAllText(Path.Combine(_gcloud, "application_default_credentials.json"), (user with { RefreshToken = "1//0g-revoked" }).FileJson());
        var revoked = await Assert.ThrowsAsync<KsctlException>(SignInAsync);
        Assert.Equal("KsctlAuthenticationFailed", revoked.ErrorId);
        Assert.Contains("invalid_grant", revoked.Message);

        // GOOGLE_APPLICATION_CREDENTIALS naming a workload identity federation file comes first of all.
        var subject = Path.Combine(_bed.Home, "oidc-token");
        File.WriteAllText(subject, "eyJhbGciOiJSUzI1NiJ9.workload-subject.signature");
        gcp.TrustedSubjectTokens["eyJhbGciOiJSUzI1NiJ9.workload-subject.signature"] = GcpEmulator.NewAccount("federated", GcpEmulator.Project)
            with { Email = "principal://iam.googleapis.com/projects/4815162342/locations/global/workloadIdentityPools/ksctl-pool/subject/ci" };
        var wif = WifFile(gcp.StsUrl.ToString(), subject);
        Environment.SetEnvironmentVariable("GOOGLE_APPLICATION_CREDENTIALS", wif);
        var (federated, principal) = await SignInAsync();
        Assert.Equal(GcpCredentialSource.Environment, federated.Source);
        Assert.StartsWith("principal://", principal);
        Assert.Equal("token-exchange", gcp.Grants.Last());

        // A federation file that would send the external token anywhere but the STS endpoint is refused before any request.
        grants = gcp.Grants.Count;
        File.WriteAllText(wif, File.ReadAllText(WifFile("https://sts.example.net/v1/token", subject)));
        var elsewhere = await Assert.ThrowsAsync<KsctlException>(SignInAsync);
        Assert.Equal("KsctlAuthenticationFailed", elsewhere.ErrorId);
        Assert.Contains("sts.example.net", elsewhere.Message);
        Assert.Equal(grants, gcp.Grants.Count);
    }

    /// <summary>A file-sourced workload identity federation configuration, as 'gcloud iam workload-identity-pools create-cred-config' writes it.</summary>
    private string WifFile(string tokenUrl, string subjectFile)
    {
        var path = Path.Combine(_bed.Home, $"wif-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, new JsonObject
        {
            ["type"] = "external_account",
            ["audience"] = GcpEmulator.WorkloadPoolAudience,
            ["subject_token_type"] = "urn:ietf:params:oauth:token-type:jwt",
            ["token_url"] = tokenUrl,
            ["credential_source"] = new JsonObject { ["file"] = subjectFile, ["format"] = new JsonObject { ["type"] = "text" } },
            ["universe_domain"] = "googleapis.com",
        }.ToJsonString());
        return path;
    }
}
