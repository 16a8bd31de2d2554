using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Distributions;
using Ksctl.Core.Distributions.Cni;
using Ksctl.Core.Distributions.K3s;
using Ksctl.Core.Distributions.Kubeadm;
using Ksctl.Core.Model;
using Ksctl.Core.Remote;

namespace Ksctl.SelfManaged.Tests;

/// <summary>
/// What a self-managed spec must satisfy for its distribution (refused before any state exists), the pod network
/// each distribution gets from -Cni, and the shape of the Kubeadm plan around it.
/// </summary>
public sealed class KubeadmSpecTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("ksctl-kubeadm-spec-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_home, true); } catch (IOException) { }
    }

    private ClusterSpec Spec(DistributionKind distribution, string? version = null, string? cni = null)
    {
        var key = Path.Combine(_home, "id_test");
        File.WriteAllText(key, "not a key: the spec is refused before any connection");
        MachineSpec M(int i, NodeRole role) => new() { Address = $"10.250.0.{i}", KeyPath = key, HostKey = "SHA256:test", Role = role };
        return new ClusterSpec
        {
            Id = new ClusterId(CloudProvider.BareMetal, ClusterType.SelfManaged, "spec", "lab"),
            Distribution = distribution, KubernetesVersion = version, Cni = cni,
            Machines = [M(1, NodeRole.LoadBalancer), M(2, NodeRole.Datastore), M(3, NodeRole.Datastore), M(4, NodeRole.Datastore),
                M(5, NodeRole.ControlPlane), M(6, NodeRole.ControlPlane), M(7, NodeRole.ControlPlane), M(8, NodeRole.Worker)],
        };
    }

    [Theory]
    [InlineData("1.30.9")]
    [InlineData("1.29.0")]
    public async Task Kubeadm_refuses_a_version_older_than_v1beta4_supports_and_creates_nothing(string version)
    {
        using var manager = new ClusterManager(KsctlSettings.Load(_home));
        var spec = Spec(DistributionKind.Kubeadm, version);

        var error = await Assert.ThrowsAsync<InvalidSpecException>(() => manager.CreateAsync(spec, OperationOptions.Default, CancellationToken.None));

        Assert.Equal("KsctlInvalidSpec", error.ErrorId);
        Assert.Equal("KubernetesVersion", error.Parameter);
        Assert.Contains("1.31", error.Rule);
        Assert.Null(await manager.Store.ReadAsync(spec.Id with { Region = "lab" }, CancellationToken.None));
    }

    [Fact]
    public void Kubeadm_accepts_1_31_and_K3s_keeps_its_own_range()
    {
        using var manager = new ClusterManager(KsctlSettings.Load(_home));
        Assert.Equal("1.31.0", manager.Prepare(Spec(DistributionKind.Kubeadm, "1.31.0")).KubernetesVersion);
        Assert.Equal("1.30.9", manager.Prepare(Spec(DistributionKind.K3s, "1.30.9")).KubernetesVersion);
    }

    [Theory]
    [InlineData(DistributionKind.Kubeadm, "cilium")]
    [InlineData(DistributionKind.K3s, "weave")]
    public void A_pod_network_Ksctl_does_not_install_is_refused_naming_Cni(DistributionKind distribution, string cni)
    {
        using var manager = new ClusterManager(KsctlSettings.Load(_home));
        var error = Assert.Throws<InvalidSpecException>(() => manager.Prepare(Spec(distribution, cni: cni)));
        Assert.Equal("Cni", error.Parameter);
        Assert.Contains(cni, error.Message);
    }

    [Fact]
    public void K3s_honours_Cni_none_and_keeps_its_built_in_flannel_otherwise()
    {
        string[] endpoints = ["https://10.0.0.2:2379"];
        var none = K3sDistribution.ServerUnit(endpoints, "1.2.3.4", "10.0.0.1", null, "None");
        Assert.Contains("'--flannel-backend=none'", none);
        Assert.Contains("'--disable-network-policy'", none);
        Assert.DoesNotContain("flannel-backend", K3sDistribution.ServerUnit(endpoints, "1.2.3.4", "10.0.0.1", null, "flannel"));
        Assert.DoesNotContain("flannel-backend", K3sDistribution.ServerUnit(endpoints, "1.2.3.4", "10.0.0.1", null, null));
    }

    [Fact]
    public void The_Flannel_manifest_is_pinned_and_its_network_is_the_clusters_pod_subnet()
    {
        var manifest = FlannelManifest.For(KubeadmConfigs.PodSubnet);
        Assert.Contains($"image: ghcr.io/flannel-io/flannel:{FlannelManifest.Version}", manifest);
        Assert.DoesNotContain(":latest", manifest);
        var init = KubeadmConfigs.Init("1.33.1", "10.0.0.5", "1.2.3.4", "10.0.0.1", ["https://10.0.0.2:2379"], "abcdef.0123456789abcdef", new string('a', 64));
        Assert.Contains($"podSubnet: {KubeadmConfigs.PodSubnet}", init);
        Assert.Contains($"\"Network\": \"{KubeadmConfigs.PodSubnet}\"", manifest);
        Assert.Contains("\"Network\": \"10.32.0.0/12\"", FlannelManifest.For("10.32.0.0/12"));
        Assert.Throws<ArgumentException>(() => FlannelManifest.For("10.0.0.0/8\"; x"));
    }

    [Fact]
    public void The_Kubeadm_plan_applies_the_pod_network_after_cp0_and_is_done_only_when_every_node_is_Ready()
    {
        var spec = Spec(DistributionKind.Kubeadm, "1.33.1") with { EtcdCount = 3, ControlPlaneCount = 3, WorkerCount = 1 };
        var topology = SelfManagedTopology.From(spec);
        var steps = new KubeadmDistribution(TimeProvider.System).CreateSteps(spec, topology, Access(), ["lb:haproxy"]).ToDictionary(s => s.Name);

        Assert.Equal(["kubeadm:cp-0"], steps[KubeadmDistribution.CniStep].DependsOn);
        var ready = steps[KubeadmDistribution.ReadyStepName].DependsOn;
        Assert.Contains(KubeadmDistribution.CniStep, ready);
        foreach (var node in new[] { "cp-0", "cp-1", "cp-2", "wp-0" }) Assert.Contains($"kubeadm:{node}", ready);

        var none = new KubeadmDistribution(TimeProvider.System).CreateSteps(spec with { Cni = "none" }, topology, Access(), ["lb:haproxy"]).Select(s => s.Name).ToList();
        Assert.DoesNotContain(KubeadmDistribution.CniStep, none);
        Assert.DoesNotContain(KubeadmDistribution.ReadyStepName, none);
    }

    [Fact]
    public void Resize_waits_for_the_new_workers_to_be_Ready()
    {
        var spec = Spec(DistributionKind.Kubeadm, "1.33.1") with { EtcdCount = 3, ControlPlaneCount = 3, WorkerCount = 2 };
        var added = SelfManagedTopology.From(spec).Workers.Skip(1).ToArray();
        var steps = new KubeadmDistribution(TimeProvider.System).JoinWorkerSteps(spec, added, Access()).ToDictionary(s => s.Name);
        Assert.Equal(["kubeadm:wp-1"], steps[KubeadmDistribution.ReadyStepName].DependsOn);
    }

    private static MachineAccess Access() => new(new NoShells(), (_, n) => new RemoteMachine { Name = n.Key!, Address = n.PublicIP! });

    private sealed class NoShells : IRemoteShellFactory
    {
        public Task<IRemoteShell> ConnectAsync(RemoteMachine machine, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("plan tests connect to nothing");
    }
}
