using System.Security.Cryptography;
using System.Text;
using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Distributions;
using Ksctl.Core.Distributions.Cni;
using Ksctl.Core.Distributions.K3s;
using Ksctl.Core.Distributions.Kubeadm;
using Ksctl.Core.Kube;
using Ksctl.Core.Model;

namespace Ksctl.SelfManaged.Tests;

/// <summary>
/// -Cni for both distributions (issue #15, "Add-ons, CNI and cloud controllers"): the pinned manifests (version and
/// SHA-256 checked at load), the distribution flags each choice needs, and on the test machines the bootstrap the
/// stand-ins record: k3s's argv and the manifests its deploy controller applied, kubeadm's applied pod network and the
/// nodes' readiness on it.
/// </summary>
[Collection(HaMachinesCollection.Name)]
public sealed class CniChoiceTests(HaMachinesFixture machines) : IDisposable
{
    private const int Cp0 = 4;
    private readonly string _home = Directory.CreateTempSubdirectory("ksctl-cni-").FullName;
    private static readonly OperationOptions Options = new() { ConnectDeadline = TimeSpan.FromSeconds(20) };

    public void Dispose()
    {
        using (var manager = new ClusterManager(KsctlSettings.Load(_home)))
        {
            foreach (var cluster in manager.ListAsync(Ksctl.Core.Storage.ClusterQuery.All, CancellationToken.None).ToBlockingEnumerable().ToList())
            {
                try { manager.DeleteAsync(cluster.Id, Options with { BreakStaleLock = true }, CancellationToken.None).GetAwaiter().GetResult(); }
                catch (KsctlException) { /* the test already failed; the next fixture start resets the machines */ }
            }
        }
        try { Directory.Delete(_home, true); } catch (IOException) { }
    }

    private ClusterSpec Spec(string name, DistributionKind distribution, string? cni) => new()
    {
        Id = new ClusterId(CloudProvider.BareMetal, ClusterType.SelfManaged, name, "lab"),
        Distribution = distribution,
        Machines = machines.Inventory(),
        WorkerCount = 1,
        ArtifactSource = machines.ArtifactFolder,
        Cni = cni,
    };

    [Fact]
    public void The_Calico_manifest_is_the_pinned_upstream_release_with_its_pool_set_to_the_pod_CIDR()
    {
        var manifest = CalicoManifest.For("10.244.0.0/16");
        Assert.Equal("v3.32.1", CalicoManifest.Version);
        foreach (var image in new[] { "cni", "node", "kube-controllers" })
            Assert.Contains($"image: quay.io/calico/{image}:v3.32.1", manifest);
        Assert.Contains("            - name: CALICO_IPV4POOL_CIDR\n              value: \"10.244.0.0/16\"\n", manifest);
        Assert.DoesNotContain("#   value: \"192.168.0.0/16\"", manifest);
        Assert.Throws<ArgumentException>(() => CalicoManifest.For("10.0.0.0/8\"\n- x"));
        // The embedded bytes are exactly what the pin says.
        Assert.Equal(CalicoManifest.Pinned.Sha256, Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(CalicoManifest.Pinned.Load()))).ToLowerInvariant());
    }

    [Fact]
    public void A_manifest_whose_checksum_is_not_the_pinned_one_is_refused()
    {
        var tampered = CalicoManifest.Pinned with { Sha256 = new string('0', 64) };
        var error = Assert.Throws<InvalidOperationException>(() => tampered.Load());
        Assert.Contains("not the pinned", error.Message);
        Assert.Contains(CalicoManifest.Pinned.Sha256, error.Message);
        Assert.Throws<InvalidOperationException>(() => (FlannelManifest.Pinned with { Sha256 = new string('1', 64) }).Load());
    }

    [Theory]
    [InlineData(DistributionKind.K3s)]
    [InlineData(DistributionKind.Kubeadm)]
    public void Cilium_is_refused_naming_Cni_and_why(DistributionKind distribution)
    {
        var error = Assert.Throws<InvalidSpecException>(() => CniChoice.Parse(distribution, "cilium"));
        Assert.Equal("Cni", error.Parameter);
        Assert.Contains("Helm chart", error.Message);
    }

    [Fact]
    public void K3s_with_Calico_runs_without_flannel_and_network_policy_and_auto_deploys_Calico_in_its_cluster_cidr()
    {
        string[] endpoints = ["https://10.0.0.2:2379"];
        var unit = K3sDistribution.ServerUnit(endpoints, "1.2.3.4", "10.0.0.1", null, "calico");
        Assert.Contains("'--flannel-backend=none'", unit);
        Assert.Contains("'--disable-network-policy'", unit);
        Assert.Contains("value: \"10.42.0.0/16\"", K3sCni.Manifest("Calico"));
        Assert.Null(K3sCni.Manifest("flannel"));
        Assert.Null(K3sCni.Manifest("none"));
    }

    [Fact]
    public void The_Kubeadm_plan_names_the_chosen_pod_network()
    {
        var spec = Spec("plan", DistributionKind.Kubeadm, "calico") with { KubernetesVersion = "1.33.1", EtcdCount = 3, ControlPlaneCount = 3 };
        var steps = new KubeadmDistribution(TimeProvider.System).CreateSteps(spec, SelfManagedTopology.From(spec), Access(), ["lb:haproxy"]).ToDictionary(s => s.Name);
        Assert.Contains("Calico v3.32.1", steps[KubeadmDistribution.CniStep].Description);
        Assert.Contains(KubeadmDistribution.ReadyStepName, steps.Keys);
    }

    [Fact]
    public async Task A_Kubeadm_cluster_with_Calico_is_Running_once_every_node_is_Ready_on_Calico()
    {
        using var manager = new ClusterManager(KsctlSettings.Load(_home));
        await machines.RunOnAsync(Cp0, "rm -f /var/log/ksctl/kubectl.log");
        var state = await manager.CreateAsync(Spec("kcalico", DistributionKind.Kubeadm, "calico"), Options, CancellationToken.None);
        Assert.Equal(ClusterStatus.Running, state.Status);

        Assert.Contains("apply -f /etc/ksctl/cni.yaml", await machines.RunOnAsync(Cp0, "cat /var/log/ksctl/kubectl.log"));
        var applied = await machines.RunOnAsync(Cp0, "cat /etc/ksctl/cni.yaml");
        Assert.Equal(CalicoManifest.For(KubeadmConfigs.PodSubnet), applied);
        var nodes = (await machines.RunOnAsync(Cp0, "kubectl --kubeconfig=/etc/kubernetes/admin.conf get nodes --no-headers")).Trim().Split('\n');
        Assert.Equal(4, nodes.Length);
        Assert.All(nodes, l => Assert.Contains(" Ready ", l));

        await manager.DeleteAsync(state.Id, Options, CancellationToken.None);
    }

    private static MachineAccess Access() => new(new NoShells(), (_, n) => new Ksctl.Core.Remote.RemoteMachine { Name = n.Key!, Address = n.PublicIP! });

    private sealed class NoShells : Ksctl.Core.Remote.IRemoteShellFactory
    {
        public Task<Ksctl.Core.Remote.IRemoteShell> ConnectAsync(Ksctl.Core.Remote.RemoteMachine machine, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("plan tests connect to nothing");
    }
}
