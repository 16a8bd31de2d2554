using Ksctl.Core.Model;

namespace Ksctl.SelfManaged.Tests.SharedClusters;

/// <summary>One Kubeadm HA cluster (default Flannel, 2 workers), created once for <see cref="KubeadmSharedClusterTests"/>.</summary>
public sealed class KubeadmSharedCluster(HaMachinesFixture machines) : SharedClusterFixture(machines)
{
    protected override ClusterSpec Spec() => new()
    {
        Id = new ClusterId(CloudProvider.BareMetal, ClusterType.SelfManaged, "kha", "lab"),
        Distribution = DistributionKind.Kubeadm,
        Machines = Machines.Inventory(),
        WorkerCount = 2,
        ArtifactSource = Machines.ArtifactFolder,
    };

    /// <summary>The stand-ins' records of earlier tests on these machines are not this cluster's.</summary>
    protected override async Task BeforeCreateAsync()
    {
        for (var i = 0; i < Machines.Machines.Count; i++) await Machines.RunOnAsync(i, "rm -f /var/log/ksctl/kubeadm-argv.log /var/log/ksctl/kubectl.log");
    }
}

/// <summary>
/// Kubeadm HA on the test machines with the kubeadm/kubelet/kubectl stand-ins, on one cluster: what HaClusterTests'
/// Kubeadm create and KubeadmLifecycleTests' pod-network test asserted on a cluster each (both only read theirs until
/// their resize and removal, which run last here).
/// </summary>
[Collection(HaMachinesCollection.Name)]
[TestCaseOrderer(ByOrderAttribute.Name, ByOrderAttribute.Assembly)]
public sealed class KubeadmSharedClusterTests(HaMachinesFixture machines, KubeadmSharedCluster cluster) : IClassFixture<KubeadmSharedCluster>
{
    private const int Cp0 = 4, Cp1 = 5, Worker0 = 7;

    private Task<string> Kubectl(int machine, string args) => machines.RunOnAsync(machine, $"kubectl --kubeconfig=/etc/kubernetes/admin.conf {args}");

    /// <summary>Formerly the first part of HaClusterTests.Create_and_remove_a_Kubeadm_HA_cluster.</summary>
    [Fact, Order(1)]
    public async Task Control_plane_0_was_initialised_with_the_external_etcd_and_the_others_joined_through_the_load_balancer()
    {
        var state = cluster.Cluster;
        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Equal("Kubeadm", state.Distribution);
        var lb = machines.Machines[0].Address;
        Assert.Contains($"server: https://{lb}:6443", state.Secrets[ClusterState.KubeconfigSecret]);
        Assert.Matches("^[a-z0-9]{6}\\.[a-z0-9]{16}$", state.Secrets["kubeadm:token"]);
        Assert.Matches("^[0-9a-f]{64}$", state.Secrets["kubeadm:ca-hash"]);
        Assert.True(DateTimeOffset.Parse(state.Resources["kubeadm:token-expiry"]) > DateTimeOffset.UtcNow.AddMinutes(100));
        ClusterProbes.AssertEtcdHealthy(machines, state);
        Assert.Contains(await ClusterProbes.PeerCommonNameAsync(lb, 6443), machines.Machines.Skip(4).Take(3).Select(m => $"kube-apiserver-{m.Address}"));

        // CP0 was initialised with the external etcd and the LB as control plane endpoint; the others joined through it.
        var init = await machines.RunOnAsync(Cp0, "cat /var/lib/kubeadm-standin/init-config.yaml");
        Assert.Contains($"controlPlaneEndpoint: \"{lb}:6443\"", init);
        Assert.Contains("podSubnet: 10.244.0.0/16", init);
        foreach (var i in new[] { 5, 6 })
            Assert.Equal($"join {lb}:6443 control-plane=true", (await machines.RunOnAsync(i, "cat /var/lib/kubeadm-standin/joined")).Trim());
        foreach (var i in new[] { 7, 8 })
            Assert.Equal($"join {lb}:6443 control-plane=false", (await machines.RunOnAsync(i, "cat /var/lib/kubeadm-standin/joined")).Trim());
        Assert.Contains("SystemdCgroup = true", await machines.RunOnAsync(7, "cat /etc/containerd/config.toml"));
        var tools = await machines.RunOnAsync(7, "cat /var/log/ksctl/node-tools.log");
        Assert.Contains("swapoff -a", tools);
        Assert.Contains("modprobe br_netfilter", tools);
    }

    /// <summary>Formerly KubeadmLifecycleTests.The_cluster_is_Running_once_every_node_is_Ready_on_the_applied_pod_network_and_no_secret_is_left_behind.</summary>
    [Fact, Order(2)]
    public async Task The_cluster_is_Running_once_every_node_is_Ready_on_the_applied_pod_network_and_no_secret_is_left_behind()
    {
        var state = cluster.Cluster;
        Assert.Equal(ClusterStatus.Running, state.Status);

        // Item 4: the pinned Flannel was applied from CP0, with the cluster's pod subnet, and every node is Ready.
        Assert.Contains("apply -f /etc/ksctl/cni.yaml", await machines.RunOnAsync(Cp0, "cat /var/log/ksctl/kubectl.log"));
        Assert.Contains("\"Network\": \"10.244.0.0/16\"", await machines.RunOnAsync(Cp0, "cat /etc/ksctl/cni.yaml"));
        var nodes = (await Kubectl(Cp0, "get nodes --no-headers")).Trim().Split('\n').Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.Equal(machines.Machines.Skip(Cp0).Take(3 + 2).Select(m => m.Name).Order(), nodes.Select(n => n[0]).Order());
        Assert.All(nodes, n => Assert.Equal("Ready", n[1]));

        // Item 6: an artifact-folder install lays down what the packages would: CNI plugins, crictl, kubeadm's kubelet drop-in.
        var worker = await machines.RunOnAsync(Worker0,
            "ls /opt/cni/bin; ls /usr/local/bin/crictl; cat /etc/systemd/system/kubelet.service.d/10-kubeadm.conf; cat /var/lib/kubelet/kubeadm-flags.env");
        foreach (var plugin in new[] { "bridge", "host-local", "portmap", "loopback" }) Assert.Contains(plugin, worker);
        Assert.Contains("/usr/local/bin/crictl", worker);
        Assert.Contains("EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env", worker);
        Assert.Contains("ExecStart=/usr/local/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS", worker);
        Assert.Contains("KUBELET_KUBEADM_ARGS=", worker);

        // Item 7: the join secrets travelled in config files that are gone, and never on a command line (the stand-ins record argv).
        Assert.Contains("join --config /etc/ksctl/kubeadm-join.yaml", await machines.RunOnAsync(Cp1, "cat /var/log/ksctl/kubeadm-argv.log"));
        string[] secrets = [state.Secrets["kubeadm:token"], state.Secrets["kubeadm:certificate-key"], state.Secrets["kubeadm:token"][7..]];
        for (var i = 0; i < machines.Machines.Count; i++)
        {
            var files = await machines.RunOnAsync(i,
                "find /etc/ksctl /var/lib/ksctl /etc/kubernetes /var/lib/kubelet /var/log/ksctl /run/ksctl /var/lib/kubeadm-standin -type f 2>/dev/null; " +
                $"find /root /tmp -maxdepth 3 -type f -size -4M -newermt '@{cluster.Started}' -not -path '{cluster.Home}/*' -not -path '/tmp/ksctl-testmachines*' 2>/dev/null; true");
            var list = string.Join(' ', files.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(f => $"'{f}'"));
            Assert.DoesNotContain("kubeadm-init.yaml", files);
            Assert.DoesNotContain("kubeadm-join.yaml", files);
            foreach (var secret in secrets)
            {
                var hits = list.Length == 0 ? "" : await machines.RunOnAsync(i, $"grep -lF -- '{secret}' {list} 2>/dev/null; true");
                Assert.True(hits.Trim().Length == 0, $"machine {i}: a kubeadm secret is in {hits}");
            }
        }
    }

    /// <summary>Formerly the middle of HaClusterTests.Create_and_remove_a_Kubeadm_HA_cluster.</summary>
    [Fact, Order(3)]
    public async Task Resize_2_to_3_to_1_joins_through_the_load_balancer_and_drains_and_deletes_the_removed_nodes_first()
    {
        var lb = machines.Machines[0].Address;
        using var manager = cluster.NewManager();
        var state = await manager.ResizeAsync(cluster.Cluster.Id, 3, SharedClusterFixture.Options, CancellationToken.None);
        Assert.Equal($"join {lb}:6443 control-plane=false", (await machines.RunOnAsync(9, "cat /var/lib/kubeadm-standin/joined")).Trim());
        state = await manager.ResizeAsync(state.Id, 1, SharedClusterFixture.Options, CancellationToken.None);
        Assert.Equal([0], state.Nodes.Where(n => n.Role == NodeRole.Worker).Select(n => n.Index));
        var kubectl = await machines.RunOnAsync(Cp0, "cat /var/log/ksctl/kubectl.log");
        Assert.Contains($"drain {machines.Machines[8].Name} ", kubectl);
        Assert.Contains($"drain {machines.Machines[9].Name} ", kubectl);
        Assert.Equal("", (await machines.RunOnAsync(9, "find /etc/kubernetes /var/lib/kubelet -mindepth 1 2>/dev/null; true")).Trim());
    }

    /// <summary>Formerly the ends of HaClusterTests.Create_and_remove_a_Kubeadm_HA_cluster and of KubeadmLifecycleTests' pod-network test.</summary>
    [Fact, Order(4)]
    public async Task Remove_leaves_nothing_of_ours_on_any_machine_not_even_the_CNI_plugins_or_crictl()
    {
        using var manager = cluster.NewManager();
        await manager.DeleteAsync(cluster.Cluster.Id, SharedClusterFixture.Options, CancellationToken.None);
        Assert.Null(await manager.Store.ReadAsync(cluster.Cluster.Id, CancellationToken.None));
        Assert.Equal("", (await machines.RunOnAsync(Worker0, "find /opt/cni/bin -mindepth 1; ls /usr/local/bin/crictl /etc/systemd/system/kubelet.service.d 2>/dev/null; true")).Trim());
        await ClusterProbes.AssertMachinesCleanAsync(machines);
    }
}
