using Ksctl.Core.Health;
using System.Text;
using Ksctl.Core.Clusters;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Remote.Keys;
using Ksctl.TestSupport;

namespace Ksctl.Azure.Tests;

/// <summary>
/// A self-managed K3s HA cluster on "Azure VMs" end to end: the ARM emulator's VMs are real test machines (booted
/// from the customData cloud-init the provider sent), so the generated host keys, the addresses from the NIC and
/// public IP, and the unchanged SSH bootstrap (HAProxy, etcd over TLS, the k3s stand-in) are all exercised for real.
/// One run covers: a fresh subscription (Network and Compute registered on the way), faults on ARM, a VM whose
/// operation fails (CreationFailed with ARM's code), a cancel while a VM is created, the resume, a resize both ways, a
/// delete that fails and its resume.
/// </summary>
[Collection(AzureEnvironmentCollection.Name)]
public sealed class AzureHaTests : IAsyncLifetime
{
    private static readonly string Prefix = TestMachineHarness.ScopedPrefix("ksa");
    private static readonly string Subnet = TestMachineHarness.ScopedSubnet("10.251.202");
    private const int MachineCount = 1 + 3 + 3 + 1;
    /// <summary>One spare machine for the worker added by the resize.</summary>
    private const int PoolSize = MachineCount + 1;
    private AzureTestBed _bed = null!;
    private TestMachinePool _pool = null!;
    private IReadOnlyList<InventoryMachine> _machines = [];
    private readonly string _artifacts = TestMachineHarness.MakeArtifactFolder();

    public async Task InitializeAsync()
    {
        _machines = TestMachineHarness.Start(Prefix, Subnet, PoolSize, "--sudo-user", "azureuser");
        await TestMachineHarness.ProvisionStandInsAsync(_machines);
        _pool = new TestMachinePool(Prefix, Subnet, _machines);
        _bed = await AzureTestBed.StartAsync();
        // Like Azure: the machine takes its NIC's private address, and its NIC's NSG (with Azure's defaults) is enforced.
        _bed.Arm.VmBooter = boot =>
        {
            var machine = _pool.Boot(boot.Name, boot.UserData, privateCidr: $"{boot.PrivateIp}/{System.Net.IPNetwork.Parse(boot.SubnetPrefix).PrefixLength}");
            _pool.Firewall(boot.Name, AzureNsgFirewall.Inbound(boot.SecurityRules, boot.VnetPrefixes));
            return (machine.Address, machine.PrivateAddress);
        };
        _bed.Arm.VmReleaser = vm => _pool.Release(vm);
    }

    public async Task DisposeAsync()
    {
        await _bed.DisposeAsync();
        TestMachineHarness.Stop(Prefix, Subnet);
        try { Directory.Delete(_artifacts, true); } catch (IOException) { }
    }

    [Fact]
    public async Task HA_K3s_on_Azure_VMs_survives_faults_a_failed_VM_and_a_cancel_resizes_then_deletes_everything()
    {
        _bed.UseEnvironmentCredential();
        var arm = _bed.Arm;
        arm.UseFreshSubscription();
        arm.RetryAfterSeconds = 0;
        arm.FailFraction(0.2);
        // NICs created while another NIC of the subnet provisions fail with AnotherOperationInProgress and are re-issued.
        arm.SubnetContention = 4;
        var spec = new ClusterSpec
        {
            Id = new ClusterId(CloudProvider.Azure, ClusterType.SelfManaged, "ha", "eastus"),
            WorkerCount = 1,
            ArtifactSource = _artifacts,
        };
        var options = new OperationOptions { ConnectDeadline = TimeSpan.FromSeconds(60) };
        using var manager = _bed.NewManager();

        // A VM whose provisioning fails (not a retryable code): the step fails with ARM's code and message verbatim.
        const string failure = "OS Provisioning for VM 'ha-vm' did not finish in the allotted time. The VM may still finish provisioning successfully.";
        arm.FailNextOperation("Microsoft.Compute/virtualMachines", "OSProvisioningTimedOut", failure);
        var failed = await Assert.ThrowsAsync<PlanFailedException>(() => manager.CreateAsync(spec, options, CancellationToken.None));
        Assert.Equal("KsctlCreationFailed", failed.ErrorId);
        var afterFailure = await manager.GetAsync(spec.Id, CancellationToken.None);
        Assert.Equal(ClusterStatus.CreationFailed, afterFailure.Status);
        Assert.Contains(afterFailure.LastErrors, l => l.Contains($"OSProvisioningTimedOut: {failure}"));
        Assert.Single(arm.Inventory, r => r.Type == "Microsoft.Compute/virtualMachines" && r.State == "Failed");
        Assert.DoesNotContain("Microsoft.Network", arm.Unregistered);
        Assert.DoesNotContain("Microsoft.Compute", arm.Unregistered);

        // Ctrl+C while that VM is created again (the emulator's hook cancels as its PUT arrives).
        using var cts = new CancellationTokenSource();
        arm.OnPut = (type, _) => { if (type == "Microsoft.Compute/virtualMachines") cts.Cancel(); };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => manager.CreateAsync(spec, options, cts.Token));
        Assert.True(cts.IsCancellationRequested);
        arm.OnPut = null;
        var interrupted = await manager.GetAsync(spec.Id, CancellationToken.None);
        Assert.Equal(ClusterStatus.CreationFailed, interrupted.Status);
        Assert.Contains(interrupted.Secrets.Keys, k => k.StartsWith("ssh-host-key/", StringComparison.Ordinal));

        // The re-run resumes: the same ids, the same customData, no second anything.
        var state = await manager.CreateAsync(spec, options, CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Contains(arm.Requests, r => r.Status == 429);
        Assert.Contains(arm.Requests, r => r.Status == 500);
        Assert.Equal(MachineCount, state.Nodes.Count);
        Assert.Equal(MachineCount, _pool.Booted.Count);
        Assert.All(arm.Creates.Values, n => Assert.Equal(1, n));
        Assert.Equal(1 + 1 + 4 + 3 * MachineCount, arm.Inventory.Count);
        Assert.All(arm.Inventory, r => Assert.Equal(("ha", "selfmanaged"), (r.Tag("ksctl-cluster"), r.Tag("ksctl-type"))));
        Assert.Equal("ksctl-resgrp-selfmanaged-ha", Assert.Single(arm.Inventory, r => r.Type == "Microsoft.Resources/resourceGroups").Name);
        Assert.Equal(["ha-fw-cp", "ha-fw-db", "ha-fw-lb", "ha-fw-wp"], arm.Inventory.Where(r => r.Type == "Microsoft.Network/networkSecurityGroups").Select(r => r.Name).Order());

        foreach (var node in state.Nodes)
        {
            // The machine presents exactly the host key Ksctl generated and sent in customData, and it is pinned in state.
            var booted = _pool.Booted[node.Name];
            var generated = SshKeyPair.FromPrivateKeyPem(state.Secrets["ssh-host-key/" + node.Key]);
            Assert.Equal(generated.Fingerprint, node.HostKey);
            Assert.Equal(booted.HostKey, node.HostKey);
            Assert.Equal((booted.Address, booted.PrivateAddress, "azureuser"), (node.PublicIP, node.PrivateIP, node.SshUser));
            Assert.NotEqual(node.PublicIP, node.PrivateIP);
            Assert.True(TestMachineFirewall.InPrefix(node.PrivateIP, "10.1.0.0/24"), node.PrivateIP);
            var vm = Assert.Single(arm.Inventory, r => r.Name == node.Name);
            var customData = Encoding.UTF8.GetString(Convert.FromBase64String(vm.Body["properties"]!["osProfile"]!["customData"]!.GetValue<string>()));
            Assert.StartsWith("#cloud-config", customData);
            Assert.Contains(generated.PublicKey, customData);
            Assert.Equal(AzureSize(node.Role), vm.Body["properties"]!["hardwareProfile"]!["vmSize"]!.GetValue<string>());
            Assert.Equal("ubuntu-24_04-lts", vm.Body["properties"]!["storageProfile"]!["imageReference"]!["offer"]!.GetValue<string>());
            Assert.Matches($"^{node.Name}-[a-z0-9]{{4}}$", vm.Body["properties"]!["osProfile"]!["computerName"]!.GetValue<string>());
        }
        var lb = _pool.Booted["ha-vm-lb"].Address;
        Assert.Equal($"https://{lb}:6443", state.Endpoint);
        Assert.Contains($"server: https://{lb}:6443", state.Secrets[ClusterState.KubeconfigSecret]);
        Assert.Equal("ha-eastus-selfmanaged-azure-ksctl", state.ContextName);

        // The NSGs are enforced on the machines: etcd is closed to anything outside the VNet (this process is on the
        // public side: the SYN is dropped and counted), the API through HAProxy is open to it.
        var db = state.Nodes.First(n => n.Role == NodeRole.Datastore).Name;
        var droppedBefore = _pool.Dropped(db);
        Assert.Equal(124, ConnectFromHost(_pool.Booted[db].Address, 2379));
        Assert.True(_pool.Dropped(db) > droppedBefore);
        Assert.Equal(0, ConnectFromHost(lb, 6443));
        Assert.StartsWith("K10", state.Secrets["k3s:token"]);

        // Resize 1 → 2 workers: only the new VM, NIC and public IP are created; the network and NSGs are found in place.
        var networkPuts = arm.Count("PUT", "/virtualNetworks/");
        state = await manager.ResizeAsync(spec.Id, 2, options, CancellationToken.None);
        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Equal(2, state.Nodes.Count(n => n.Role == NodeRole.Worker));
        Assert.Equal(_pool.Booted["ha-vm-wp-1"].HostKey, Assert.Single(state.Nodes, n => n.Key == "wp-1").HostKey);
        Assert.Equal(1 + 1 + 4 + 3 * (MachineCount + 1), arm.Inventory.Count);
        Assert.Equal(networkPuts, arm.Count("PUT", "/virtualNetworks/"));
        Assert.All(arm.Creates.Values, n => Assert.Equal(1, n));

        // Resize 2 → 1: the highest worker is drained, then its VM, NIC and public IP go; its host key is forgotten.
        state = await manager.ResizeAsync(spec.Id, 1, options, CancellationToken.None);
        Assert.Equal(["wp-0"], state.Nodes.Where(n => n.Role == NodeRole.Worker).Select(n => n.Key));
        Assert.Equal(1 + 1 + 4 + 3 * MachineCount, arm.Inventory.Count);
        Assert.DoesNotContain(arm.Inventory, r => r.Name.StartsWith("ha-vm-wp-1", StringComparison.Ordinal));
        Assert.DoesNotContain("ssh-host-key/wp-1", state.Secrets.Keys);
        Assert.False(_pool.Booted.ContainsKey("ha-vm-wp-1"));

        // Live inventory (Test-KsctlCluster): every recorded VM is in the group; one deleted behind Ksctl's back is drift.
        var inventory = (await manager.TestAsync(spec.Id, CancellationToken.None)).Where(c => c.Check == HealthChecks.Inventory).ToList();
        Assert.Equal(MachineCount, inventory.Count);
        Assert.All(inventory, c => Assert.True(c.Passed, c.Reason));
        arm.DeleteVmOutOfBand("ha-vm-wp-0");
        var drift = Assert.Single((await manager.TestAsync(spec.Id, CancellationToken.None)).Where(c => c.Check == HealthChecks.Inventory && !c.Passed));
        Assert.Equal(("wp-0", "machine 'ha-vm-wp-0' is recorded in the state but Azure no longer has it"), (drift.Target, drift.Reason));

        // The delete plan (-WhatIf, -Confirm) names the exact ids each step deletes.
        var deletePlan = await manager.PlanDeleteAsync(spec.Id, CancellationToken.None);
        var group = $"/subscriptions/{ArmEmulator.Subscription}/resourceGroups/ksctl-resgrp-selfmanaged-ha";
        Assert.Equal([$"{group}/providers/Microsoft.Compute/virtualMachines/ha-vm-cp-0"], deletePlan.Steps.Single(s => s.Name == "azure:delete-vm:cp-0").Resources);
        Assert.Equal([$"{group}/providers/Microsoft.Network/networkInterfaces/ha-vm-cp-0-nic"], deletePlan.Steps.Single(s => s.Name == "azure:delete-nic:cp-0").Resources);
        Assert.Equal([$"{group}/providers/Microsoft.Network/networkSecurityGroups/ha-fw-db"], deletePlan.Steps.Single(s => s.Name == "azure:delete-nsg:db").Resources);
        Assert.Equal([group], deletePlan.Steps.Single(s => s.Name == "azure:delete-resource-group").Resources);

        // A delete that fails (a NIC's deletion operation ends Failed): DeletionFailed, the NIC is still there.
        arm.FailNextDelete("Microsoft.Network/networkInterfaces", "InternalOperationError", "An error occurred while deleting the network interface.");
        var deleteFailed = await Assert.ThrowsAsync<PlanFailedException>(() => manager.DeleteAsync(spec.Id, options, CancellationToken.None));
        Assert.Equal("KsctlDeletionFailed", deleteFailed.ErrorId);
        Assert.Contains("InternalOperationError: An error occurred while deleting the network interface.", deleteFailed.Message);
        Assert.Equal(ClusterStatus.DeletionFailed, (await manager.GetAsync(spec.Id, CancellationToken.None)).Status);
        Assert.Contains(arm.Inventory, r => r.Type == "Microsoft.Network/networkInterfaces");
        Assert.Contains(arm.Inventory, r => r.Type == "Microsoft.Resources/resourceGroups");

        // The same delete resumes: VMs, then NICs, IPs, NSGs, network, group; each machine is released (reset).
        await manager.DeleteAsync(spec.Id, options, CancellationToken.None);

        Assert.Empty(arm.Inventory);
        Assert.Empty(_pool.Booted);
        Assert.Null(await manager.Store.ReadAsync(spec.Id, CancellationToken.None));
        var output = await _bed.AllOutputAsync();
        Assert.DoesNotContain(ArmEmulator.Secret, output);
        Assert.DoesNotContain("PRIVATE KEY", output);
    }

    private static string AzureSize(NodeRole role) => "Standard_F2s";

    /// <summary>timeout(1)'s exit code for a TCP connect from this process: 0 connected, 1 refused, 124 no answer in 5 s.</summary>
    private static int ConnectFromHost(string address, int port) =>
        TestMachineHarness.Run("timeout", TimeSpan.FromMinutes(1), "5", "bash", "-c", $"exec 3<>/dev/tcp/{address}/{port}").ExitCode;
}
