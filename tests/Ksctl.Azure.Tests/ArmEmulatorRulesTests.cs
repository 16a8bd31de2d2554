using System.Text.Json.Nodes;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Providers.Azure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ksctl.Azure.Tests;

/// <summary>
/// The emulator's own rules, checked directly (a provider test that passes could otherwise hide a rule that was never
/// there): each refuses what ARM or AKS refuses, with their code and words.
/// </summary>
[Collection(AzureEnvironmentCollection.Name)]
public sealed class ArmEmulatorRulesTests : IAsyncLifetime
{
    private AzureTestBed _bed = null!;
    private ArmEmulator Arm => _bed.Arm;
    private ArmRestClient _client = null!;
    private const string Group = "/subscriptions/" + ArmEmulator.Subscription + "/resourceGroups/rg";
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(15);

    public async Task InitializeAsync()
    {
        _bed = await AzureTestBed.StartAsync();
        _bed.UseEnvironmentCredential();
        var signIn = await AzureCredentials.ResolveAsync(null, null, _bed.Endpoints, CancellationToken.None);
        _client = new ArmRestClient(signIn, _bed.Endpoints, NullLogger.Instance, TimeProvider.System);
    }

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    private Task<JsonObject> Put(string id, JsonObject body, string api = AzureApiVersions.Network) =>
        _client.PutAsync(id, api, body, "test", Timeout, CancellationToken.None);

    private static JsonObject Aks(string name, string? nodeGroup) => new()
    {
        ["location"] = "eastus",
        ["properties"] = new JsonObject
        {
            ["dnsPrefix"] = "x",
            ["nodeResourceGroup"] = nodeGroup,
            ["agentPoolProfiles"] = new JsonArray(new JsonObject { ["name"] = "systempool", ["count"] = 1, ["vmSize"] = "Standard_DS2_v2", ["mode"] = "System" }),
        },
    };

    [Fact]
    public async Task AKS_refuses_a_node_resource_group_over_80_characters_derived_or_given()
    {
        var longGroup = "/subscriptions/" + ArmEmulator.Subscription + "/resourceGroups/" + new string('g', 40);
        await Put(longGroup, new JsonObject { ["location"] = "eastus" }, AzureApiVersions.Resources);
        var name = new string('c', 30);

        // Derived: MC_ + 40 + _ + 30 + _ + eastus = 3 + 40 + 1 + 30 + 1 + 6 = 81.
        var derived = await Assert.ThrowsAsync<KsctlException>(() => Put($"{longGroup}/providers/Microsoft.ContainerService/managedClusters/{name}", Aks(name, null), AzureApiVersions.ContainerService));
        Assert.Contains("400 InvalidParameter: The length of the node resource group name is too long. The maximum length is 80 and the length of the value provided is 81.", derived.Message);
        var given = await Assert.ThrowsAsync<KsctlException>(() => Put($"{longGroup}/providers/Microsoft.ContainerService/managedClusters/{name}", Aks(name, new string('n', 81)), AzureApiVersions.ContainerService));
        Assert.Contains("the length of the value provided is 81", given.Message);

        // One shorter fits, and AKS reports the name it derived.
        var ok = await Put($"{longGroup}/providers/Microsoft.ContainerService/managedClusters/{name[1..]}", Aks(name[1..], null), AzureApiVersions.ContainerService);
        Assert.Equal($"MC_{new string('g', 40)}_{name[1..]}_eastus", ok["properties"]!["nodeResourceGroup"]!.GetValue<string>());
        // It cannot change afterwards.
        var change = await Assert.ThrowsAsync<KsctlException>(() => Put($"{longGroup}/providers/Microsoft.ContainerService/managedClusters/{name[1..]}", Aks(name[1..], "other"), AzureApiVersions.ContainerService));
        Assert.Contains("PropertyChangeNotAllowed", change.Message);
    }

    [Fact]
    public async Task Name_lengths_locations_and_api_versions_are_ARMs()
    {
        var version = await Assert.ThrowsAsync<KsctlException>(() => Put(Group, new JsonObject { ["location"] = "eastus" }, "2099-01-01"));
        Assert.Contains("400 NoRegisteredProviderFound: No registered resource provider found for location 'eastus' and API version '2099-01-01' for type 'resourceGroups'", version.Message);
        var badGroup = await Assert.ThrowsAsync<KsctlException>(() => Put(Group, new JsonObject { ["location"] = "marsnorth" }, AzureApiVersions.Resources));
        Assert.Contains("400 LocationNotAvailableForResourceGroup", badGroup.Message);
        var tooLong = await Assert.ThrowsAsync<KsctlException>(() => Put("/subscriptions/" + ArmEmulator.Subscription + "/resourceGroups/" + new string('g', 91), new JsonObject { ["location"] = "eastus" }, AzureApiVersions.Resources));
        Assert.Contains("InvalidResourceGroupName", tooLong.Message);
        await Put(Group, new JsonObject { ["location"] = "eastus" }, AzureApiVersions.Resources);
        var pip = await Assert.ThrowsAsync<KsctlException>(() => Put($"{Group}/providers/Microsoft.Network/publicIPAddresses/{new string('p', 81)}", new JsonObject { ["location"] = "eastus" }));
        Assert.Contains("InvalidResourceName", pip.Message);
        await Put($"{Group}/providers/Microsoft.Network/publicIPAddresses/{new string('p', 80)}", new JsonObject { ["location"] = "eastus" });
    }

    [Fact]
    public async Task An_unregistered_namespace_is_409_MissingSubscriptionRegistration_until_registered()
    {
        await Put(Group, new JsonObject { ["location"] = "eastus" }, AzureApiVersions.Resources);
        Arm.UseFreshSubscription();
        Arm.RegistrationPolls = 3;

        await Put($"{Group}/providers/Microsoft.Network/publicIPAddresses/pip", new JsonObject { ["location"] = "eastus" });

        var refused = Assert.Single(Arm.Requests, r => r.Status == 409);
        Assert.Contains("/publicIPAddresses/pip", refused.Path);
        Assert.Equal(1, Arm.Count("POST", "/providers/Microsoft.Network/register"));
        Assert.Equal(3, Arm.Count("GET", "/providers/Microsoft.Network?api-version=2021-04-01"));
        Assert.DoesNotContain("Microsoft.Network", Arm.Unregistered);
        Assert.Contains("Microsoft.Compute", Arm.Unregistered);
    }

    [Fact]
    public async Task A_principal_that_may_not_register_gets_ARMs_refusal_and_the_command_to_ask_for()
    {
        await Put(Group, new JsonObject { ["location"] = "eastus" }, AzureApiVersions.Resources);
        Arm.UseFreshSubscription();
        Arm.RegistrationForbidden = true;

        var e = await Assert.ThrowsAsync<KsctlException>(() => Put($"{Group}/providers/Microsoft.Network/publicIPAddresses/pip", new JsonObject { ["location"] = "eastus" }));

        Assert.Equal(KsctlErrorCategory.SecurityError, e.Category);
        Assert.Contains("403 AuthorizationFailed", e.Message);
        Assert.Contains("Microsoft.Network/register/action", e.Message);
        Assert.Contains("az provider register --namespace Microsoft.Network", e.RecommendedAction);
        Assert.Equal(1, Arm.Count("POST", "/register"));
        Assert.DoesNotContain(Arm.Inventory, r => r.Type == "Microsoft.Network/publicIPAddresses");
    }
}
