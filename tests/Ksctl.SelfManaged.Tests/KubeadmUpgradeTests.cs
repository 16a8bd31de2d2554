using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.TestSupport;

namespace Ksctl.SelfManaged.Tests;

/// <summary>
/// Update-KsctlCluster on a Kubeadm cluster of the real HA machines: the kubeadm stand-in refuses skew and an
/// unconfirmed apply as kubeadm does; Ksctl refuses skew before anything; "upgrade apply" on control plane 0,
/// "upgrade node" elsewhere, kubelets to the new version, workers drained and uncordoned; a failure on control plane 1
/// (its /usr/local/bin read-only) resumed from there. The v1.34.1 binaries are the stand-ins copied with that version.
/// Runs on the shared Kubeadm cluster (<see cref="DayTwoClusters"/>) while it is still at the version it was created with.
/// </summary>
[Collection(DayTwoCollection.Name)]
public sealed class KubeadmUpgradeTests(DayTwoClusters clusters) : IDisposable
{
    private const int Cp0 = 4, Cp1 = 5;
    private static readonly OperationOptions Options = new() { ConnectDeadline = TimeSpan.FromSeconds(20) };
    private DayTwoMachineSet Machines => clusters.Kubeadm;

    public void Dispose()
    {
        try { Machines.RunOnAsync(Cp1, "mount -o remount,rw /usr/local/bin").GetAwaiter().GetResult(); }
        catch (Exception ex) when (ex is KsctlException or InvalidOperationException) { /* a broken cluster is replaced, its machines reset */ }
    }

    /// <summary>kubeadm, kubelet and kubectl stand-ins as release <paramref name="version"/> ("v1.34.1"), with SHA256SUMS.</summary>
    internal static void AddKubernetesRelease(string artifactFolder, string version)
    {
        var dir = Directory.CreateDirectory(Path.Combine(artifactFolder, "kubeadm", version)).FullName;
        foreach (var (tool, marker) in new[] { ("kubeadm", "KUBEADM_STANDIN_VERSION"), ("kubelet", "KUBELET_STANDIN_VERSION"), ("kubectl", "") })
        {
            var script = File.ReadAllText(Path.Combine(TestMachineHarness.StandIns, tool));
            if (marker.Length > 0)
            {
                Assert.Contains($"{marker}=\"v1.33.1\"", script);
                script = script.Replace($"{marker}=\"v1.33.1\"", $"{marker}=\"{version}\"");
            }
            File.WriteAllText(Path.Combine(dir, tool), script);
            File.SetUnixFileMode(Path.Combine(dir, tool), (UnixFileMode)0b111_101_101);
        }
        TestMachineHarness.WriteChecksums(dir);
    }

    private async Task<(int Code, string Output)> TryOnAsync(int machine, string command)
    {
        var output = await Machines.RunOnAsync(machine, $"set +e; out=$({command} 2>&1); echo \"exit=$?\"; printf '%s\\n' \"$out\"");
        var lines = output.Split('\n', 2);
        return (int.Parse(lines[0]["exit=".Length..]), lines.ElementAtOrDefault(1) ?? "");
    }

    private Task<string> NodesAsync() => Machines.RunOnAsync(Cp0, "kubectl --kubeconfig=/etc/kubernetes/admin.conf get nodes --no-headers");

    [Fact]
    public async Task Kubeadm_upgrade_applies_on_cp0_then_upgrades_each_node_and_resumes_after_a_failure_on_cp1()
    {
        AddKubernetesRelease(Machines.ArtifactFolder, "v1.34.1");
        var state = await clusters.AcquireAsync(DistributionKind.Kubeadm, atFromVersion: true);
        for (var i = 0; i < Machines.Machines.Count; i++) await Machines.RunOnAsync(i, "rm -f /var/log/ksctl/kubeadm-argv.log /var/log/ksctl/kubectl.log");
        using var manager = clusters.Manager();
        var spec = state.Spec;
        Assert.Equal("1.33.1", spec.KubernetesVersion);
        var hosts = state.Nodes.Where(n => n.Role is NodeRole.ControlPlane or NodeRole.Worker).ToDictionary(n => n.Key!, n => n.Hostname!);

        // The stand-in refuses what kubeadm refuses: two minors, a target newer than kubeadm, an unconfirmed apply.
        var (code, output) = await TryOnAsync(Cp0, "kubeadm upgrade apply v1.35.0 --yes");
        Assert.Equal(1, code);
        Assert.Contains("is too high; kubeadm can upgrade only 1 minor version at a time", output);
        (code, output) = await TryOnAsync(Cp0, "kubeadm upgrade plan v1.34.1");
        Assert.Equal(1, code);
        Assert.Contains("is at least one minor release higher than the kubeadm minor release (34 > 33)", output);
        (code, output) = await TryOnAsync(Cp0, "kubeadm upgrade plan v1.33.2");
        Assert.Equal(1, code);
        Assert.Contains("is higher than the kubeadm version \"v1.33.1\". Upgrade kubeadm first", output);
        (code, output) = await TryOnAsync(Cp0, "kubeadm upgrade apply v1.33.1 --not-a-flag");
        Assert.Equal(1, code);
        Assert.Contains("unknown flag: --not-a-flag", output);
        (code, output) = await TryOnAsync(Cp0, "kubeadm upgrade apply v1.33.1 </dev/null");
        Assert.Equal(1, code);
        Assert.Contains("won't proceed", output);

        // Ksctl refuses skew itself, naming -KubernetesVersion, and changes nothing.
        var refused = await Assert.ThrowsAsync<InvalidSpecException>(() => manager.UpgradeAsync(spec.Id, "1.35.1", 1, Options, CancellationToken.None));
        Assert.Equal("KubernetesVersion", refused.Parameter);
        var unchanged = (await manager.Store.ReadAsync(spec.Id, CancellationToken.None))!;
        Assert.Equal(ClusterStatus.Running, unchanged.Status);
        Assert.Null(unchanged.UpgradeTargetVersion);
        Assert.DoesNotContain("upgrade apply v1.35.1", await Machines.RunOnAsync(Cp0, "cat /var/log/ksctl/kubeadm-argv.log"));

        // Control plane 1 cannot take the new kubeadm: control plane 0 is upgraded, the rest untouched.
        await Machines.RunOnAsync(Cp1, "mount -o remount,ro /usr/local/bin");
        var error = await Assert.ThrowsAsync<PlanFailedException>(() => manager.UpgradeAsync(spec.Id, "1.34.1", 1, Options, CancellationToken.None));
        Assert.Equal("KsctlUpgradeFailed", error.ErrorId);
        Assert.Contains(error.Errors, e => e.Contains("upgrade:cp-1"));
        var failed = (await manager.Store.ReadAsync(spec.Id, CancellationToken.None))!;
        Assert.Equal(ClusterStatus.ConfiguringFailed, failed.Status);
        Assert.Equal(StepOutcome.Done, failed.Steps["upgrade/upgrade:cp-0"].Outcome);
        Assert.Equal(StepOutcome.Failed, failed.Steps["upgrade/upgrade:cp-1"].Outcome);
        Assert.Contains("upgrade apply v1.34.1 --yes", await Machines.RunOnAsync(Cp0, "cat /var/log/ksctl/kubeadm-argv.log"));
        Assert.Contains("Cluster version: v1.34.1", await Machines.RunOnAsync(Cp0, "kubeadm upgrade plan"));
        Assert.Contains("image: registry.k8s.io/kube-apiserver:v1.34.1", await Machines.RunOnAsync(Cp0, "cat /etc/kubernetes/manifests/kube-apiserver.yaml"));
        var nodes = await NodesAsync();
        Assert.Contains($"{hosts["cp-0"]}   Ready   <none>   1m   v1.34.1", nodes);
        Assert.Contains($"{hosts["cp-1"]}   Ready   <none>   1m   v1.33.1", nodes);
        Assert.Contains($"{hosts["wp-0"]}   Ready   <none>   1m   v1.33.1", nodes);

        // Fixed: the re-run starts at control plane 1; nothing of control plane 0 runs again.
        await Machines.RunOnAsync(Cp1, "mount -o remount,rw /usr/local/bin");
        var started = new List<string>();
        using (var resumer = clusters.Manager(new StepLog(started)))
            state = await resumer.UpgradeAsync(spec.Id, "1.34.1", 1, Options, CancellationToken.None);
        Assert.Equal(["upgrade:cp-1", "upgrade:cp-2", "drain:wp-0", "upgrade:wp-0", "uncordon:wp-0", "drain:wp-1", "upgrade:wp-1", "uncordon:wp-1"], started);
        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Equal("1.34.1", state.KubernetesVersion);
        nodes = await NodesAsync();
        foreach (var host in hosts.Values) Assert.Contains($"{host}   Ready   <none>   1m   v1.34.1", nodes);
        Assert.DoesNotContain("SchedulingDisabled", nodes);
        Assert.Single((await Machines.RunOnAsync(Cp0, "cat /var/log/ksctl/kubeadm-argv.log")).Split('\n'), l => l == "upgrade apply v1.34.1 --yes");
        foreach (var machine in new[] { 5, 6, 7, 8 })
        {
            var argv = await Machines.RunOnAsync(machine, "cat /var/log/ksctl/kubeadm-argv.log");
            Assert.Contains("upgrade node", argv);
            Assert.DoesNotContain("upgrade apply", argv);
            Assert.Equal("v1.34.1", (await Machines.RunOnAsync(machine, "kubeadm version -o short; cat /var/lib/kubeadm-standin/upgraded-to >/dev/null")).Trim());
        }
        // Workers: drained before and uncordoned after their upgrade, through control plane 0.
        var kubectl = (await Machines.RunOnAsync(Cp0, "cat /var/log/ksctl/kubectl.log")).Split('\n');
        foreach (var w in new[] { "wp-0", "wp-1" })
        {
            var drain = Array.FindIndex(kubectl, l => l.Contains($"drain {hosts[w]} --ignore-daemonsets", StringComparison.Ordinal));
            var uncordon = Array.FindIndex(kubectl, l => l.Contains($"uncordon {hosts[w]}", StringComparison.Ordinal));
            Assert.True(drain >= 0 && uncordon > drain, $"{w}: drain at {drain}, uncordon at {uncordon}");
        }
        clusters.Done(DistributionKind.Kubeadm, upgraded: true);
    }

    private sealed class StepLog(List<string> started) : IProgress<KsctlEvent>
    {
        public void Report(KsctlEvent value)
        {
            if (value.Kind == KsctlEventKind.StepStarted) lock (started) started.Add(value.Step!);
        }
    }
}
