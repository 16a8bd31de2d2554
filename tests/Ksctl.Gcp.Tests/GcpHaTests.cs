using System.Text.Json.Nodes;
using Ksctl.Core.Clusters;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Remote.Keys;
using Ksctl.TestSupport;

namespace Ksctl.Gcp.Tests;

/// <summary>
/// Self-managed HA clusters on "Compute Engine" end to end: the emulator's instances are real test machines booted
/// from the user-data metadata the provider sent (the generated host key) with the internal IP Compute assigned, so
/// pinning, the addresses, and the unchanged SSH bootstrap (HAProxy, etcd over TLS, the k3s/kubeadm stand-ins) are
/// exercised for real. Faults: 429 RATE_LIMIT_EXCEEDED and 503 on a fifth of the requests, lost insert answers (the
/// retry carries the same requestId), an instance operation that ends DONE with QUOTA_EXCEEDED, a cancel while an
/// instance is inserted, the resume, a resize both ways and the delete to an empty inventory.
/// </summary>
[Collection(GcpEnvironmentCollection.Name)]
public sealed class GcpHaTests(GcpHaMachines machines) : IClassFixture<GcpHaMachines>, IAsyncLifetime
{
    private const int MachineCount = GcpHaMachines.MachineCount;
    private GcpTestBed _bed = null!;
    private TestMachinePool _pool => machines.Pool;
    private string _artifacts => machines.Artifacts;
    private static readonly OperationOptions Connect = new() { ConnectDeadline = TimeSpan.FromSeconds(60) };

    public async Task InitializeAsync()
    {
        // The machines are the class's (started once); each test starts from a pool with nothing booted. A released
        // machine is reset to a fresh one (its private /usr/local/bin too): the stand-ins go back on before reuse.
        foreach (var name in _pool.Booted.Keys.ToList()) _pool.Release(name);
        if (machines.Used) await TestMachineHarness.ProvisionStandInsAsync(machines.All);
        machines.Used = true;
        _bed = await GcpTestBed.StartAsync();
        _bed.Gcp.InstanceBooter = boot =>
        {
            var machine = _pool.Boot(boot.Name, boot.UserData, privateCidr: $"{boot.PrivateIp}/{System.Net.IPNetwork.Parse(boot.SubnetRange).PrefixLength}");
            return (machine.Address, machine.PrivateAddress);
        };
        _bed.Gcp.InstanceReleaser = name => _pool.Release(name);
        // The VPC firewall rules that target an instance's tags are enforced on its machine (nftables), kept current.
        _bed.Gcp.InstanceFirewall = (name, rules) => _pool.Firewall(name, rules);
    }

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    private OperationOptions Options => Connect with { Credential = GcpTestBed.WithKey(_bed.KeyFile).Credential };

    [Fact]
    public async Task HA_K3s_on_Compute_Engine_survives_faults_quota_a_lost_answer_and_a_cancel_resizes_then_deletes_everything()
    {
        var gcp = _bed.Gcp;
        gcp.FailFraction(0.2);
        gcp.LoseNextInsertAnswer("firewalls");
        gcp.LoseNextInsertAnswer("instances");
        var spec = new ClusterSpec { Id = new ClusterId(CloudProvider.Gcp, ClusterType.SelfManaged, "ha", "us-central1"), WorkerCount = 1, ArtifactSource = _artifacts };
        using var manager = _bed.NewManager();

        // An instance whose operation ends DONE with QUOTA_EXCEEDED: CreationFailed with Google's code and message.
        const string quota = "Quota 'CPUS' exceeded.  Limit: 24.0 in region us-central1.";
        gcp.FailNextOperation("instances", "QUOTA_EXCEEDED", quota);
        var failed = await Assert.ThrowsAsync<PlanFailedException>(() => manager.CreateAsync(spec, Options, CancellationToken.None));
        Assert.Equal("KsctlCreationFailed", failed.ErrorId);
        var afterFailure = await manager.GetAsync(spec.Id, CancellationToken.None);
        Assert.Equal(ClusterStatus.CreationFailed, afterFailure.Status);
        Assert.Contains(afterFailure.LastErrors, l => l.Contains($"QUOTA_EXCEEDED: {quota}"));

        // Ctrl+C as the next instance insert arrives.
        using var cts = new CancellationTokenSource();
        gcp.OnInsert = (kind, _) => { if (kind == "instances") cts.Cancel(); };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => manager.CreateAsync(spec, Options, cts.Token));
        gcp.OnInsert = null;
        Assert.Equal(ClusterStatus.CreationFailed, (await manager.GetAsync(spec.Id, CancellationToken.None)).Status);

        // The re-run resumes: every resource exists once (the quota-failed instance was created, removed by Compute, created again).
        var state = await manager.CreateAsync(spec, Options, CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Contains(gcp.Requests, r => r.Status == 429);
        Assert.Contains(gcp.Requests, r => r.Status == 503);
        Assert.Equal(0, gcp.WithoutRequestId);
        Assert.True(gcp.RepeatedRequestIds >= 2, $"lost answers retried with their requestId: {gcp.RepeatedRequestIds}");
        var twice = gcp.Creates.Where(c => c.Value != 1).ToList();
        Assert.Single(twice);
        Assert.Equal(2, twice[0].Value);
        Assert.Contains("/instances/", twice[0].Key);
        Assert.Equal(MachineCount, state.Nodes.Count);
        Assert.Equal(MachineCount, _pool.Booted.Count);
        Assert.Equal(1 + 1 + 4 + MachineCount, gcp.Inventory.Count);
        Assert.Equal(GcpEmulator.Project, state.Resources["gcp:project"]);
        Assert.Equal("us-central1-a", state.Resources["gcp:zone"]);
        Assert.Equal(GcpEmulator.UbuntuImageName, state.Resources["gcp:image"]);

        foreach (var node in state.Nodes)
        {
            var booted = _pool.Booted[node.Name];
            var generated = SshKeyPair.FromPrivateKeyPem(state.Secrets["ssh-host-key/" + node.Key]);
            Assert.Equal(generated.Fingerprint, node.HostKey);
            Assert.Equal(booted.HostKey, node.HostKey);
            Assert.Equal((booted.Address, booted.PrivateAddress, "ksctl"), (node.PublicIP, node.PrivateIP, node.SshUser));
            Assert.True(TestMachineFirewall.InPrefix(node.PrivateIP!, "10.10.0.0/24"), node.PrivateIP);
            var instance = Assert.Single(gcp.Inventory, r => r.Kind == "instances" && r.Name == node.Name);
            Assert.Equal(("ha", "selfmanaged"), (instance.Label("ksctl-cluster"), instance.Label("ksctl-type")));
            Assert.EndsWith($"zones/us-central1-a/machineTypes/e2-medium", instance.Body["machineType"]!.GetValue<string>());
            var items = instance.Body["metadata"]!["items"]!.AsArray().OfType<JsonObject>().ToDictionary(i => i["key"]!.GetValue<string>(), i => i["value"]!.GetValue<string>());
            Assert.StartsWith("#cloud-config", items["user-data"]);
            Assert.Contains(generated.PublicKey, items["user-data"]);
            Assert.StartsWith("ksctl:", items["ssh-keys"]);
            Assert.Equal($"projects/ubuntu-os-cloud/global/images/{GcpEmulator.UbuntuImageName}", instance.Body["disks"]![0]!["initializeParams"]!["sourceImage"]!.GetValue<string>());
            Assert.Single(instance.Body["tags"]!["items"]!.AsArray());
        }
        var firewalls = gcp.Inventory.Where(r => r.Kind == "firewalls").ToList();
        Assert.Equal(4, firewalls.Count);
        var lbTag = Assert.Single(gcp.Inventory, r => r.Name == "ha-vm-lb").Body["tags"]!["items"]![0]!.GetValue<string>();
        var api = Assert.Single(firewalls, f => f.Body["allowed"]!.ToJsonString().Contains("6443"));
        Assert.Equal([lbTag], api.Body["targetTags"]!.AsArray().Select(t => t!.GetValue<string>()));
        var lb = _pool.Booted["ha-vm-lb"].Address;
        Assert.Equal($"https://{lb}:6443", state.Endpoint);
        Assert.Equal("ha-us-central1-selfmanaged-gcp-ksctl", state.ContextName);

        // The firewall rules are enforced on the machines: etcd is closed to anything outside the subnet (this process is
        // on the external side: the SYN is dropped and counted), the API through HAProxy is open to it.
        var db = state.Nodes.First(n => n.Role == NodeRole.Datastore).Name;
        var droppedBefore = _pool.Dropped(db);
        Assert.Equal(124, ConnectFromHost(_pool.Booted[db].Address, 2379));
        Assert.True(_pool.Dropped(db) > droppedBefore);
        Assert.Equal(0, ConnectFromHost(lb, 6443));

        // Resize 1 → 2 → 1 workers: only an instance is created, then deleted; the network and firewalls stay.
        gcp.FailFraction(0);
        state = await manager.ResizeAsync(spec.Id, 2, Options, CancellationToken.None);
        Assert.Equal(["wp-0", "wp-1"], state.Nodes.Where(n => n.Role == NodeRole.Worker).Select(n => n.Key).Order());
        Assert.Equal(1 + 1 + 4 + MachineCount + 1, gcp.Inventory.Count);
        state = await manager.ResizeAsync(spec.Id, 1, Options, CancellationToken.None);
        Assert.Equal(["wp-0"], state.Nodes.Where(n => n.Role == NodeRole.Worker).Select(n => n.Key));
        Assert.DoesNotContain(gcp.Inventory, r => r.Name == "ha-vm-wp-1");
        Assert.False(_pool.Booted.ContainsKey("ha-vm-wp-1"));

        // Delete in reverse (a network in use is refused by the emulator as by GCP): nothing is left.
        gcp.FailFraction(0.2);
        await manager.DeleteAsync(spec.Id, Options, CancellationToken.None);
        Assert.Empty(gcp.Inventory);
        Assert.Empty(_pool.Booted);
        Assert.Null(await manager.Store.ReadAsync(spec.Id, CancellationToken.None));
        Assert.DoesNotContain("PRIVATE KEY", await _bed.AllOutputAsync());
    }

    [Fact]
    public async Task Kubeadm_HA_on_Compute_Engine_with_faults_and_a_wrong_firewall_rule_fails_until_the_rule_is_fixed_then_deletes_to_an_empty_inventory()
    {
        var gcp = _bed.Gcp;
        gcp.FailFraction(0.2);
        gcp.LoseNextInsertAnswer("subnetworks");
        gcp.LoseNextInsertAnswer("instances");
        var spec = new ClusterSpec
        {
            Id = new ClusterId(CloudProvider.Gcp, ClusterType.SelfManaged, "kha", "europe-west1"),
            WorkerCount = 0, Distribution = DistributionKind.Kubeadm, ArtifactSource = _artifacts,
        };
        using var manager = _bed.NewManager();

        // A wrong rule: SSH is not opened to the datastore role's tag. The machines enforce it, so Ksctl's connections to
        // the etcd machines are dropped and the create fails (a short connect deadline: the failure is the expected one).
        string? dbTag = null;
        gcp.AlterNextInsert("firewalls", body =>
        {
            if (!body["name"]!.GetValue<string>().EndsWith("-fw-ssh", StringComparison.Ordinal)) return false;
            var tags = body["targetTags"]!.AsArray();
            var db = tags.Single(t => t!.GetValue<string>().EndsWith("-db", StringComparison.Ordinal))!;
            dbTag = db.GetValue<string>();
            tags.Remove(db);
            return true;
        });
        var failed = await Assert.ThrowsAsync<PlanFailedException>(() => manager.CreateAsync(spec, Options with { ConnectDeadline = TimeSpan.FromSeconds(4) }, CancellationToken.None));
        Assert.Equal("KsctlCreationFailed", failed.ErrorId);
        Assert.NotNull(dbTag);
        var etcd = gcp.Inventory.Where(r => r.Kind == "instances" && r.Name.Contains("-vm-db-", StringComparison.Ordinal)).Select(r => r.Name).ToList();
        Assert.Equal(3, etcd.Count);
        Assert.All(etcd, name => Assert.True(_pool.Dropped(name) > 0, $"{name}: no SSH packet was dropped"));
        var afterFailure = await manager.GetAsync(spec.Id, CancellationToken.None);
        Assert.Equal(ClusterStatus.CreationFailed, afterFailure.Status);
        Assert.Contains(afterFailure.LastErrors, l => etcd.Any(name => l.Contains(name, StringComparison.Ordinal)));

        // Fixing the rule (firewalls.patch) opens the running machines at once; the re-run resumes and completes.
        var sshRule = Assert.Single(gcp.Inventory, r => r.Kind == "firewalls" && r.Name.EndsWith("-fw-ssh", StringComparison.Ordinal)).Name;
        gcp.UpdateFirewall(sshRule, body => body["targetTags"]!.AsArray().Add(dbTag));
        var state = await manager.CreateAsync(spec, Options, CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Equal("Kubeadm", state.Distribution);
        // europe-west1 has no zone "a": the first zone Compute reports UP is used.
        Assert.Equal("europe-west1-b", state.Resources["gcp:zone"]);
        Assert.All(gcp.Creates.Values, n => Assert.Equal(1, n));
        Assert.Equal(0, gcp.WithoutRequestId);
        Assert.Equal(1 + 1 + 4 + 7, gcp.Inventory.Count);
        var lb = state.Nodes.Single(n => n.Key == "lb").PublicIP;
        Assert.Contains($"server: https://{lb}:6443", state.Secrets[ClusterState.KubeconfigSecret]);

        await manager.DeleteAsync(spec.Id, Options, CancellationToken.None);
        Assert.Empty(gcp.Inventory);
        Assert.Empty(_pool.Booted);
    }

    private static int ConnectFromHost(string address, int port) =>
        TestMachineHarness.Run("timeout", TimeSpan.FromMinutes(1), "5", "bash", "-c", $"exec 3<>/dev/tcp/{address}/{port}").ExitCode;
}

/// <summary>
/// The test machines of <see cref="GcpHaTests"/>, started once for the class: both clusters (K3s, then Kubeadm) boot on
/// the same pool one after the other, each test deleting its cluster (every machine released and reset) at its end.
/// </summary>
public sealed class GcpHaMachines : IAsyncLifetime
{
    private static readonly string Prefix = TestMachineHarness.ScopedPrefix("ksg");
    private static readonly string Subnet = TestMachineHarness.ScopedSubnet("10.251.206");
    public const int MachineCount = 1 + 3 + 3 + 1;
    private const int PoolSize = MachineCount + 1;

    public TestMachinePool Pool { get; private set; } = null!;
    public IReadOnlyList<InventoryMachine> All { get; private set; } = [];
    /// <summary>Whether a test has booted clusters on these machines already.</summary>
    public bool Used { get; set; }
    public string Artifacts { get; } = TestMachineHarness.MakeArtifactFolder();

    public async Task InitializeAsync()
    {
        All = TestMachineHarness.Start(Prefix, Subnet, PoolSize, "--sudo-user", "ksctl");
        await TestMachineHarness.ProvisionStandInsAsync(All);
        Pool = new TestMachinePool(Prefix, Subnet, All);
    }

    public Task DisposeAsync()
    {
        TestMachineHarness.Stop(Prefix, Subnet);
        try { Directory.Delete(Artifacts, true); } catch (IOException) { }
        return Task.CompletedTask;
    }
}
