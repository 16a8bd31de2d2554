using Ksctl.Core.Clusters;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Providers;
using Ksctl.Core.Storage.Credentials;

namespace Ksctl.Azure.Tests;

/// <summary>Signing in to Azure: the credential order, the subscription, and each way a sign-in fails before anything is created.</summary>
[Collection(AzureEnvironmentCollection.Name)]
public sealed class AzureSignInTests : IAsyncLifetime
{
    private AzureTestBed _bed = null!;
    private ArmEmulator Arm => _bed.Arm;

    public async Task InitializeAsync() => _bed = await AzureTestBed.StartAsync();
    public async Task DisposeAsync() => await _bed.DisposeAsync();

    private static ClusterId Id(string name = "demo", string region = "eastus") => new(CloudProvider.Azure, ClusterType.Managed, name, region);
    private static ClusterSpec Spec(string name = "demo") => new() { Id = Id(name) };
    private static readonly OperationOptions Options = OperationOptions.Default;

    [Fact]
    public async Task A_bad_secret_fails_before_anything_is_created()
    {
        _bed.UseEnvironmentCredential(secret: "wrong-secret");
        using var manager = _bed.NewManager();

        var e = await Assert.ThrowsAnyAsync<KsctlException>(() => manager.CreateAsync(Spec(), Options, CancellationToken.None));

        Assert.Equal("KsctlAuthenticationFailed", e.ErrorId);
        Assert.Equal(KsctlErrorCategory.AuthenticationError, e.Category);
        Assert.Contains("AADSTS7000215", e.Message);
        Assert.DoesNotContain("wrong-secret", e.Message);
        Assert.Empty(Arm.Inventory);
        Assert.Equal(0, Arm.Count("PUT", "/"));
        await Assert.ThrowsAsync<ClusterNotFoundException>(() => manager.GetAsync(Id(), CancellationToken.None));
    }

    [Fact]
    public async Task An_unreachable_Entra_is_a_connection_error_not_a_bad_credential()
    {
        _bed.UseEnvironmentCredential();
        using var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        var port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop(); // nothing listens there now: every connection is refused
        using var manager = _bed.NewManager(_bed.Endpoints with { Authority = new Uri($"https://127.0.0.1:{port}/") });

        var e = await Assert.ThrowsAnyAsync<KsctlException>(() => manager.CreateAsync(Spec(), Options, CancellationToken.None));

        Assert.Equal("KsctlCloudApiError", e.ErrorId);
        Assert.Equal(KsctlErrorCategory.ConnectionError, e.Category);
        Assert.StartsWith("Cannot reach Microsoft Entra ID", e.Message);
        Assert.Empty(Arm.Requests);
    }

    [Fact]
    public async Task A_subscription_the_credential_cannot_see_fails_in_preflight()
    {
        _bed.UseEnvironmentCredential(subscription: "99999999-0000-0000-0000-000000000000");
        using var manager = _bed.NewManager();

        var e = await Assert.ThrowsAnyAsync<KsctlException>(() => manager.CreateAsync(Spec(), Options, CancellationToken.None));

        Assert.Equal("KsctlAuthenticationFailed", e.ErrorId);
        Assert.Contains("99999999-0000-0000-0000-000000000000", e.Message);
        Assert.Equal(0, Arm.Count("PUT", "/"));
    }

    [Fact]
    public async Task Credential_order_is_parameter_then_stored_then_environment()
    {
        // The environment holds a wrong secret, the stored credential a good one: the stored one wins.
        _bed.UseEnvironmentCredential(secret: "wrong-env-secret");
        using var manager = _bed.NewManager();
        await manager.Credentials.SetAsync(new StoredCredential
        {
            Provider = CloudProvider.Azure, UserName = ArmEmulator.ClientId, Secret = ArmEmulator.Secret,
            TenantId = ArmEmulator.Tenant, SubscriptionId = ArmEmulator.Subscription,
        }, CancellationToken.None);
        var state = await manager.CreateAsync(Spec("stored"), Options, CancellationToken.None);
        Assert.Equal(ClusterStatus.Running, state.Status);

        // -Credential beats the stored one: a wrong one given explicitly fails even though the stored one is good...
        var wrong = new ProviderCredential { UserName = ArmEmulator.ClientId, Secret = "wrong-param-secret", TenantId = ArmEmulator.Tenant };
        var e = await Assert.ThrowsAnyAsync<KsctlException>(() => manager.CreateAsync(Spec("param"), Options with { Credential = wrong }, CancellationToken.None));
        Assert.Equal("KsctlAuthenticationFailed", e.ErrorId);
        await Assert.ThrowsAsync<ClusterNotFoundException>(() => manager.GetAsync(Id("param"), CancellationToken.None));

        // ...and a right one works with no stored credential and a wrong environment; the subscription is discovered
        // (the only one the principal sees) when neither the parameter nor AZURE_SUBSCRIPTION_ID names one.
        await manager.Credentials.RemoveAsync(CloudProvider.Azure, CancellationToken.None);
        Environment.SetEnvironmentVariable("AZURE_SUBSCRIPTION_ID", null);
        var right = new ProviderCredential { UserName = ArmEmulator.ClientId, Secret = ArmEmulator.Secret, TenantId = ArmEmulator.Tenant };
        state = await manager.CreateAsync(Spec("param"), Options with { Credential = right }, CancellationToken.None);
        Assert.Equal(ArmEmulator.Subscription, state.Resources["azure:subscription"]);
        Assert.True(Arm.Count("GET", "/subscriptions?api-version") >= 1);

        // Without a tenant a service principal cannot sign in: said before any request.
        var before = Arm.Requests.Count;
        var noTenant = new ProviderCredential { UserName = ArmEmulator.ClientId, Secret = ArmEmulator.Secret };
        var invalid = await Assert.ThrowsAsync<InvalidSpecException>(() => manager.CreateAsync(Spec("notenant"), Options with { Credential = noTenant }, CancellationToken.None));
        Assert.Equal("TenantId", invalid.Parameter);
        Assert.Equal(before, Arm.Requests.Count);

        // Local takes no credential: -Credential is refused, not ignored; -TenantId is Azure's alone.
        var kind = new ClusterSpec { Id = new ClusterId(CloudProvider.Local, ClusterType.Managed, "kind", "LOCAL") };
        var local = await Assert.ThrowsAsync<InvalidSpecException>(() => manager.CreateAsync(
            kind, Options with { Credential = new ProviderCredential { UserName = "me", Secret = "key" } }, CancellationToken.None));
        Assert.Equal("Credential", local.Parameter);
        local = await Assert.ThrowsAsync<InvalidSpecException>(() => manager.CreateAsync(kind, Options with { Credential = right }, CancellationToken.None));
        Assert.Equal("TenantId", local.Parameter);

        foreach (var name in new[] { "stored", "param" })
            await manager.DeleteAsync(Id(name), Options with { Credential = right }, CancellationToken.None);
        Assert.Empty(Arm.Inventory);
        Assert.DoesNotContain("wrong-param-secret", await _bed.AllOutputAsync());
    }

    [Fact]
    public async Task Without_any_credential_the_default_sign_in_is_tried_and_its_failure_is_KsctlAuthenticationFailed()
    {
        // No -Credential, nothing stored, no AZURE_* variables: DefaultAzureCredential (managed identity, az, Az
        // PowerShell...) is the last resort. None is available on a test machine, so the create fails in preflight.
        Environment.SetEnvironmentVariable("AZURE_SUBSCRIPTION_ID", ArmEmulator.Subscription);
        using var manager = _bed.NewManager();

        var e = await Assert.ThrowsAnyAsync<KsctlException>(() => manager.CreateAsync(Spec(), Options, CancellationToken.None));

        Assert.Equal("KsctlAuthenticationFailed", e.ErrorId);
        // The test bed lets no source of the host (IMDS, az, Az PowerShell, VS Code) answer: only the environment was
        // tried, and it has no client secret, so the sign-in fails the same way on every machine.
        Assert.StartsWith("Azure sign-in failed: ", e.Message);
        Assert.Contains("EnvironmentCredential", e.Message);
        Assert.NotNull(e.RecommendedAction);
        Assert.Equal(0, Arm.Count("PUT", "/"));
        await Assert.ThrowsAsync<ClusterNotFoundException>(() => manager.GetAsync(Id(), CancellationToken.None));
    }

    [Fact]
    public void Civo_takes_the_password_of_Credential_as_its_API_key()
    {
        using var manager = _bed.NewManager();
        var registry = Ksctl.Core.Providers.ProviderRegistry.CreateDefault(
            new Ksctl.Core.KsctlServices(_bed.Settings, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, null!, TimeProvider.System));
        var civo = Assert.IsType<Ksctl.Core.Providers.Civo.CivoProvider>(registry.Get(CloudProvider.Civo, new ProviderCredential { UserName = "civo", Secret = "key-from-parameter" }));
        Assert.Equal("key-from-parameter", civo.ExplicitToken);
        Assert.Null(Assert.IsType<Ksctl.Core.Providers.Civo.CivoProvider>(registry.Get(CloudProvider.Civo)).ExplicitToken);
        Assert.Equal("SubscriptionId", Assert.Throws<InvalidSpecException>(() => registry.Get(CloudProvider.Civo, new ProviderCredential { SubscriptionId = ArmEmulator.Subscription })).Parameter);
    }

    [Fact]
    public async Task With_several_subscriptions_one_must_be_chosen_and_SubscriptionId_alone_chooses_it()
    {
        const string second = "22222222-3333-4444-5555-666666666666";
        Arm.Principals[0] = Arm.Principals[0] with { Subscriptions = [ArmEmulator.Subscription, second] };
        _bed.UseEnvironmentCredential(subscription: null);
        using var manager = _bed.NewManager();

        var e = await Assert.ThrowsAsync<InvalidSpecException>(() => manager.CreateAsync(Spec(), Options, CancellationToken.None));
        Assert.Equal("SubscriptionId", e.Parameter);
        Assert.Contains(second, e.Message);

        var before = Arm.Requests.Count;
        var notGuid = await Assert.ThrowsAsync<InvalidSpecException>(() => manager.CreateAsync(Spec(), Options with { Credential = new ProviderCredential { SubscriptionId = "my-sub" } }, CancellationToken.None));
        Assert.Equal("SubscriptionId", notGuid.Parameter);
        Assert.Equal(before, Arm.Requests.Count);

        // -SubscriptionId without -Credential: the environment's service principal signs in, in the chosen subscription.
        var state = await manager.CreateAsync(Spec(), Options with { Credential = new ProviderCredential { SubscriptionId = second } }, CancellationToken.None);
        Assert.Equal(second, state.Resources["azure:subscription"]);
        Assert.All(Arm.Inventory, r => Assert.StartsWith($"/subscriptions/{second}/", r.Id));
        // The identity signed in once for the whole operation (the credential caches its token).
        Assert.Equal(1, Arm.Count("POST", "/oauth2/v2.0/token"));

        // Later operations use the recorded subscription, whatever the defaults say now.
        await manager.DeleteAsync(Id(), Options, CancellationToken.None);
        Assert.Empty(Arm.Inventory);
    }
}
