using Ksctl.Core.Clusters;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;

namespace Ksctl.Azure.Tests;

/// <summary>
/// What real Azure Resource Manager refuses or requires of an AKS create (issue #10 items 5, 6, 8 and #17's timeout),
/// each against the emulator's rule for it.
/// </summary>
[Collection(AzureEnvironmentCollection.Name)]
public sealed class AksConformanceTests : IAsyncLifetime
{
    private AzureTestBed _bed = null!;
    private ArmEmulator Arm => _bed.Arm;
    private static readonly OperationOptions Options = OperationOptions.Default;

    public async Task InitializeAsync()
    {
        _bed = await AzureTestBed.StartAsync();
        _bed.UseEnvironmentCredential();
    }

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    private static ClusterId Id(string name = "demo", string region = "eastus") => new(CloudProvider.Azure, ClusterType.Managed, name, region);

    [Fact]
    public async Task The_longest_name_in_the_longest_region_gets_a_node_resource_group_within_80_characters()
    {
        using var manager = _bed.NewManager();
        var azure = Assert.Single(manager.Providers, d => d.Provider == CloudProvider.Azure);
        var region = azure.Regions.MaxBy(r => r.Length)!;
        var name = "k" + new string('8', 48) + "s"; // 50: the longest cluster name Ksctl allows
        Arm.Locations.Add(new ArmEmulator.Location(region)); // ARM refuses a group in a location it does not list
        // What AKS would derive without an explicit name, and what the emulator (like AKS) refuses.
        Assert.True($"MC_ksctl-resgrp-managed-{name}_{name}_{region}".Length > ArmEmulator.MaxResourceGroupName);

        var state = await manager.CreateAsync(new ClusterSpec { Id = Id(name, region) }, Options, CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        var aks = Assert.Single(Arm.Inventory, r => r.Type == "Microsoft.ContainerService/managedClusters");
        var nodeGroup = aks.Body["properties"]!["nodeResourceGroup"]!.GetValue<string>();
        Assert.Equal($"ksctl-nodes-{name}", nodeGroup);
        Assert.True(nodeGroup.Length <= 63, "fits ARM's 80 and a Kubernetes label's 63");
        await manager.DeleteAsync(state.Id, Options, CancellationToken.None);
        Assert.Empty(Arm.Inventory);
    }

    [Fact]
    public async Task A_fresh_subscription_registers_ContainerService_then_creates()
    {
        Arm.UseFreshSubscription();
        using var manager = _bed.NewManager();

        var state = await manager.CreateAsync(new ClusterSpec { Id = Id() }, Options, CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Contains(Arm.Requests, r => r.Status == 409 && r.Path.Contains("Microsoft.ContainerService"));
        Assert.Equal(1, Arm.Count("POST", "/providers/Microsoft.ContainerService/register"));
        Assert.True(Arm.Count("GET", $"/subscriptions/{ArmEmulator.Subscription}/providers/Microsoft.ContainerService?") >= 1, "polled until Registered");
        Assert.DoesNotContain("Microsoft.ContainerService", Arm.Unregistered);
        // Only what Ksctl needed was registered: it made no network or compute request on a managed create.
        Assert.Contains("Microsoft.Network", Arm.Unregistered);
        Assert.All(Arm.Creates.Values, n => Assert.Equal(1, n));
    }

    [Fact]
    public async Task Without_a_version_AKS_gets_the_regions_default_from_kubernetesVersions()
    {
        using var manager = _bed.NewManager();
        var (plan, _) = await manager.PlanCreateAsync(new ClusterSpec { Id = Id() }, CancellationToken.None);
        Assert.Contains("the default AKS lists for eastus", plan.Render());

        var state = await manager.CreateAsync(new ClusterSpec { Id = Id() }, Options, CancellationToken.None);

        // 1.42 is the emulator's isDefault (1.43 is newer but preview): nothing in Ksctl knows these numbers.
        var aks = Assert.Single(Arm.Inventory, r => r.Type == "Microsoft.ContainerService/managedClusters");
        Assert.Equal("1.42", aks.Body["properties"]!["kubernetesVersion"]!.GetValue<string>());
        Assert.Equal("1.42.4", state.KubernetesVersion);
        Assert.Equal("1.42", state.Resources["azure:aks-version"]);
        Assert.Equal(1, Arm.Count("GET", "/providers/Microsoft.ContainerService/locations/eastus/kubernetesVersions?api-version=2024-09-01"));
    }

    [Fact]
    public async Task A_version_AKS_does_not_list_is_refused_by_AKS_verbatim()
    {
        using var manager = _bed.NewManager();
        var e = await Assert.ThrowsAsync<PlanFailedException>(() => manager.CreateAsync(new ClusterSpec { Id = Id(), KubernetesVersion = "1.29" }, Options, CancellationToken.None));
        var cause = Assert.IsType<KsctlException>(e.InnerException);
        Assert.Contains("AgentPoolK8sVersionNotSupported", cause.Message);
        Assert.Equal(KsctlErrorCategory.InvalidArgument, cause.Category);
    }

    [Theory]
    [InlineData(409, "OperationNotAllowed", "Operation could not be completed as it results in exceeding approved Total Regional Cores quota. Location: eastus, Current Limit: 4, Current Usage: 4, Additional Required: 2.")]
    [InlineData(409, "SkuNotAvailable", "The requested VM size for resource 'Following SKUs have failed for Capacity Restrictions: Standard_DS2_v2' is currently not available in location 'eastus'. Please try another size or deploy to a different location or different zone.")]
    [InlineData(400, "QuotaExceeded", "Operation results in exceeding quota limits of Core. Maximum allowed: 4, Current in use: 4, Additional requested: 2.")]
    public async Task Quota_and_sku_refusals_are_ResourceUnavailable_with_Azures_message(int status, string code, string message)
    {
        Arm.RefuseNextPut("Microsoft.ContainerService/managedClusters", status, code, message);
        using var manager = _bed.NewManager();

        var e = await Assert.ThrowsAsync<PlanFailedException>(() => manager.CreateAsync(new ClusterSpec { Id = Id() }, Options, CancellationToken.None));

        var cause = Assert.IsType<KsctlException>(e.InnerException);
        Assert.Equal(KsctlErrorCategory.ResourceUnavailable, cause.Category);
        Assert.EndsWith($"{status} {code}: {message}", cause.Message);

        // The same refusal inside a long-running operation is categorised the same way.
        Arm.FailNextOperation("Microsoft.ContainerService/managedClusters", code, message);
        e = await Assert.ThrowsAsync<PlanFailedException>(() => manager.CreateAsync(new ClusterSpec { Id = Id() }, Options, CancellationToken.None));
        cause = Assert.IsAssignableFrom<KsctlException>(e.InnerException);
        Assert.Equal(KsctlErrorCategory.ResourceUnavailable, cause.Category);
        Assert.EndsWith($"{code}: {message}", cause.Message);
        Assert.Equal(ClusterStatus.CreationFailed, (await manager.GetAsync(Id(), CancellationToken.None)).Status);
    }

    [Fact]
    public async Task A_VM_size_with_a_hyphen_is_accepted()
    {
        using var manager = _bed.NewManager();
        var (plan, _) = await manager.PlanCreateAsync(new ClusterSpec { Id = Id(), NodeSize = "Standard_E4-2s_v5" }, CancellationToken.None);
        Assert.Contains("1 × Standard_E4-2s_v5", plan.Render());
        var ha = new ClusterSpec { Id = new ClusterId(CloudProvider.Azure, ClusterType.SelfManaged, "ha", "eastus"), EtcdSize = "Standard_M8-2ms" };
        Assert.Contains("Standard_M8-2ms", (await manager.PlanCreateAsync(ha, CancellationToken.None)).Item1.Render());
        Assert.Empty(Arm.Requests);
    }

    [Fact]
    public async Task An_AKS_operation_that_never_finishes_is_KsctlOperationTimeout_then_a_rerun_completes()
    {
        Arm.HoldOperations = true;
        // Each status check of the held operation moves the operations' clock 15 minutes on: the 40-minute deadline passes
        // at the third check, without any real waiting.
        var polls = 0;
        Arm.OnOperationPoll = (type, _, _) => { if (type == "Microsoft.ContainerService/managedClusters") { polls++; _bed.Clock.Advance(TimeSpan.FromMinutes(15)); } };
        using var manager = _bed.NewManager();

        var e = await Assert.ThrowsAsync<PlanFailedException>(() => manager.CreateAsync(new ClusterSpec { Id = Id() }, Options, CancellationToken.None));

        var cause = Assert.IsType<KsctlException>(e.InnerException);
        Assert.Equal("KsctlOperationTimeout", cause.ErrorId);
        Assert.Equal(KsctlErrorCategory.OperationTimeout, cause.Category);
        Assert.Equal(3, polls);
        Assert.Equal(ClusterStatus.CreationFailed, (await manager.GetAsync(Id(), CancellationToken.None)).Status);

        Arm.HoldOperations = false;
        Arm.OnOperationPoll = null;
        var state = await manager.CreateAsync(new ClusterSpec { Id = Id() }, Options, CancellationToken.None);
        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.All(Arm.Creates.Values, n => Assert.Equal(1, n));
    }
}
