using System.Collections.Concurrent;
using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Kube;
using Ksctl.Core.Model;
using Ksctl.Core.Remote;
using Ksctl.Core.Remote.Keys;
using Ksctl.TestSupport;
using Xunit;

namespace Ksctl.Civo.Tests;

/// <summary>
/// Self-managed (HA) clusters on Civo instances end to end: the provider talks to the Civo emulator, whose instances
/// boot as real SSH machines with the host key Ksctl injected, and the unchanged K3s bootstrap (Debian's etcd over
/// TLS, HAProxy, the k3s stand-in) runs on them.
/// </summary>
[Collection(CivoMachinesCollection.Name)]
public sealed class CivoHaTests(CivoMachinesFixture machines, Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _home = Directory.CreateTempSubdirectory("ksctl-civoha-").FullName;
    private CivoTestEnvironment _env = null!;
    private CivoEmulator _civo = null!;

    private static readonly OperationOptions Options = new() { ConnectDeadline = TimeSpan.FromSeconds(30) };

    public async Task InitializeAsync()
    {
        _civo = await CivoEmulator.StartAsync("good-key");
        _civo.PollsToGone = 1;
        machines.Attach(_civo);
        _env = new CivoTestEnvironment(_home, _civo.BaseUrl);
    }

    public async Task DisposeAsync()
    {
        _env.Dispose();
        await _civo.DisposeAsync();
        machines.ReleaseAll();
        try { Directory.Delete(_home, recursive: true); } catch (IOException) { }
    }

    private void SetEnv(string name, string? value) => _env.Set(name, value);

    private static ClusterId Id(string name) => new(CloudProvider.Civo, ClusterType.SelfManaged, name, "LON1");

    private ClusterSpec Spec(string name, int workers) => new()
    {
        Id = Id(name),
        WorkerCount = workers,
        ArtifactSource = machines.ArtifactFolder,
    };

    private sealed class Events(Action<KsctlEvent>? onEvent = null) : IProgress<KsctlEvent>
    {
        public ConcurrentQueue<KsctlEvent> All { get; } = new();

        public void Report(KsctlEvent value)
        {
            All.Enqueue(value);
            onEvent?.Invoke(value);
        }

        public IReadOnlyList<string> Steps(KsctlEventKind kind) => All.Where(e => e.Kind == kind).Select(e => e.Step!).ToList();
    }

    [Fact]
    public async Task HA_K3s_cluster_on_instances_is_created_resized_switched_to_and_deleted_leaving_nothing()
    {
        var events = new Events();
        using var manager = new ClusterManager(KsctlSettings.Load(_home), events);
        // One instance is ACTIVE while its sshd still shows the image's host key (Civo runs the script at the end of cloud-init).
        machines.LateFirstBoot.Add("ha-vm-db-1");
        // A per-minute budget a default HA create and delete stay under (with one instance list per poll, not one GET per instance).
        _civo.RateLimit = 120;
        _civo.StartRateWindow();

        var state = await manager.CreateAsync(Spec("ha", workers: 1), Options, CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        var createRequests = _civo.Requests.Count;
        Assert.Equal(["cp-0", "cp-1", "cp-2", "db-0", "db-1", "db-2", "lb", "wp-0"], state.Nodes.Select(n => n.Key!).Order());
        var network = Assert.Single(_civo.Networks, n => n.Label == "ha-lon1-net");
        Assert.Equal([null], _civo.NetworkCidrsAsked); // Civo picks the range
        Assert.Equal(["ha-lon1-fw-cp", "ha-lon1-fw-db", "ha-lon1-fw-lb", "ha-lon1-fw-wp"], _civo.Firewalls.Select(f => f.Name));
        var loginKey = SshKeyPair.FromPrivateKeyPem(state.Secrets["ssh-login-key"]);
        Assert.Equal(loginKey.Fingerprint, Assert.Single(_civo.SshKeys, k => k.Name == "ha-lon1-ssh").Fingerprint);
        Assert.Equal(8, _civo.Instances.Count);
        Assert.DoesNotContain(state.Secrets.Keys, k => k.StartsWith("ssh-host-key", StringComparison.Ordinal));
        foreach (var node in state.Nodes)
        {
            var instance = Assert.Single(_civo.Instances, i => i.Hostname == $"ha-vm-{node.Key}");
            Assert.Equal(instance.Id, node.ResourceId);
            Assert.Equal(node.Role is NodeRole.LoadBalancer or NodeRole.Datastore ? "g3.small" : "g3.medium", instance.Size);
            Assert.Equal("root", instance.InitialUser);
            Assert.Equal(CivoEmulator.ImageId("LON1", "ubuntu-noble"), instance.TemplateId); // not the newer GPU, CUDA or k3s images
            Assert.Contains("ksctl-cluster-ha", instance.Tags);
            Assert.Equal(_civo.Firewalls.Single(f => f.Name == $"ha-lon1-fw-{node.Key![..2]}").Id, instance.FirewallId);
            // The key in the script Civo hands out was replaced after the first pinned connection: state pins the new one,
            // the machine presents the new one, and a client trusting the script's key is refused.
            var injected = SshKeyPair.FromPrivateKeyPem(TestMachinePool.HostKeyPem(instance.Script)!).Fingerprint;
            Assert.NotEqual(injected, node.HostKey);
            Assert.StartsWith("SHA256:", node.HostKey);
            var mismatch = await Assert.ThrowsAsync<HostKeyMismatchException>(() => ConnectAsync(state, node.Key!, injected));
            Assert.Equal(node.HostKey, mismatch.ActualFingerprint);
            Assert.Equal(machines.Pool.Booted[instance.Id].Address, node.PublicIP);
            Assert.Equal("root", node.SshUser);
            // The private address is the network's, not the public one, and it is the one the machine really has on eth1.
            Assert.NotEqual(node.PublicIP, node.PrivateIP);
            Assert.True(TestMachineFirewall.InPrefix(node.PrivateIP!, network.Cidr), node.PrivateIP);
            Assert.Equal(machines.Pool.Booted[instance.Id].PrivateAddress, node.PrivateIP);
            Assert.Equal(node.PrivateIP, (await RunOnAsync(state, node.Key!, "ip -4 -o addr show dev eth1 | awk '{print $4}' | cut -d/ -f1")).Trim());
        }
        // Civo hands out the lowest free addresses of the network (after its gateway): eight instances, eight in a row.
        var first = System.Net.IPNetwork.Parse(network.Cidr).BaseAddress.GetAddressBytes();
        Assert.Equal(Enumerable.Range(2, 8).Select(n => $"{first[0]}.{first[1]}.{first[2]}.{n}").Order(), state.Nodes.Select(n => n.PrivateIP!).Order());
        // Only Ksctl's rules (Civo's open-everything defaults were turned off); etcd is reachable from the private network only.
        var rules = (string Fw) => _civo.Firewalls.Single(f => f.Name == Fw).Rules.Select(r => r["label"]!.GetValue<string>()).Order().ToArray();
        Assert.Equal(["egress-tcp", "egress-udp", "kube-api", "ssh"], rules("ha-lon1-fw-lb"));
        Assert.Equal(["egress-tcp", "egress-udp", "etcd", "ssh"], rules("ha-lon1-fw-db"));
        var etcdRule = _civo.Firewalls.Single(f => f.Name == "ha-lon1-fw-db").Rules.Single(r => r["label"]!.GetValue<string>() == "etcd");
        Assert.Equal(network.Cidr, etcdRule["cidr"]![0]!.GetValue<string>());
        Assert.Contains("nodeports", rules("ha-lon1-fw-wp"));

        var lb = state.Nodes.Single(n => n.Key == "lb").PublicIP;
        Assert.Equal($"https://{lb}:6443", state.Endpoint);
        // The firewalls are enforced on the machines: etcd is closed to anything outside the network (this process is on
        // the public side: the SYN is dropped and counted), the API through HAProxy is open to it.
        var db = state.Nodes.First(n => n.Role == NodeRole.Datastore);
        var droppedBefore = machines.Pool.Dropped(db.ResourceId!);
        Assert.Equal(124, ConnectFromHost(db.PublicIP!, 2379));
        Assert.True(machines.Pool.Dropped(db.ResourceId!) > droppedBefore);
        Assert.Equal(0, ConnectFromHost(lb!, 6443));
        const string context = "ha-LON1-selfmanaged-civo-ksctl";
        Assert.Equal(context, state.ContextName);
        Assert.Contains($"server: https://{lb}:6443", state.Secrets[ClusterState.KubeconfigSecret]);
        Assert.Contains("--datastore-endpoint=https://", await RunOnAsync(state, "cp-0", "cat /var/lib/rancher/k3s/server/standin-args"));
        // Workers join through the load balancer's private address (inside the network), not its public one.
        var lbPrivate = state.Nodes.Single(n => n.Key == "lb").PrivateIP;
        Assert.Contains($"--server=https://{lbPrivate}:6443", await RunOnAsync(state, "wp-0", "cat /var/lib/rancher/k3s/agent/standin-args"));
        // The late machine was waited for, never trusted with the image's key: it now presents the injected one (pinned connect).
        Assert.Contains(events.All, e => e.Message.Contains("ha-vm-db-1 does not present its pinned host key", StringComparison.Ordinal));
        Assert.Contains("etcd", await RunOnAsync(state, "db-1", "ls /usr/local/bin"));

        var read = await manager.GetAsync(Id("ha"), CancellationToken.None);
        Assert.Equal(ClusterStatus.Running, read.Status);
        var path = Path.Combine(_home, "kube", "config");
        await manager.SwitchContextAsync(Id("ha"), path, CancellationToken.None);
        Assert.Equal(context, KubeconfigFile.Parse(await File.ReadAllTextAsync(path), path).CurrentContext);

        // Resize 1 → 2 → 1: a new instance joins; the removed one is drained and its instance deleted; the rest stays.
        _civo.NewerImages.Add(("ubuntu-plucky", "25.04")); // a newer Ubuntu since the create: the cluster keeps its image
        _civo.StartRateWindow();
        state = await manager.ResizeAsync(Id("ha"), 2, Options, CancellationToken.None);
        Assert.Equal(9, _civo.Instances.Count);
        var added = Assert.Single(_civo.Instances, i => i.Hostname == "ha-vm-wp-1");
        Assert.Equal(CivoEmulator.ImageId("LON1", "ubuntu-noble"), added.TemplateId);
        Assert.Equal(added.Id, state.Nodes.Single(n => n.Key == "wp-1").ResourceId);
        Assert.Contains($"--server=https://{lbPrivate}:6443", await RunOnAsync(state, "wp-1", "cat /var/lib/rancher/k3s/agent/standin-args"));
        Assert.Single(_civo.Networks);
        Assert.Equal(4, _civo.Firewalls.Count);
        state = await manager.ResizeAsync(Id("ha"), 1, Options, CancellationToken.None);
        Assert.Equal(8, _civo.Instances.Count);
        Assert.DoesNotContain(_civo.Instances, i => i.Hostname == "ha-vm-wp-1");
        Assert.DoesNotContain(state.Nodes, n => n.Key == "wp-1");
        Assert.False(state.Resources.ContainsKey("civo:vm:wp-1"));
        Assert.Single(_civo.Networks);
        Assert.Equal(4, _civo.Firewalls.Count);
        Assert.Single(_civo.SshKeys);

        // Live inventory (Test-KsctlCluster): every recorded instance is there; one deleted behind Ksctl's back is drift.
        var inventory = (await manager.TestAsync(Id("ha"), CancellationToken.None)).Where(c => c.Check == Ksctl.Core.Health.HealthChecks.Inventory).ToList();
        Assert.Equal(8, inventory.Count);
        Assert.All(inventory, c => Assert.True(c.Passed, c.Reason));
        _civo.DeleteInstanceOutOfBand("ha-vm-wp-0");
        var drift = Assert.Single((await manager.TestAsync(Id("ha"), CancellationToken.None)).Where(c => c.Check == Ksctl.Core.Health.HealthChecks.Inventory && !c.Passed));
        Assert.Equal(("wp-0", "machine 'ha-vm-wp-0' is recorded in the state but Civo no longer has it"), (drift.Target, drift.Reason));

        var beforeDelete = _civo.Requests.Count;
        _civo.StartRateWindow();
        await manager.DeleteAsync(Id("ha"), Options, CancellationToken.None);
        await _civo.SettleAsync();

        Assert.Empty(_civo.Everything);
        Assert.Empty(machines.Pool.Booted);
        output.WriteLine($"requests: create {createRequests}, delete {_civo.Requests.Count - beforeDelete}, all {_civo.Requests.Count}");
        Assert.DoesNotContain(_civo.Requests, r => r.Status == 429);
        // Instances are watched through the region's list: never one GET per instance.
        Assert.Equal(0, _civo.Count("GET", "/v2/instances/"));
        Assert.Null(await manager.Store.ReadAsync(Id("ha"), CancellationToken.None));
        Assert.Empty(_civo.BootErrors);
        // The API key and the private keys never reach the event stream.
        Assert.DoesNotContain(events.All, e => e.Message.Contains("good-key", StringComparison.Ordinal) || e.Message.Contains("PRIVATE KEY", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Kubeadm_HA_with_faults_on_a_fifth_of_requests_and_a_lost_create_answer_makes_no_duplicates()
    {
        _civo.FailFraction(0.2);
        _civo.RetryAfterSeconds = 0; // the managed tests hold Ksctl to Retry-After; here only duplicates matter
        _civo.NextInstanceAppliesThenFails = true;
        using var manager = new ClusterManager(KsctlSettings.Load(_home));

        var state = await manager.CreateAsync(Spec("flaky", workers: 0) with { Distribution = DistributionKind.Kubeadm }, Options, CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Equal("Kubeadm", state.Distribution);
        var lb = state.Nodes.Single(n => n.Key == "lb").PublicIP;
        Assert.Contains($"server: https://{lb}:6443", state.Secrets[ClusterState.KubeconfigSecret]);
        Assert.Equal($"join {state.Nodes.Single(n => n.Key == "lb").PrivateIP}:6443 control-plane=true", (await RunOnAsync(state, "cp-2", "cat /var/lib/kubeadm-standin/joined")).Trim());
        Assert.Equal(7, _civo.Instances.Count);
        Assert.Equal(7, _civo.Instances.Select(i => i.Hostname).Distinct().Count());
        Assert.Single(_civo.Networks);
        Assert.Equal(4, _civo.Firewalls.Count);
        Assert.All(_civo.Firewalls, f => Assert.Equal(f.Rules.Count, f.Rules.Select(r => r["label"]!.GetValue<string>()).Distinct().Count()));
        Assert.Single(_civo.SshKeys);
        Assert.Contains(_civo.Requests, r => r.Status == 500);
        Assert.Contains(_civo.Requests, r => r.Status == 429);

        await manager.DeleteAsync(Id("flaky"), Options, CancellationToken.None);
        Assert.Empty(_civo.Everything);
    }

    [Fact]
    public async Task A_create_cancelled_while_instances_boot_resumes_on_rerun_without_a_second_instance()
    {
        var cts = new CancellationTokenSource();
        var first = new Events(e => { if (e is { Kind: KsctlEventKind.StepCompleted, Step: "machine:lb" }) cts.Cancel(); });
        var spec = Spec("resume", workers: 0);
        using (var manager = new ClusterManager(KsctlSettings.Load(_home), first))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => manager.CreateAsync(spec, Options, cts.Token));
            var stopped = await manager.Store.ReadAsync(spec.Id, CancellationToken.None);
            Assert.Equal(ClusterStatus.CreationFailed, stopped!.Status);
            // Every instance asked for so far is recorded, so the re-run finds it.
            Assert.All(_civo.Instances, i => Assert.Equal(i.Id, stopped.Resources[$"civo:vm:{i.Hostname!["resume-vm-".Length..]}"]));
        }
        Assert.DoesNotContain("kubeconfig", first.Steps(KsctlEventKind.StepCompleted));

        var second = new Events();
        using (var manager = new ClusterManager(KsctlSettings.Load(_home), second))
        {
            var state = await manager.CreateAsync(spec, Options, CancellationToken.None);
            Assert.Equal(ClusterStatus.Running, state.Status);
            Assert.Equal(7, _civo.Instances.Count);
            Assert.Equal(7, _civo.Count("POST", "/v2/instances"));
            Assert.DoesNotContain("machine:lb", second.Steps(KsctlEventKind.StepStarted));
            await manager.DeleteAsync(spec.Id, Options, CancellationToken.None);
        }
        Assert.Empty(_civo.Everything);
    }

    [Fact]
    public async Task A_quota_error_on_instance_create_surfaces_verbatim_and_delete_removes_what_was_made()
    {
        const string reason = "The quota for instances has been reached (10 of 10 used); contact Civo to raise it";
        _civo.NextInstanceError = (403, "database_quota_instances_exceeded", reason);
        using var manager = new ClusterManager(KsctlSettings.Load(_home));

        var error = await Assert.ThrowsAsync<PlanFailedException>(() => manager.CreateAsync(Spec("quota", workers: 0), Options, CancellationToken.None));

        Assert.Equal("KsctlCreationFailed", error.ErrorId);
        Assert.Contains(reason, error.Message);
        Assert.Contains("database_quota_instances_exceeded", error.Message);
        var failed = await manager.GetAsync(Id("quota"), CancellationToken.None);
        Assert.Equal(ClusterStatus.CreationFailed, failed.Status);
        Assert.Contains(failed.LastErrors, e => e.Contains(reason));

        // Civo may still call a firewall or the network "in use" just after its instances are gone: waited out, not failed.
        _civo.LingeringInUse = 2;
        _civo.NetworkInUseByVolumes = 1;
        await manager.DeleteAsync(Id("quota"), Options, CancellationToken.None);
        await _civo.SettleAsync();
        Assert.Empty(_civo.Everything);
        Assert.Empty(machines.Pool.Booted);
        Assert.Equal(2, _civo.Requests.Count(r => r.Method == "DELETE" && r.Path.StartsWith("/v2/firewalls/", StringComparison.Ordinal) && r.Status == 409));
        Assert.Equal(1, _civo.Requests.Count(r => r.Method == "DELETE" && r.Path.StartsWith("/v2/networks/", StringComparison.Ordinal) && r.Status == 400));
    }

    [Fact]
    public async Task A_same_named_instance_not_made_by_Ksctl_is_neither_adopted_nor_deleted()
    {
        var foreign = _civo.AddForeignInstance("other-vm-lb");
        using var manager = new ClusterManager(KsctlSettings.Load(_home));

        var error = await Assert.ThrowsAsync<PlanFailedException>(() => manager.CreateAsync(Spec("other", workers: 0), Options, CancellationToken.None));

        Assert.Contains("A Civo instance named 'other-vm-lb' already exists in LON1 and was not created by Ksctl", error.Message);
        Assert.Single(_civo.Instances, i => i.Hostname == "other-vm-lb");
        await manager.DeleteAsync(Id("other"), Options, CancellationToken.None);
        Assert.Equal(["network someone-elses-net", "firewall someone-elses-fw", $"instance other-vm-lb ACTIVE"], _civo.Everything);
        Assert.Equal(foreign.Id, Assert.Single(_civo.Instances).Id);
    }

    [Theory]
    [InlineData("EtcdCount", 2, null, null)]
    [InlineData("ControlPlaneCount", null, 4, null)]
    [InlineData("WorkerSize", null, null, "g4s.kube.small")]
    public async Task An_invalid_HA_spec_fails_before_any_request(string parameter, int? etcd, int? controlPlanes, string? workerSize)
    {
        using var manager = new ClusterManager(KsctlSettings.Load(_home));
        var spec = Spec("bad", workers: 1) with { EtcdCount = etcd, ControlPlaneCount = controlPlanes, WorkerSize = workerSize };

        var error = await Assert.ThrowsAsync<InvalidSpecException>(() => manager.CreateAsync(spec, Options, CancellationToken.None));

        Assert.Contains(parameter, error.Message);
        Assert.Empty(_civo.Requests);
        await Assert.ThrowsAsync<ClusterNotFoundException>(() => manager.GetAsync(Id("bad"), CancellationToken.None));
    }

    [Fact]
    public async Task Managed_only_fields_are_refused_for_an_HA_cluster()
    {
        using var manager = new ClusterManager(KsctlSettings.Load(_home));
        var error = await Assert.ThrowsAsync<InvalidSpecException>(() => manager.CreateAsync(Spec("bad", 1) with { NodeSize = "g4s.kube.small" }, Options, CancellationToken.None));
        Assert.Contains("NodeSize", error.Message);
        var defaults = manager.Prepare(Spec("ok", 1) with { WorkerCount = null });
        Assert.Equal((3, 3, 1), (defaults.EtcdCount, defaults.ControlPlaneCount, defaults.WorkerCount));
        Assert.Equal(("g3.medium", "g3.medium", "g3.small", "g3.small"), (defaults.ControlPlaneSize, defaults.WorkerSize, defaults.EtcdSize, defaults.LoadBalancerSize));
        Assert.Empty(_civo.Requests);
    }

    [Fact]
    public async Task The_WhatIf_plan_shows_every_Civo_resource_in_order_and_sends_nothing()
    {
        SetEnv("CIVO_TOKEN", null);
        using var manager = new ClusterManager(KsctlSettings.Load(_home));

        var (plan, existing) = await manager.PlanCreateAsync(Spec("plan", workers: 2) with { EtcdSize = "g3.large" }, CancellationToken.None);

        Assert.Null(existing);
        var names = plan.Steps.Select(s => s.Name).ToList();
        foreach (var step in new[] { "civo:network", "civo:image", "civo:sshkey", "civo:firewall:lb", "civo:firewall:db", "civo:firewall:cp", "civo:firewall:wp" })
            Assert.Contains(step, names);
        Assert.Equal(1 + 3 + 3 + 2, names.Count(n => n.StartsWith("machine:", StringComparison.Ordinal)));
        Assert.Equal(["civo:network", "civo:image", "civo:sshkey", "civo:firewall:db"], plan["machine:db-2"].DependsOn);
        Assert.Equal(["civo:network"], plan["civo:firewall:wp"].DependsOn);
        var text = plan.Render();
        Assert.Contains("civo instance plan-vm-db-2 (g3.large", text);
        Assert.Contains("civo instance plan-vm-wp-1 (g3.medium", text);
        Assert.Contains("civo firewall plan-lon1-fw-lb", text);
        Assert.Empty(_civo.Requests);
    }

    private static async Task<string> RunOnAsync(ClusterState state, string key, string script)
    {
        await using var shell = await ConnectAsync(state, key, state.Nodes.Single(n => n.Key == key).HostKey!);
        return (await shell.RunAsync(new RemoteScript("test:probe", script))).StandardOutput;
    }

    /// <summary>0 when a TCP connection from this process opens, 124 when it hangs (a dropped SYN) for 5 seconds.</summary>
    private static int ConnectFromHost(string address, int port) =>
        TestMachineHarness.Run("timeout", TimeSpan.FromMinutes(1), "5", "bash", "-c", $"exec 3<>/dev/tcp/{address}/{port}").ExitCode;

    /// <summary>What the provider connects with: the login key from state, pinned to <paramref name="hostKey"/>.</summary>
    private static Task<IRemoteShell> ConnectAsync(ClusterState state, string key, string hostKey)
    {
        var node = state.Nodes.Single(n => n.Key == key);
        var factory = new SshRemoteShellFactory(new RemoteShellOptions { ConnectDeadline = TimeSpan.FromSeconds(20) });
        return factory.ConnectAsync(new RemoteMachine
        {
            Name = node.Name, Address = node.PublicIP!, Port = node.SshPort, User = node.SshUser!,
            PrivateKeyPem = state.Secrets["ssh-login-key"], HostKeyFingerprint = hostKey,
        });
    }
}
