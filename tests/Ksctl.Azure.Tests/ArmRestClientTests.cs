using System.Text.Json.Nodes;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Providers.Azure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ksctl.Azure.Tests;

/// <summary>
/// The ARM client against the emulator, below the plan: long-running operations that end with a retryable code are
/// re-issued (issue #10 item 7), paths that could reach anything but ARM are refused before anything is sent.
/// </summary>
[Collection(AzureEnvironmentCollection.Name)]
public sealed class ArmRestClientTests : IAsyncLifetime
{
    private AzureTestBed _bed = null!;
    private ArmEmulator Arm => _bed.Arm;
    private ArmRestClient _client = null!;
    private const string Group = "/subscriptions/" + ArmEmulator.Subscription + "/resourceGroups/ksctl-resgrp-selfmanaged-ha";
    private const string Pip = "Microsoft.Network/publicIPAddresses";
    private const string Nic = "Microsoft.Network/networkInterfaces";
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(15);

    public async Task InitializeAsync()
    {
        _bed = await AzureTestBed.StartAsync();
        _bed.UseEnvironmentCredential();
        var signIn = await AzureCredentials.ResolveAsync(null, null, _bed.Endpoints, CancellationToken.None);
        _client = new ArmRestClient(signIn, _bed.Endpoints, NullLogger.Instance, TimeProvider.System);
        await _client.PutAsync(Group, AzureApiVersions.Resources, new JsonObject { ["location"] = "eastus" }, "group", Timeout, CancellationToken.None);
    }

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    private static JsonObject PublicIp() => new() { ["location"] = "eastus", ["sku"] = new JsonObject { ["name"] = "Standard" } };
    private static string PipId(string name) => $"{Group}/providers/Microsoft.Network/publicIPAddresses/{name}";

    [Fact]
    public async Task An_operation_ending_with_a_retryable_code_is_reissued_until_it_succeeds()
    {
        Arm.FailNextOperation(Pip, "RetryableError", "A retryable error occurred.");
        Arm.FailNextOperation(Pip, "ReferencedResourceNotProvisioned", "Cannot proceed with operation because resource used by resource is not in Succeeded state.");
        Arm.FailNextOperation(Pip, "AnotherOperationInProgress", "Another operation on this or dependent resource is in progress.");

        var resource = await _client.PutAsync(PipId("a"), AzureApiVersions.Network, PublicIp(), "public IP a", Timeout, CancellationToken.None);

        Assert.Equal("Succeeded", ArmRestClient.ProvisioningState(resource));
        Assert.Equal(4, Arm.Count("PUT", "/publicIPAddresses/a"));
        Assert.Equal(1, Arm.Creates[PipId("a")]);
    }

    [Fact]
    public async Task Retries_are_bounded_and_the_last_failure_keeps_ARMs_code()
    {
        for (var i = 0; i < ArmRestClient.MaxOperationAttempts; i++) Arm.FailNextOperation(Pip, "RetryableError", "A retryable error occurred.");

        var e = await Assert.ThrowsAsync<ArmOperationFailedException>(() => _client.PutAsync(PipId("b"), AzureApiVersions.Network, PublicIp(), "public IP b", Timeout, CancellationToken.None));

        Assert.Equal("RetryableError", e.Error.Code);
        Assert.Contains("RetryableError: A retryable error occurred.", e.Message);
        Assert.Equal(ArmRestClient.MaxOperationAttempts, Arm.Count("PUT", "/publicIPAddresses/b"));
    }

    [Fact]
    public async Task A_non_retryable_failure_is_not_reissued()
    {
        Arm.FailNextOperation(Pip, "PublicIPCountLimitReached", "Cannot create more than 10 public IP addresses for this subscription in this region.");

        var e = await Assert.ThrowsAsync<ArmOperationFailedException>(() => _client.PutAsync(PipId("c"), AzureApiVersions.Network, PublicIp(), "public IP c", Timeout, CancellationToken.None));

        Assert.Equal("PublicIPCountLimitReached", e.Error.Code);
        Assert.Equal(1, Arm.Count("PUT", "/publicIPAddresses/c"));
    }

    [Fact]
    public async Task NICs_created_in_parallel_in_one_subnet_wait_out_AnotherOperationInProgress()
    {
        var vnet = $"{Group}/providers/Microsoft.Network/virtualNetworks/ha-net";
        await _client.PutAsync(vnet, AzureApiVersions.Network, new JsonObject
        {
            ["location"] = "eastus",
            ["properties"] = new JsonObject
            {
                ["addressSpace"] = new JsonObject { ["addressPrefixes"] = new JsonArray("10.1.0.0/16") },
                ["subnets"] = new JsonArray(new JsonObject { ["name"] = "ha-subnet", ["properties"] = new JsonObject { ["addressPrefix"] = "10.1.0.0/24" } }),
            },
        }, "vnet", Timeout, CancellationToken.None);
        JsonObject NicBody() => new()
        {
            ["location"] = "eastus",
            ["properties"] = new JsonObject
            {
                ["ipConfigurations"] = new JsonArray(new JsonObject
                {
                    ["name"] = "ipconfig1",
                    ["properties"] = new JsonObject { ["subnet"] = new JsonObject { ["id"] = vnet + "/subnets/ha-subnet" } },
                }),
            },
        };
        Arm.SubnetContention = 10;
        // The first NIC's PUT is answered only once the second one has arrived: the second is created while the first
        // is still provisioning in the same subnet, so ARM fails its operation with AnotherOperationInProgress.
        var firstArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Arm.OnPut = (type, id) =>
        {
            if (type != Nic) return;
            if (!id.EndsWith("/nic-a", StringComparison.Ordinal)) { secondArrived.TrySetResult(); return; }
            if (firstArrived.TrySetResult()) Assert.True(secondArrived.Task.Wait(TimeSpan.FromMinutes(2)), "the second NIC's PUT never came");
        };
        var a = _client.PutAsync($"{Group}/providers/Microsoft.Network/networkInterfaces/nic-a", AzureApiVersions.Network, NicBody(), "NIC a", Timeout, CancellationToken.None);
        await firstArrived.Task.WaitAsync(TimeSpan.FromMinutes(2));
        var b = _client.PutAsync($"{Group}/providers/Microsoft.Network/networkInterfaces/nic-b", AzureApiVersions.Network, NicBody(), "NIC b", Timeout, CancellationToken.None);

        var results = await Task.WhenAll(a, b);

        Assert.All(results, r => Assert.Equal("Succeeded", ArmRestClient.ProvisioningState(r)));
        Assert.True(Arm.ContentionFailures >= 1);
        Assert.True(Arm.Count("PUT", "/networkInterfaces/nic-b") >= 2, "the second NIC's PUT was re-issued");
        Assert.All(Arm.Creates.Values, n => Assert.Equal(1, n));
    }

    [Theory]
    [InlineData("https://attacker.example/subscriptions/" + ArmEmulator.Subscription + "/resourceGroups/x")]
    [InlineData("//attacker.example/subscriptions/" + ArmEmulator.Subscription + "/resourceGroups/x")]
    [InlineData("/subscriptions/" + ArmEmulator.Subscription + "/resourceGroups/x/../../../y")]
    [InlineData("/subscriptions/" + ArmEmulator.Subscription + "/resourceGroups/x?api-version=1&y=")]
    [InlineData("/subscriptions/" + ArmEmulator.Subscription + "/resourceGroups/x%2F..%2Fy")]
    [InlineData("/tenants/x")]
    public async Task A_path_that_could_reach_anything_but_ARM_is_refused_before_sending(string path)
    {
        var before = Arm.Requests.Count;
        var e = await Assert.ThrowsAsync<KsctlException>(() => _client.DeleteAsync(path, AzureApiVersions.Resources, "delete", Timeout, CancellationToken.None));
        Assert.Equal("KsctlInvalidResourceId", e.ErrorId);
        Assert.Equal(before, Arm.Requests.Count);
    }

    [Fact]
    public async Task Operation_and_nextLink_URLs_on_another_host_are_not_followed()
    {
        Arm.LinkBase = new Uri("https://attacker.invalid:8443/");
        var before = Arm.Requests.Count;

        var e = await Assert.ThrowsAsync<KsctlException>(() => _client.PutAsync(PipId("d"), AzureApiVersions.Network, PublicIp(), "public IP d", Timeout, CancellationToken.None));

        Assert.Equal("KsctlCloudApiError", e.ErrorId);
        Assert.Equal(KsctlErrorCategory.SecurityError, e.Category);
        Assert.Contains("https://attacker.invalid:8443", e.Message);
        Assert.Single(Arm.Requests.Skip(before)); // the PUT; no poll anywhere

        Arm.CatalogPageSize = 2;
        var list = await Assert.ThrowsAsync<KsctlException>(() => _client.ListAsync($"/subscriptions/{ArmEmulator.Subscription}/locations", "2022-12-01", "list locations", CancellationToken.None));
        Assert.Equal(KsctlErrorCategory.SecurityError, list.Category);
    }
}
