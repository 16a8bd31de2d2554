using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Providers;
using Ksctl.Core.Storage.Credentials;

namespace Ksctl.Azure.Tests;

/// <summary>
/// The Azure provider's live catalogue (what Tab offers for -Region and -NodeSize when a client secret is at hand),
/// through ClusterManager.LiveCatalog as the completers reach it, against the ARM emulator.
/// </summary>
[Collection(AzureEnvironmentCollection.Name)]
public sealed class AzureLiveCatalogTests : IAsyncLifetime
{
    private AzureTestBed _bed = null!;
    private ArmEmulator Arm => _bed.Arm;

    public async Task InitializeAsync() => _bed = await AzureTestBed.StartAsync();
    public async Task DisposeAsync() => await _bed.DisposeAsync();

    private static ILiveCatalog Catalog(Ksctl.Core.Clusters.ClusterManager manager) =>
        Assert.IsAssignableFrom<ILiveCatalog>(manager.LiveCatalog(CloudProvider.Azure));

    [Fact]
    public async Task Physical_regions_and_the_sizes_of_a_region_come_from_ARM_with_environment_credentials()
    {
        _bed.UseEnvironmentCredential();
        using var manager = _bed.NewManager();
        var catalog = Catalog(manager);
        var descriptor = Assert.IsAssignableFrom<ICloudProvider>(catalog).Descriptor;
        Assert.DoesNotContain(ArmEmulator.EmulatorOnlyRegion, descriptor.Regions);
        Assert.DoesNotContain(ArmEmulator.EmulatorOnlySize, descriptor.NodeSizes);

        // Sorted, logical locations ("global", "europe") left out, the emulator-only region in: the list is ARM's.
        Assert.Equal(["eastus", ArmEmulator.EmulatorOnlyRegion, "northeurope", "westeurope"], await catalog.RegionsAsync(CancellationToken.None));
        // No region: the default region's sizes (eastus offers the emulator's default list).
        Assert.Equal(["Standard_B2s", "Standard_DS2_v2", "Standard_F2s", ArmEmulator.EmulatorOnlySize], await catalog.NodeSizesAsync(null, CancellationToken.None));
        Assert.Equal(["Standard_B2s", "Standard_D2s_v5", "Standard_WE8s_v9"], await catalog.NodeSizesAsync("WestEurope", CancellationToken.None));

        Assert.Equal(1, Arm.Count("GET", $"/subscriptions/{ArmEmulator.Subscription}/locations?api-version=2022-12-01"));
        Assert.Equal(1, Arm.Count("GET", "/providers/Microsoft.Compute/locations/eastus/vmSizes?api-version=2024-07-01"));
        Assert.Equal(1, Arm.Count("GET", "/providers/Microsoft.Compute/locations/westeurope/vmSizes?api-version=2024-07-01"));
        Assert.All(Arm.Requests, r => Assert.Equal(200, r.Status));
        Assert.DoesNotContain(ArmEmulator.Secret, await _bed.AllOutputAsync());
    }

    [Fact]
    public async Task Every_page_of_a_paged_list_is_read()
    {
        _bed.UseEnvironmentCredential();
        Arm.CatalogPageSize = 2;
        using var manager = _bed.NewManager();

        Assert.Equal(["eastus", ArmEmulator.EmulatorOnlyRegion, "northeurope", "westeurope"], await Catalog(manager).RegionsAsync(CancellationToken.None));
        // Six locations, two per page: three GETs, the later ones by nextLink.
        Assert.Equal(3, Arm.Count("GET", "/locations?api-version="));
        Assert.Equal(2, Arm.Count("GET", "$skiptoken="));
    }

    [Fact]
    public async Task The_stored_credential_and_its_subscription_are_used()
    {
        using var manager = _bed.NewManager();
        await manager.Credentials.SetAsync(new StoredCredential
        {
            Provider = CloudProvider.Azure, UserName = ArmEmulator.ClientId, Secret = ArmEmulator.Secret,
            TenantId = ArmEmulator.Tenant, SubscriptionId = ArmEmulator.Subscription,
        }, CancellationToken.None);

        Assert.Contains(ArmEmulator.EmulatorOnlyRegion, await Catalog(manager).RegionsAsync(CancellationToken.None));
        Assert.Contains(ArmEmulator.EmulatorOnlySize, await Catalog(manager).NodeSizesAsync(ArmEmulator.EmulatorOnlyRegion, CancellationToken.None));
    }

    [Fact]
    public async Task Without_a_client_secret_or_a_subscription_nothing_is_asked()
    {
        using var manager = _bed.NewManager();
        var catalog = Catalog(manager);

        // Nothing at all: ResolveAsync would fall back to DefaultAzureCredential (CLI, managed identity...); the
        // catalogue does not, and answers at once.
        Assert.Empty(await catalog.RegionsAsync(CancellationToken.None));
        Assert.Empty(await catalog.NodeSizesAsync("eastus", CancellationToken.None));

        // Half the variables (no secret) is no credential either.
        Environment.SetEnvironmentVariable("AZURE_CLIENT_ID", ArmEmulator.ClientId);
        Environment.SetEnvironmentVariable("AZURE_TENANT_ID", ArmEmulator.Tenant);
        Environment.SetEnvironmentVariable("AZURE_SUBSCRIPTION_ID", ArmEmulator.Subscription);
        Assert.Empty(await catalog.RegionsAsync(CancellationToken.None));

        // A good secret but no subscription: listing subscriptions to guess one is not for a Tab press.
        _bed.UseEnvironmentCredential(subscription: null);
        Assert.Empty(await catalog.RegionsAsync(CancellationToken.None));
        Assert.Empty(await catalog.NodeSizesAsync(null, CancellationToken.None));

        // A region that cannot be an ARM location name never reaches the request path.
        _bed.UseEnvironmentCredential();
        Assert.Empty(await catalog.NodeSizesAsync("East US", CancellationToken.None));
        Assert.Empty(await catalog.NodeSizesAsync("../../resourceGroups", CancellationToken.None));

        Assert.Empty(Arm.Requests);
    }

    [Fact]
    public async Task A_wrong_secret_throws_KsctlAuthenticationFailed_after_one_refusal_without_an_ARM_request()
    {
        _bed.UseEnvironmentCredential();
        using var manager = _bed.NewManager();
        var catalog = Catalog(manager);
        // Warm up (JIT, TLS, MSAL) with the good secret, so the time measured below is the refusal's own.
        Assert.NotEmpty(await catalog.RegionsAsync(CancellationToken.None));
        var armRequests = Arm.Requests.Count(r => !r.Path.Contains("/oauth2/"));
        var before = Arm.Requests.Count;

        _bed.UseEnvironmentCredential(secret: "wrong-secret");
        var e = await Assert.ThrowsAsync<KsctlException>(() => catalog.RegionsAsync(CancellationToken.None));

        // As Civo's catalogue: a refused credential throws, and the completer falls back to the static list.
        Assert.Equal("KsctlAuthenticationFailed", e.ErrorId);
        Assert.Contains("AADSTS7000215", e.Message);
        Assert.DoesNotContain("wrong-secret", e.Message);
        // Entra's refusal is final: asked once, not retried (Tab has a 2 s budget), and ARM never asked.
        Assert.Single(Arm.Requests.Skip(before), r => r.Path.Contains("/oauth2/") && r.Status >= 400);
        Assert.Equal(armRequests, Arm.Requests.Count(r => !r.Path.Contains("/oauth2/")));
    }

    [Fact]
    public async Task A_region_ARM_does_not_know_is_ARMs_error()
    {
        _bed.UseEnvironmentCredential();
        using var manager = _bed.NewManager();

        var e = await Assert.ThrowsAsync<KsctlException>(() => Catalog(manager).NodeSizesAsync("marsnorth", CancellationToken.None));

        Assert.Equal("KsctlCloudApiError", e.ErrorId);
        Assert.Contains("NoRegisteredProviderFound", e.Message);
    }

    [Fact]
    public async Task Cancellation_stops_a_lookup_that_ARM_has_not_answered()
    {
        _bed.UseEnvironmentCredential();
        Arm.CatalogGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var manager = _bed.NewManager();
        using var cts = new CancellationTokenSource();

        var lookup = Catalog(manager).RegionsAsync(cts.Token);
        await Arm.CatalogArrived.Task.WaitAsync(TimeSpan.FromSeconds(30));
        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => lookup.WaitAsync(TimeSpan.FromSeconds(30)));
        Arm.CatalogGate.TrySetResult();
    }

    [Fact]
    public async Task Tab_never_registers_a_namespace()
    {
        _bed.UseEnvironmentCredential();
        Arm.UseFreshSubscription();
        using var manager = _bed.NewManager();

        // A key press must not change the subscription: ARM's refusal comes back (the completer then offers the static list).
        var e = await Assert.ThrowsAsync<KsctlException>(() => Catalog(manager).NodeSizesAsync("eastus", CancellationToken.None));

        Assert.Contains("409 MissingSubscriptionRegistration", e.Message);
        Assert.Equal(0, Arm.Count("POST", "/register"));
        Assert.Contains("Microsoft.Compute", Arm.Unregistered);
    }
}
