using Ksctl.Core.Clusters;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Providers;
using Ksctl.Core.Providers.Gcp;
using Ksctl.Core.Storage.Credentials;

namespace Ksctl.Gcp.Tests;

/// <summary>
/// The GCP credential order (-CredentialPath, the stored key, GOOGLE_APPLICATION_CREDENTIALS; ADC is off in tests), the
/// project order (-Project, the key's project_id, GOOGLE_CLOUD_PROJECT), and bad credentials failing in preflight with
/// KsctlAuthenticationFailed before anything is created — against the emulator's strict JWT-bearer token endpoint.
/// </summary>
[Collection(GcpEnvironmentCollection.Name)]
public sealed class GcpSignInTests : IAsyncLifetime
{
    private GcpTestBed _bed = null!;

    public async Task InitializeAsync() => _bed = await GcpTestBed.StartAsync();
    public async Task DisposeAsync() => await _bed.DisposeAsync();

    private static ClusterSpec Spec(string name = "auth") => new() { Id = new ClusterId(CloudProvider.Gcp, ClusterType.SelfManaged, name, "us-central1") };

    private async Task<string?> SignInAsAsync(ProviderCredential? explicitCredential)
    {
        var signIn = await GcpCredentials.ResolveAsync(explicitCredential, ct => _bed.Credentials.GetAsync(CloudProvider.Gcp, ct), _bed.Endpoints, CancellationToken.None);
        var before = _bed.Gcp.TokenRequests.Count;
        await signIn.Token(CancellationToken.None);
        return _bed.Gcp.TokenRequests.Skip(before).Select(t => t.Email).LastOrDefault() ?? signIn.Account;
    }

    [Fact]
    public async Task Credential_order_is_CredentialPath_then_stored_key_then_GOOGLE_APPLICATION_CREDENTIALS_and_the_project_order_follows()
    {
        var gcp = _bed.Gcp;
        var stored = GcpEmulator.NewAccount("stored-sa", GcpEmulator.Project);
        var environment = GcpEmulator.NewAccount("env-sa", GcpEmulator.Project);
        gcp.Accounts.AddRange([stored, environment]);

        // Nothing anywhere (and ADC off): a clear authentication error naming the ways to give one.
        var none = await Assert.ThrowsAsync<KsctlException>(() => SignInAsAsync(null));
        Assert.Equal("KsctlAuthenticationFailed", none.ErrorId);
        Assert.Contains("-CredentialPath", none.RecommendedAction);

        Environment.SetEnvironmentVariable("GOOGLE_APPLICATION_CREDENTIALS", _bed.WriteKeyFile(environment, "env.json"));
        Assert.Equal(environment.Email, await SignInAsAsync(null));

        await _bed.Credentials.SetAsync(new StoredCredential { Provider = CloudProvider.Gcp, UserName = stored.Email, Secret = stored.KeyFileJson("https://oauth2.googleapis.com/token") }, CancellationToken.None);
        Assert.Equal(stored.Email, await SignInAsAsync(null));
        // -Project alone chooses the project, not the credential.
        Assert.Equal(stored.Email, await SignInAsAsync(new ProviderCredential { Project = "another-project-1" }));

        Assert.Equal(gcp.Account.Email, await SignInAsAsync(new ProviderCredential { CredentialPath = _bed.KeyFile }));

        // Project: -Project, else the key's project_id, else GOOGLE_CLOUD_PROJECT.
        Environment.SetEnvironmentVariable("GOOGLE_CLOUD_PROJECT", "env-project-9");
        var withProject = await GcpCredentials.ResolveAsync(new ProviderCredential { CredentialPath = _bed.KeyFile, Project = "chosen-project-7" }, null, _bed.Endpoints, CancellationToken.None);
        Assert.Equal("chosen-project-7", withProject.Project);
        var fromKey = await GcpCredentials.ResolveAsync(new ProviderCredential { CredentialPath = _bed.KeyFile }, null, _bed.Endpoints, CancellationToken.None);
        Assert.Equal(GcpEmulator.Project, fromKey.Project);
        var noProjectKey = Path.Combine(_bed.Home, "noproject.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(_bed.KeyFile))!.AsObject();
        json.Remove("project_id");
        File.WriteAllText(noProjectKey, json.ToJsonString());
        var fromVariable = await GcpCredentials.ResolveAsync(new ProviderCredential { CredentialPath = noProjectKey }, null, _bed.Endpoints, CancellationToken.None);
        Assert.Equal("env-project-9", fromVariable.Project);

        // Every token came from a verified JWT-bearer assertion sent to the configured endpoint (not the file's token_uri).
        Assert.DoesNotContain(gcp.TokenRequests, t => t.Error is not null);
        Assert.Equal(new[] { gcp.Account.Email, environment.Email, stored.Email }.Order(), gcp.TokenRequests.Select(t => t.Email!).Distinct().Order());
    }

    [Theory]
    [InlineData("wrong-key")]
    [InlineData("disabled")]
    [InlineData("other-project")]
    public async Task A_bad_credential_fails_in_preflight_with_KsctlAuthenticationFailed_and_nothing_is_created(string fault)
    {
        var gcp = _bed.Gcp;
        var key = _bed.KeyFile;
        if (fault == "wrong-key")
        {
            // The file names the real account but holds another key: the token endpoint refuses the signature.
            var impostor = GcpEmulator.NewAccount("ksctl-sa", GcpEmulator.Project) with { Email = gcp.Account.Email, KeyId = gcp.Account.KeyId };
            key = _bed.WriteKeyFile(impostor, "impostor.json");
        }
        if (fault == "disabled") gcp.DisabledAccounts.Add(gcp.Account.Email);
        var options = GcpTestBed.WithKey(key, fault == "other-project" ? "someone-elses-project" : null);
        using var manager = _bed.NewManager();

        var e = await Assert.ThrowsAsync<KsctlException>(() => manager.CreateAsync(Spec(), options, CancellationToken.None));

        Assert.Equal("KsctlAuthenticationFailed", e.ErrorId);
        Assert.Equal(KsctlErrorCategory.AuthenticationError, e.Category);
        if (fault == "wrong-key") Assert.Contains("Invalid JWT Signature.", e.Message);
        if (fault == "disabled") Assert.Contains("invalid_grant", e.Message);
        if (fault == "other-project") Assert.Contains("someone-elses-project", e.Message);
        Assert.Empty(gcp.Inventory);
        Assert.DoesNotContain(gcp.Requests, r => r.Method is "POST" or "DELETE" && r.Path.StartsWith("/compute/", StringComparison.Ordinal));
        var output = await _bed.AllOutputAsync();
        Assert.DoesNotContain("BEGIN PRIVATE KEY", output);
    }

    [Theory]
    [InlineData("region", "Region")]
    [InlineData("size", "WorkerSize")]
    [InlineData("keyfile", "CredentialPath")]
    [InlineData("notakey", "CredentialPath")]
    [InlineData("project", "Project")]
    [InlineData("credential", "Credential")]
    public async Task Invalid_specs_and_credentials_send_nothing(string what, string parameter)
    {
        var spec = what switch
        {
            "region" => Spec() with { Id = Spec().Id with { Region = "mars-north1" } },
            "size" => Spec() with { WorkerSize = "Standard_F2s" },
            _ => Spec(),
        };
        var notAKey = Path.Combine(_bed.Home, "notakey.json");
        File.WriteAllText(notAKey, "{\"type\":\"authorized_user\"}");
        var options = what switch
        {
            "keyfile" => GcpTestBed.WithKey(Path.Combine(_bed.Home, "missing.json")),
            "notakey" => GcpTestBed.WithKey(notAKey),
            "project" => GcpTestBed.WithKey(_bed.KeyFile, "Bad_Project"),
            "credential" => new OperationOptions { Credential = new ProviderCredential { UserName = "x", Secret = "y" } },
            _ => GcpTestBed.WithKey(_bed.KeyFile),
        };
        using var manager = _bed.NewManager();

        var e = await Assert.ThrowsAsync<InvalidSpecException>(() => manager.CreateAsync(spec, options, CancellationToken.None));

        Assert.Equal(parameter, e.Parameter);
        Assert.Empty(_bed.Gcp.Requests);
        Assert.Empty(_bed.Gcp.TokenRequests);
    }
}
