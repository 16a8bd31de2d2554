using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;

namespace Ksctl.SelfManaged.Tests;

/// <summary>
/// Kubeadm on real SSH machines with the kubeadm/kubelet/kubectl stand-ins: what a half-built node gets on a re-run, and
/// node readiness without a pod network. The applied pod network, what an artifact-folder install lays down and where
/// secrets may (not) be left are asserted on the shared Kubeadm cluster (SharedClusters/KubeadmSharedClusterTests).
/// </summary>
[Collection(HaMachinesCollection.Name)]
public sealed class KubeadmLifecycleTests(HaMachinesFixture machines) : IDisposable
{
    private const int Cp0 = 4, Cp1 = 5;
    private const string FaultFile = "/run/ksctl/kubeadm-fail-phase";
    private readonly string _home = Directory.CreateTempSubdirectory("ksctl-kubeadm-life-").FullName;
    private static readonly OperationOptions Options = new() { ConnectDeadline = TimeSpan.FromSeconds(20) };

    public void Dispose()
    {
        foreach (var i in new[] { Cp0, Cp1 }) machines.RunOnAsync(i, $"rm -f {FaultFile}").GetAwaiter().GetResult();
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

    private ClusterSpec Spec(string name) => new()
    {
        Id = new ClusterId(CloudProvider.BareMetal, ClusterType.SelfManaged, name, "lab"),
        Distribution = DistributionKind.Kubeadm,
        Machines = machines.Inventory(),
        WorkerCount = 1,
        ArtifactSource = machines.ArtifactFolder,
    };

    /// <summary>The stand-ins' records of earlier tests on these machines are not this test's.</summary>
    private async Task ClearRecordsAsync()
    {
        for (var i = 0; i < machines.Machines.Count; i++) await machines.RunOnAsync(i, "rm -f /var/log/ksctl/kubeadm-argv.log /var/log/ksctl/kubectl.log");
    }

    private Task<string> Kubectl(int machine, string args) => machines.RunOnAsync(machine, $"kubectl --kubeconfig=/etc/kubernetes/admin.conf {args}");

    [Fact]
    public async Task A_control_plane_left_half_built_is_reset_and_done_again_on_the_next_run()
    {
        // kubeadm init fails after writing admin.conf on both attempts of the first run; CP1's first join fails after kubelet.conf.
        await ClearRecordsAsync();
        await machines.RunOnAsync(Cp0, $"mkdir -p /run/ksctl && printf 'upload-certs\\nupload-certs\\n' > {FaultFile}");
        using var manager = new ClusterManager(KsctlSettings.Load(_home));
        var spec = Spec("khalf");

        var error = await Assert.ThrowsAsync<PlanFailedException>(() => manager.CreateAsync(spec, Options, CancellationToken.None));
        Assert.Contains("kubeadm:cp-0", error.Message);
        Assert.True("yes" == (await machines.RunOnAsync(Cp0, "[ -f /etc/kubernetes/admin.conf ] && echo yes; true")).Trim(),
            error.Message + "\n" + await machines.RunOnAsync(Cp0, "cat /var/log/ksctl/kubeadm-argv.log; ls -la /etc/kubernetes; true"));
        await machines.RunOnAsync(Cp1, $"printf 'control-plane-join\\n' > {FaultFile}");

        var state = await manager.CreateAsync(spec, Options, CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        var init = Commands(await machines.RunOnAsync(Cp0, "cat /var/log/ksctl/kubeadm-argv.log"), "init ", "reset ");
        Assert.Equal(["init", "reset", "init", "reset", "init"], init);
        var join = Commands(await machines.RunOnAsync(Cp1, "cat /var/log/ksctl/kubeadm-argv.log"), "join ", "reset ");
        Assert.Equal(["join", "reset", "join"], join);
        Assert.Equal($"join {machines.Machines[0].Address}:6443 control-plane=true", (await machines.RunOnAsync(Cp1, "cat /var/lib/kubeadm-standin/joined")).Trim());
        Assert.All((await Kubectl(Cp0, "get nodes --no-headers")).Trim().Split('\n'), l => Assert.Contains(" Ready ", l));

        await manager.DeleteAsync(state.Id, Options, CancellationToken.None);
    }

    [Fact]
    public async Task Without_a_pod_network_the_nodes_stay_NotReady_until_one_matching_the_pod_subnet_is_applied()
    {
        await ClearRecordsAsync();
        using var manager = new ClusterManager(KsctlSettings.Load(_home));
        var state = await manager.CreateAsync(Spec("knone") with { Cni = "none" }, Options, CancellationToken.None);
        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.DoesNotContain("apply", await machines.RunOnAsync(Cp0, "cat /var/log/ksctl/kubectl.log 2>/dev/null; true"));
        Assert.All(Statuses(await Kubectl(Cp0, "get nodes --no-headers")), s => Assert.Equal("NotReady", s));

        // Flannel whose network is not the cluster's podSubnet does not make them Ready either; the matching one does.
        await ApplyAsync(Ksctl.Core.Distributions.Cni.FlannelManifest.For("10.32.0.0/12"));
        Assert.All(Statuses(await Kubectl(Cp0, "get nodes --no-headers")), s => Assert.Equal("NotReady", s));
        await ApplyAsync(Ksctl.Core.Distributions.Cni.FlannelManifest.For(Ksctl.Core.Distributions.Kubeadm.KubeadmConfigs.PodSubnet));
        var ready = Statuses(await Kubectl(Cp0, "get nodes --no-headers"));
        Assert.Equal(4, ready.Count);
        Assert.All(ready, s => Assert.Equal("Ready", s));

        await manager.DeleteAsync(state.Id, Options, CancellationToken.None);
    }

    private Task ApplyAsync(string manifest) =>
        machines.RunOnAsync(Cp0, $"cat > /var/lib/kubeadm-standin/test-cni.yaml <<'YAML'\n{manifest}YAML\nkubectl --kubeconfig=/etc/kubernetes/admin.conf apply -f /var/lib/kubeadm-standin/test-cni.yaml; rm -f /var/lib/kubeadm-standin/test-cni.yaml");

    private static List<string> Statuses(string table) =>
        table.Trim().Split('\n').Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]).ToList();

    private static List<string> Commands(string argvLog, params string[] prefixes) =>
        argvLog.Split('\n').Where(l => prefixes.Any(p => l.StartsWith(p, StringComparison.Ordinal))).Select(l => l.Split(' ')[0]).ToList();
}
