using Ksctl.Core.Clusters;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Kube;
using Ksctl.Core.Model;
using Ksctl.Core.Providers;
using Ksctl.Core.Storage.Credentials;

namespace Ksctl.Azure.Tests;

/// <summary>Managed AKS clusters end to end through the ClusterManager against the ARM emulator.</summary>
[Collection(AzureEnvironmentCollection.Name)]
public sealed class AksManagedTests : IAsyncLifetime
{
    private AzureTestBed _bed = null!;
    private ArmEmulator Arm => _bed.Arm;
    private const string Group = "/subscriptions/" + ArmEmulator.Subscription + "/resourceGroups/ksctl-resgrp-managed-demo";
    private const string Aks = Group + "/providers/Microsoft.ContainerService/managedClusters/demo";

    public async Task InitializeAsync() => _bed = await AzureTestBed.StartAsync();
    public async Task DisposeAsync() => await _bed.DisposeAsync();

    private static ClusterId Id(string name = "demo", string region = "eastus") => new(CloudProvider.Azure, ClusterType.Managed, name, region);
    private static ClusterSpec Spec(string name = "demo") => new() { Id = Id(name) };
    private static readonly OperationOptions Options = OperationOptions.Default;

    [Fact]
    public async Task Create_get_switch_delete_leaves_nothing_in_Azure()
    {
        _bed.UseEnvironmentCredential();
        using var manager = _bed.NewManager();

        var state = await manager.CreateAsync(Spec() with { NodeCount = 2, KubernetesVersion = "1.41" }, Options, CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Equal("AKS", state.Distribution);
        Assert.Equal("1.41.5", state.KubernetesVersion); // what AKS picked for "1.41"
        const string context = "demo-eastus-managed-azure-ksctl";
        Assert.Equal(context, state.ContextName);
        Assert.Equal(2, Arm.Inventory.Count);
        var group = Assert.Single(Arm.Inventory, r => r.Type == "Microsoft.Resources/resourceGroups");
        Assert.Equal("ksctl-resgrp-managed-demo", group.Name);
        var aks = Assert.Single(Arm.Inventory, r => r.Type == "Microsoft.ContainerService/managedClusters");
        Assert.Equal(Aks, aks.Id);
        Assert.Equal(Aks, state.Resources["azure:aks"]);
        var pool = aks.Body["properties"]!["agentPoolProfiles"]![0]!;
        Assert.Equal(("Standard_DS2_v2", 2, "System"), (pool["vmSize"]!.GetValue<string>(), pool["count"]!.GetValue<int>(), pool["mode"]!.GetValue<string>()));
        Assert.Equal("SystemAssigned", aks.Body["identity"]!["type"]!.GetValue<string>());
        Assert.Equal("ksctl-nodes-demo", aks.Body["properties"]!["nodeResourceGroup"]!.GetValue<string>());
        Assert.Equal(0, Arm.Count("GET", "/kubernetesVersions")); // a version was given: no lookup
        Assert.All(Arm.Inventory, r => Assert.Equal(("demo", "azure", "managed"), (r.Tag("ksctl-cluster"), r.Tag("ksctl-provider"), r.Tag("ksctl-type"))));
        Assert.All(Arm.Creates.Values, n => Assert.Equal(1, n));
        Assert.StartsWith("https://demo-k8s-", state.Endpoint);
        var kubeconfig = KubeconfigFile.Parse(state.Secrets[ClusterState.KubeconfigSecret], "state");
        Assert.Equal(context, kubeconfig.CurrentContext);
        Assert.Equal(state.Endpoint, Assert.Single(kubeconfig.Clusters).ClusterEndpoint.Server);
        // Every ARM request carried an api-version (the emulator answers 400 otherwise) and progress was reported.
        Assert.DoesNotContain(Arm.Requests, r => r.Status == 400);
        Assert.Contains(_bed.Events.All, e => e.Step == "azure:aks");
        Assert.True(Arm.Count("GET", "/operations/") >= 2, "the AKS creation was polled through Azure-AsyncOperation");

        var read = await manager.GetAsync(Id(), CancellationToken.None);
        Assert.Equal(ClusterStatus.Running, read.Status);

        var path = Path.Combine(_bed.Home, "kube", "config");
        var switched = await manager.SwitchContextAsync(Id(), path, CancellationToken.None);
        Assert.Equal(context, KubeconfigFile.Parse(await File.ReadAllTextAsync(path), path).CurrentContext);

        await manager.DeleteAsync(Id(), Options, CancellationToken.None);

        Assert.Empty(Arm.Inventory);
        Assert.Equal(1, Arm.Count("DELETE", "/managedClusters/demo"));
        await Assert.ThrowsAsync<ClusterNotFoundException>(() => manager.GetAsync(Id(), CancellationToken.None));
        var output = await _bed.AllOutputAsync();
        Assert.DoesNotContain(ArmEmulator.Secret, output);
        Assert.DoesNotContain("emu-", output); // bearer tokens
    }

    [Fact]
    public async Task The_emulator_insists_on_api_version_and_its_own_tokens()
    {
        using var http = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, c, _, _) => Arm.IsEmulatorCertificate(c) });
        var noVersion = await http.GetAsync(new Uri(Arm.BaseUrl, $"subscriptions/{ArmEmulator.Subscription}/resourceGroups/x"));
        Assert.Equal(400, (int)noVersion.StatusCode);
        Assert.Contains("MissingApiVersionParameter", await noVersion.Content.ReadAsStringAsync());
        var noToken = await http.GetAsync(new Uri(Arm.BaseUrl, $"subscriptions/{ArmEmulator.Subscription}/resourceGroups/x?api-version=2021-04-01"));
        Assert.Equal(401, (int)noToken.StatusCode);
        Assert.Contains("InvalidAuthenticationToken", await noToken.Content.ReadAsStringAsync());
    }

    [Fact]
    public void Tab_completion_lists_come_from_the_Azure_descriptor()
    {
        using var manager = _bed.NewManager();
        var azure = Assert.Single(manager.Providers, d => d.Provider == CloudProvider.Azure);
        Assert.Equal("eastus", azure.DefaultRegion);
        Assert.Contains("westeurope", azure.Regions);
        Assert.Equal("Standard_DS2_v2", azure.DefaultNodeSize);
        Assert.Contains("Standard_F2s", azure.NodeSizes);
        Assert.Contains("Standard_F4s", azure.NodeSizes);
        Assert.Equal([ClusterType.Managed, ClusterType.SelfManaged], azure.SupportedTypes);
    }

    [Fact]
    public async Task Twenty_percent_429_and_500_still_create_each_resource_once()
    {
        _bed.UseEnvironmentCredential();
        Arm.RetryAfterSeconds = 0;
        Arm.FailFraction(0.2);
        // ARM's transient conflict (another operation on the same resource) is waited out too.
        // The group's creation is applied but its answer lost: the retried PUT finds it (same id), nothing doubles.
        Arm.LoseNextCreateResponse("Microsoft.Resources/resourceGroups");
        Arm.RefuseNextPut("Microsoft.ContainerService/managedClusters", 409, "AnotherOperationInProgress", "Operation is not allowed: Another operation (Updating) is in progress, please wait for it to finish before starting a new operation.");
        using var manager = _bed.NewManager();

        var state = await manager.CreateAsync(Spec(), Options, CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Contains(Arm.Requests, r => r.Status == 409);
        Assert.Contains(Arm.Requests, r => r.Status == 429);
        Assert.Contains(Arm.Requests, r => r.Status == 500);
        Assert.Equal(2, Arm.Inventory.Count);
        Assert.All(Arm.Creates.Values, n => Assert.Equal(1, n));

        await manager.DeleteAsync(Id(), Options, CancellationToken.None);
        Assert.Empty(Arm.Inventory);
    }

    [Fact]
    public async Task A_quota_error_surfaces_verbatim_and_the_cluster_is_CreationFailed_then_a_rerun_completes()
    {
        _bed.UseEnvironmentCredential();
        const string message = "Preflight validation check for resource(s) for container service demo in resource group ksctl-resgrp-managed-demo failed. Message: Insufficient regional vcpu quota left for location eastus. left regional vcpu quota 0, requested quota 2.";
        Arm.RefuseNextPut("Microsoft.ContainerService/managedClusters", 400, "InsufficientVCPUQuota", message);
        using var manager = _bed.NewManager();

        var e = await Assert.ThrowsAsync<PlanFailedException>(() => manager.CreateAsync(Spec(), Options, CancellationToken.None));

        Assert.Equal("KsctlCreationFailed", e.ErrorId);
        var cause = Assert.IsType<KsctlException>(e.InnerException);
        Assert.Equal("KsctlCloudApiError", cause.ErrorId);
        Assert.Contains("InsufficientVCPUQuota", cause.Message);
        Assert.Contains(message, cause.Message);
        var state = await manager.GetAsync(Id(), CancellationToken.None);
        Assert.Equal(ClusterStatus.CreationFailed, state.Status);
        Assert.Contains(state.LastErrors, l => l.Contains("InsufficientVCPUQuota") && l.Contains("left regional vcpu quota 0"));
        Assert.DoesNotContain(Arm.Inventory, r => r.Type == "Microsoft.ContainerService/managedClusters");

        // A failure inside the long-running operation also comes back with ARM's code and message.
        Arm.FailNextOperation("Microsoft.ContainerService/managedClusters", "OperationNotAllowed", "Kubernetes version 1.33 is not supported in this region.");
        var again = await Assert.ThrowsAsync<PlanFailedException>(() => manager.CreateAsync(Spec(), Options, CancellationToken.None));
        Assert.Contains("OperationNotAllowed: Kubernetes version 1.33 is not supported in this region.", again.InnerException!.Message);

        // The quota was raised: the same create resumes, re-PUTs the same cluster (no second one) and completes.
        state = await manager.CreateAsync(Spec(), Options, CancellationToken.None);
        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Single(Arm.Inventory, r => r.Type == "Microsoft.ContainerService/managedClusters");
        Assert.All(Arm.Creates.Values, n => Assert.Equal(1, n));
        await manager.DeleteAsync(Id(), Options, CancellationToken.None);
        Assert.Empty(Arm.Inventory);
    }

    [Fact]
    public async Task Cancel_while_AKS_provisions_or_deletes_then_rerun_completes_and_nothing_is_left()
    {
        _bed.UseEnvironmentCredential();
        Arm.HoldOperations = true;
        using var cts = new CancellationTokenSource();
        // Ctrl+C at the first status check of AKS's creation: Ksctl is then waiting on the operation.
        Arm.OnOperationPoll = (type, delete, _) => { if (type == "Microsoft.ContainerService/managedClusters" && !delete) cts.Cancel(); };
        using var manager = _bed.NewManager();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => manager.CreateAsync(Spec(), Options, cts.Token));

        var state = await manager.GetAsync(Id(), CancellationToken.None);
        Assert.Equal(ClusterStatus.CreationFailed, state.Status);
        Assert.Equal(Aks, state.Resources["azure:aks"]); // recorded before the PUT
        Assert.True(cts.IsCancellationRequested);
        Arm.HoldOperations = false;
        Arm.OnOperationPoll = null;

        state = await manager.CreateAsync(Spec(), Options, CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Equal(2, Arm.Inventory.Count);
        Assert.All(Arm.Creates.Values, n => Assert.Equal(1, n));

        // Ctrl+C while AKS deletes the cluster: the delete resumes from its checkpoints and finishes.
        Arm.HoldOperations = true;
        using var deleting = new CancellationTokenSource();
        Arm.OnOperationPoll = (type, delete, _) => { if (type == "Microsoft.ContainerService/managedClusters" && delete) deleting.Cancel(); };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => manager.DeleteAsync(Id(), Options, deleting.Token));
        Assert.Equal(1, Arm.Count("DELETE", "/managedClusters/demo"));
        Arm.OnOperationPoll = null;
        Assert.Equal(ClusterStatus.DeletionFailed, (await manager.GetAsync(Id(), CancellationToken.None)).Status);
        Arm.HoldOperations = false;
        await manager.DeleteAsync(Id(), Options, CancellationToken.None);
        Assert.Empty(Arm.Inventory);
        await Assert.ThrowsAsync<ClusterNotFoundException>(() => manager.GetAsync(Id(), CancellationToken.None));
    }

    public static TheoryData<string, ClusterSpec> InvalidSpecs() => new()
    {
        { "Region", new ClusterSpec { Id = new ClusterId(CloudProvider.Azure, ClusterType.Managed, "demo", "mars-north") } },
        { "NodeSize", Spec() with { NodeSize = "huge; rm -rf /" } },
        { "NodeCount", Spec() with { NodeCount = 0 } },
        { "KubernetesVersion", Spec() with { KubernetesVersion = "latest" } },
        { "Cni", Spec() with { Cni = "flannel" } },
        { "WorkerCount", Spec() with { WorkerCount = 3 } },
        { "Application", Spec() with { Applications = ["traefik"] } },
        { "EtcdCount", new ClusterSpec { Id = new ClusterId(CloudProvider.Azure, ClusterType.SelfManaged, "ha", "eastus"), EtcdCount = 2 } },
        { "NodeSize", new ClusterSpec { Id = new ClusterId(CloudProvider.Azure, ClusterType.SelfManaged, "ha", "eastus"), NodeSize = "Standard_F2s" } },
        { "TrustOnFirstUse", new ClusterSpec { Id = new ClusterId(CloudProvider.Azure, ClusterType.SelfManaged, "ha", "eastus"), TrustOnFirstUse = true } },
    };

    [Theory]
    [MemberData(nameof(InvalidSpecs))]
    public async Task An_invalid_spec_names_the_parameter_and_sends_no_request(string parameter, ClusterSpec spec)
    {
        _bed.UseEnvironmentCredential();
        using var manager = _bed.NewManager();

        var e = await Assert.ThrowsAsync<InvalidSpecException>(() => manager.CreateAsync(spec, Options, CancellationToken.None));

        Assert.Equal(parameter, e.Parameter);
        Assert.Empty(Arm.Requests);
    }

    [Fact]
    public async Task WhatIf_plan_names_the_resources_sizes_and_counts_and_sends_nothing()
    {
        using var manager = _bed.NewManager();

        var (managed, _) = await manager.PlanCreateAsync(Spec() with { NodeCount = 3, NodeSize = "Standard_D4s_v5" }, CancellationToken.None);
        var text = managed.Render();
        Assert.Contains("resource group ksctl-resgrp-managed-demo (eastus)", text);
        Assert.Contains("managedClusters demo", text);
        Assert.Contains("3 × Standard_D4s_v5", text);

        var ha = new ClusterSpec { Id = new ClusterId(CloudProvider.Azure, ClusterType.SelfManaged, "ha", "westeurope"), WorkerCount = 2 };
        var (plan, _) = await manager.PlanCreateAsync(ha, CancellationToken.None);
        text = plan.Render();
        Assert.Contains("resource group ksctl-resgrp-selfmanaged-ha (westeurope)", text);
        Assert.Contains("virtual network ha-net 10.1.0.0/16", text);
        foreach (var nsg in new[] { "ha-fw-lb", "ha-fw-db", "ha-fw-cp", "ha-fw-wp" }) Assert.Contains($"network security group {nsg}", text);
        foreach (var vm in new[] { "ha-vm-lb", "ha-vm-db-0", "ha-vm-db-2", "ha-vm-cp-0", "ha-vm-cp-2", "ha-vm-wp-0", "ha-vm-wp-1" })
            Assert.Contains($"virtual machine {vm}: Standard_F2s", text);
        Assert.Equal(7 + 2, plan.Steps.Count(s => s.Name.StartsWith("machine:")));
        Assert.Contains("6443 from anywhere", text);

        // Kubeadm workers default to the larger Standard_F4s; a size given explicitly wins for its role only.
        var (kubeadm, _) = await manager.PlanCreateAsync(ha with { Id = ha.Id with { Name = "kha" }, Distribution = DistributionKind.Kubeadm, ControlPlaneSize = "Standard_D4s_v5" }, CancellationToken.None);
        text = kubeadm.Render();
        Assert.Contains("virtual machine kha-vm-wp-0: Standard_F4s", text);
        Assert.Contains("virtual machine kha-vm-cp-0: Standard_D4s_v5", text);
        Assert.Contains("virtual machine kha-vm-db-0: Standard_F2s", text);
        Assert.Empty(Arm.Requests);
    }
}
