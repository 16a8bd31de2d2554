using Ksctl.Core.Clusters;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Remote.Keys;
using Ksctl.TestSupport;

namespace Ksctl.Aws.Tests;

/// <summary>
/// Self-managed HA clusters on "EC2" end to end: the emulator's instances are real test machines booted from the user
/// data the provider sent (cloud-config with the generated host key; the key pair's key installed for ubuntu as EC2
/// does), with their security group's rules enforced, so the pinned host keys, the addresses DescribeInstances reports
/// and the unchanged SSH bootstrap (HAProxy, etcd over TLS, the k3s and kubeadm stand-ins) all run for real.
/// </summary>
[Collection(AwsEnvironmentCollection.Name)]
public sealed class AwsHaTests : IAsyncLifetime
{
    private static readonly string Prefix = TestMachineHarness.ScopedPrefix("ksw");
    private static readonly string Subnet = TestMachineHarness.ScopedSubnet("10.251.214");
    private const int MachineCount = 1 + 3 + 3 + 1;
    private const int PoolSize = MachineCount + 1;
    private AwsTestBed _bed = null!;
    private TestMachinePool _pool = null!;
    private readonly string _artifacts = TestMachineHarness.MakeArtifactFolder();

    public async Task InitializeAsync()
    {
        var machines = TestMachineHarness.Start(Prefix, Subnet, PoolSize, "--sudo-user", "ubuntu");
        await TestMachineHarness.ProvisionStandInsAsync(machines);
        _pool = new TestMachinePool(Prefix, Subnet, machines);
        _bed = await AwsTestBed.StartAsync();
        var aws = _bed.Aws;
        aws.InstanceBooter = boot =>
        {
            // EC2 installs the key pair's public key for the image's default user, beside what cloud-init writes.
            var keyPair = aws.Inventory.Single(r => r.Kind == "key-pair").Fields["material"] as string;
            var machine = _pool.Boot(boot.Name, boot.UserData, keyPair, privateCidr: $"{boot.PrivateIp}/{System.Net.IPNetwork.Parse(boot.SubnetCidr).PrefixLength}");
            _pool.Firewall(boot.Name, AwsSecurityGroupFirewall.Inbound(boot.Ingress));
            return (machine.Address, machine.PrivateAddress);
        };
        aws.InstanceReleaser = name => _pool.Release(name);
    }

    public async Task DisposeAsync()
    {
        await _bed.DisposeAsync();
        TestMachineHarness.Stop(Prefix, Subnet);
        try { Directory.Delete(_artifacts, true); } catch (IOException) { }
    }

    private ClusterSpec Spec(DistributionKind distribution) => new()
    {
        Id = new ClusterId(CloudProvider.Aws, ClusterType.SelfManaged, "ha", "eu-west-1"),
        Distribution = distribution,
        WorkerCount = 1,
        ArtifactSource = _artifacts,
    };

    private static readonly OperationOptions Options = new() { ConnectDeadline = TimeSpan.FromSeconds(60) };

    [Fact]
    public async Task HA_K3s_on_EC2_survives_throttling_a_lost_RunInstances_answer_a_refusal_and_a_cancel_resizes_then_deletes_everything()
    {
        AwsTestBed.UseEnvironmentCredential();
        var aws = _bed.Aws;
        aws.ThrottleFraction = 0.2;
        var spec = Spec(DistributionKind.K3s);
        using var manager = _bed.NewManager();

        // RunInstances refused by IAM: the step fails with EC2's code and message verbatim; the network stays for the resume.
        aws.Principals[AwsEmulator.AccessKeyId].Denied.Add("ec2:RunInstances");
        var failed = await Assert.ThrowsAsync<PlanFailedException>(() => manager.CreateAsync(spec, Options, CancellationToken.None));
        Assert.Equal("KsctlCreationFailed", failed.ErrorId);
        var afterFailure = await manager.GetAsync(spec.Id, CancellationToken.None);
        Assert.Equal(ClusterStatus.CreationFailed, afterFailure.Status);
        Assert.Contains(afterFailure.LastErrors, l => l.Contains("UnauthorizedOperation") && l.Contains("is not authorized to perform: ec2:RunInstances"));
        Assert.Empty(aws.LiveInstances("eu-west-1"));
        Assert.Single(aws.Inventory, r => r.Kind == "vpc");
        aws.Principals[AwsEmulator.AccessKeyId].Denied.Clear();

        // Ctrl+C as the first RunInstances is accepted.
        using var cts = new CancellationTokenSource();
        aws.OnRunInstances = _ => cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => manager.CreateAsync(spec, Options, cts.Token));
        aws.OnRunInstances = null;
        var interrupted = await manager.GetAsync(spec.Id, CancellationToken.None);
        Assert.Equal(ClusterStatus.CreationFailed, interrupted.Status);
        Assert.Contains(interrupted.Resources.Keys, k => k.StartsWith("aws:token:", StringComparison.Ordinal));

        // The re-run resumes: the recorded ids, the same client tokens, no second anything, though two RunInstances
        // answers are lost (the SDK repeats the request with the same client token and gets the same instance).
        aws.DropAnswerOf("ec2:RunInstances", 2);
        var state = await manager.CreateAsync(spec, Options, CancellationToken.None);
        Assert.Equal(2, aws.AnswersDropped);
        Assert.True(aws.Requests.Count(r => r.Action == "RunInstances" && r.Status == 200) >= MachineCount + 2);

        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.True(aws.Throttled > 0);
        Assert.Contains(aws.Requests, r => r.ErrorCode == "RequestLimitExceeded" && r.Status == 503);
        Assert.Equal(MachineCount, state.Nodes.Count);
        Assert.Equal(MachineCount, _pool.Booted.Count);
        Assert.Equal(new Dictionary<string, int> { ["vpc"] = 1, ["subnet"] = 1, ["internet-gateway"] = 1, ["route-table"] = 1, ["security-group"] = 4, ["key-pair"] = 1, ["instance"] = MachineCount },
            aws.Creates.ToDictionary());
        Assert.Equal(1 + 1 + 1 + 1 + 4 + 1 + MachineCount, aws.Inventory.Count);
        Assert.All(aws.Inventory, r => Assert.Equal(("ha", "selfmanaged", "eu-west-1"), (r.Tags["ksctl-cluster"], r.Tags["ksctl-type"], r.Tags["ksctl-region"])));
        Assert.Equal(["ha-fw-cp", "ha-fw-db", "ha-fw-lb", "ha-fw-wp"], aws.Inventory.Where(r => r.Kind == "security-group").Select(r => r.Tags["Name"]).Order());

        foreach (var node in state.Nodes)
        {
            var booted = _pool.Booted[node.Name];
            var generated = SshKeyPair.FromPrivateKeyPem(state.Secrets["ssh-host-key/" + node.Key]);
            Assert.Equal(generated.Fingerprint, node.HostKey);
            Assert.Equal(booted.HostKey, node.HostKey);
            Assert.Equal((booted.Address, booted.PrivateAddress, "ubuntu"), (node.PublicIP, node.PrivateIP, node.SshUser));
            Assert.True(TestMachineFirewall.InPrefix(node.PrivateIP!, "172.31.0.0/20"), node.PrivateIP);
            var instance = Assert.Single(aws.Inventory, r => r.Kind == "instance" && r.Tags["Name"] == node.Name);
            Assert.Equal(node.ResourceId, instance.Id);
            Assert.StartsWith("#cloud-config", (string)instance.Fields["userData"]!);
            Assert.Contains(generated.PublicKey, (string)instance.Fields["userData"]!);
            Assert.Equal("required", instance.Fields["httpTokens"]);
            Assert.Equal(node.Role == NodeRole.Worker ? "t3.large" : node.Role == NodeRole.LoadBalancer ? "t3.small" : "t3.medium", instance.Fields["type"]);
            var volume = (Dictionary<string, string>)instance.Fields["volume"]!;
            Assert.Equal(("gp3", "true", "true"), (volume["Ebs.VolumeType"], volume["Ebs.Encrypted"], volume["Ebs.DeleteOnTermination"]));
            Assert.Equal(aws.UbuntuAmi("eu-west-1", "amd64"), instance.Fields["image"]);
        }
        var lb = _pool.Booted["ha-vm-lb"].Address;
        Assert.Equal($"https://{lb}:6443", state.Endpoint);
        Assert.Contains($"server: https://{lb}:6443", state.Secrets[ClusterState.KubeconfigSecret]);
        Assert.Equal("ha-eu-west-1-selfmanaged-aws-ksctl", state.ContextName);
        Assert.StartsWith("K10", state.Secrets["k3s:token"]);

        // The security groups are enforced: etcd is closed to anything outside the VPC, the API through HAProxy is open.
        var db = state.Nodes.First(n => n.Role == NodeRole.Datastore).Name;
        Assert.Equal(124, ConnectFromHost(_pool.Booted[db].Address, 2379));
        Assert.Equal(0, ConnectFromHost(lb, 6443));

        // Resize 1 → 2 workers: one new instance; the network and groups are found in place, nothing else is created.
        state = await manager.ResizeAsync(spec.Id, 2, Options, CancellationToken.None);
        Assert.Equal(2, state.Nodes.Count(n => n.Role == NodeRole.Worker));
        Assert.Equal(_pool.Booted["ha-vm-wp-1"].HostKey, Assert.Single(state.Nodes, n => n.Key == "wp-1").HostKey);
        Assert.Equal(MachineCount + 1, aws.Creates["instance"]);
        Assert.Equal(1, aws.Creates["vpc"]);
        Assert.Equal(4, aws.Creates["security-group"]);

        // Resize 2 → 1: the highest worker is drained, then its instance is terminated; its host key is forgotten.
        state = await manager.ResizeAsync(spec.Id, 1, Options, CancellationToken.None);
        Assert.Equal(["wp-0"], state.Nodes.Where(n => n.Role == NodeRole.Worker).Select(n => n.Key));
        Assert.DoesNotContain(aws.LiveInstances("eu-west-1"), i => i.Tags["Name"] == "ha-vm-wp-1");
        Assert.DoesNotContain("ssh-host-key/wp-1", state.Secrets.Keys);
        Assert.DoesNotContain("aws:instance:wp-1", state.Resources.Keys);
        Assert.False(_pool.Booted.ContainsKey("ha-vm-wp-1"));

        // The delete plan names the recorded ids.
        var deletePlan = await manager.PlanDeleteAsync(spec.Id, CancellationToken.None);
        Assert.Contains(state.Resources["aws:vpc"], Assert.Single(deletePlan.Steps.Single(s => s.Name == "aws:delete-vpc").Resources));
        Assert.Contains(state.Resources["aws:instance:cp-0"], Assert.Single(deletePlan.Steps.Single(s => s.Name == "aws:delete-instance:cp-0").Resources));

        // Delete: instances (until terminated), groups (DependencyViolation waited out), key pair, routes, gateway, subnet, VPC.
        aws.TerminatingDescribes = 3;
        await manager.DeleteAsync(spec.Id, Options, CancellationToken.None);

        Assert.Empty(aws.Inventory);
        Assert.Contains(aws.Requests, r => r.Action == "DeleteSecurityGroup" && r.ErrorCode == "DependencyViolation");
        Assert.Empty(_pool.Booted);
        Assert.Null(await manager.Store.ReadAsync(spec.Id, CancellationToken.None));
        var output = await _bed.AllOutputAsync();
        Assert.DoesNotContain(AwsEmulator.SecretKey, output);
        Assert.DoesNotContain("PRIVATE KEY", output);
    }

    [Fact]
    public async Task HA_Kubeadm_on_EC2_resumes_after_InsufficientInstanceCapacity_and_deletes_everything()
    {
        AwsTestBed.UseEnvironmentCredential();
        var aws = _bed.Aws;
        var spec = Spec(DistributionKind.Kubeadm);
        using var manager = _bed.NewManager();

        // No t3.large capacity (the kubeadm workers' default): EC2's words verbatim, the other machines are made.
        aws.CapacityShortage.Add("t3.large");
        var failed = await Assert.ThrowsAsync<PlanFailedException>(() => manager.CreateAsync(spec, Options, CancellationToken.None));
        Assert.Contains("InsufficientInstanceCapacity", failed.Message);
        Assert.Contains("We currently do not have sufficient t3.large capacity", failed.Message);
        Assert.Equal(ClusterStatus.CreationFailed, (await manager.GetAsync(spec.Id, CancellationToken.None)).Status);
        Assert.DoesNotContain(aws.LiveInstances("eu-west-1"), i => i.Tags["Name"] == "ha-vm-wp-0");

        aws.CapacityShortage.Clear();
        var state = await manager.CreateAsync(spec, Options, CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Equal(DistributionKind.Kubeadm, state.Spec.Distribution);
        Assert.Equal(MachineCount, aws.Creates["instance"]);
        Assert.All(aws.Creates.Where(c => c.Key != "instance" && c.Key != "security-group"), c => Assert.Equal(1, c.Value));
        Assert.Contains(state.Secrets.Keys, k => k.StartsWith("kubeadm:", StringComparison.Ordinal));
        var lb = _pool.Booted["ha-vm-lb"].Address;
        Assert.Contains($"server: https://{lb}:6443", state.Secrets[ClusterState.KubeconfigSecret]);
        foreach (var node in state.Nodes) Assert.Equal(_pool.Booted[node.Name].HostKey, node.HostKey);

        await manager.DeleteAsync(spec.Id, Options, CancellationToken.None);
        Assert.Empty(aws.Inventory);
        Assert.Empty(_pool.Booted);
        Assert.Null(await manager.Store.ReadAsync(spec.Id, CancellationToken.None));
    }

    /// <summary>timeout(1)'s exit code for a TCP connect from this process: 0 connected, 1 refused, 124 no answer in 5 s.</summary>
    private static int ConnectFromHost(string address, int port) =>
        TestMachineHarness.Run("timeout", TimeSpan.FromMinutes(1), "5", "bash", "-c", $"exec 3<>/dev/tcp/{address}/{port}").ExitCode;
}
