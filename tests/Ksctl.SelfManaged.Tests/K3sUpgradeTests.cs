using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.TestSupport;

namespace Ksctl.SelfManaged.Tests;

/// <summary>
/// Update-KsctlCluster on a K3s cluster of the real HA machines (BareMetal): the skew rules refuse with nothing
/// changed, the plan's order, a failure on a worker mid-way (its /usr/local/bin remounted read-only, so the new binary
/// cannot be placed), a refused other version while that upgrade is pending, a Ctrl+C during the resume, and the
/// final resume from the node it stopped at. The k3s stand-in is copied as v1.34.1+k3s1 into the artifact folder: a
/// node restarted on it reports that version as its kubelet version, so "Ready at the new version" is observed.
/// While the upgrade is unfinished, a resize that would join workers (at the old version) is refused. Runs on the
/// shared K3s cluster (<see cref="DayTwoClusters"/>) while it is still at the version it was created with.
/// </summary>
[Collection(DayTwoCollection.Name)]
public sealed class K3sUpgradeTests(DayTwoClusters clusters) : IDisposable
{
    private const string From = DayTwoClusters.FromVersion;
    private const string To = "1.34.1";
    private const int Cp0 = 4;
    private const int SecondWorker = 8;
    private static readonly OperationOptions Options = new() { ConnectDeadline = TimeSpan.FromSeconds(20) };
    private DayTwoMachineSet Machines => clusters.K3s;

    public void Dispose()
    {
        try { Machines.RunOnAsync(SecondWorker, "mount -o remount,rw /usr/local/bin").GetAwaiter().GetResult(); }
        catch (Exception ex) when (ex is KsctlException or InvalidOperationException) { /* a broken cluster is replaced, its machines reset */ }
    }

    /// <summary>The k3s stand-in as another release: the same script reporting <paramref name="k3sVersion"/>, with its SHA256SUMS.</summary>
    internal static void AddK3sRelease(string artifactFolder, string k3sVersion)
    {
        var dir = Directory.CreateDirectory(Path.Combine(artifactFolder, "k3s", k3sVersion)).FullName;
        var script = File.ReadAllText(Path.Combine(TestMachineHarness.StandIns, "k3s"));
        Assert.Contains("K3S_STANDIN_VERSION=\"v1.33.1+k3s1\"", script);
        File.WriteAllText(Path.Combine(dir, "k3s"), script.Replace("K3S_STANDIN_VERSION=\"v1.33.1+k3s1\"", $"K3S_STANDIN_VERSION=\"{k3sVersion}\""));
        File.SetUnixFileMode(Path.Combine(dir, "k3s"), (UnixFileMode)0b111_101_101);
        TestMachineHarness.WriteChecksums(dir);
    }

    private async Task<string> VersionOnAsync(int machine) => (await Machines.RunOnAsync(machine, "/usr/local/bin/k3s --version | awk 'NR == 1 { print $3 }'")).Trim();

    [Fact]
    public async Task Skew_is_refused_with_nothing_changed_then_a_rolling_upgrade_fails_on_a_worker_and_resumes_from_it_after_a_cancellation()
    {
        AddK3sRelease(Machines.ArtifactFolder, "v1.34.1+k3s1");
        var state = await clusters.AcquireAsync(DistributionKind.K3s, atFromVersion: true);
        using var manager = clusters.Manager();
        var spec = state.Spec;
        Assert.Equal(3, spec.WorkerCount);
        var hosts = state.Nodes.Where(n => n.Role is NodeRole.ControlPlane or NodeRole.Worker).ToDictionary(n => n.Key!, n => n.Hostname!);

        // Skew: two minors up, a downgrade, a major jump: KsctlInvalidSpec naming -KubernetesVersion; nothing changed.
        var before = (await manager.Store.ReadAsync(spec.Id, CancellationToken.None))!;
        foreach (var (wrong, rule) in new[] { ("1.35.0", "skips minor versions"), ("1.32.5", "downgrades are not supported"), ("2.0.0", "major") })
        {
            var refused = await Assert.ThrowsAsync<InvalidSpecException>(() => manager.UpgradeAsync(spec.Id, wrong, 1, Options, CancellationToken.None));
            Assert.Equal("KubernetesVersion", refused.Parameter);
            Assert.Contains(rule, refused.Message);
            await Assert.ThrowsAsync<InvalidSpecException>(() => manager.PlanUpgradeAsync(spec.Id, wrong, 1, CancellationToken.None));
        }
        var unchanged = (await manager.Store.ReadAsync(spec.Id, CancellationToken.None))!;
        Assert.Equal(ClusterStatus.Running, unchanged.Status);
        Assert.Equal(From, unchanged.KubernetesVersion);
        Assert.Null(unchanged.UpgradeTargetVersion);
        Assert.Equal(before.Steps.Keys.Order(), unchanged.Steps.Keys.Order());
        Assert.Equal("v1.33.1+k3s1", await VersionOnAsync(Cp0));
        // Already there: nothing to do, nothing run.
        Assert.Empty((await manager.PlanUpgradeAsync(spec.Id, From, 1, CancellationToken.None)).Steps);

        // -WhatIf's plan: control planes one after the other, then each worker drained, upgraded, uncordoned; batches of 2.
        var plan = await manager.PlanUpgradeAsync(spec.Id, To, 2, CancellationToken.None);
        Assert.Equal(["upgrade:cp-0", "upgrade:cp-1", "upgrade:cp-2",
            "drain:wp-0", "upgrade:wp-0", "uncordon:wp-0", "drain:wp-1", "upgrade:wp-1", "uncordon:wp-1",
            "drain:wp-2", "upgrade:wp-2", "uncordon:wp-2"], plan.Steps.Select(s => s.Name));
        Assert.Equal(["upgrade:cp-0"], plan["upgrade:cp-1"].DependsOn);
        Assert.Equal(["upgrade:cp-1"], plan["upgrade:cp-2"].DependsOn);
        Assert.Equal(["upgrade:cp-2"], plan["drain:wp-0"].DependsOn);
        Assert.Equal(["upgrade:cp-2"], plan["drain:wp-1"].DependsOn);
        Assert.Equal(["uncordon:wp-0", "uncordon:wp-1"], plan["drain:wp-2"].DependsOn);
        Assert.Contains("1. upgrade:cp-0", plan.Render());

        // One worker at a time; the second worker's new binary cannot be placed: KsctlUpgradeFailed, stopped there.
        await Machines.RunOnAsync(SecondWorker, "mount -o remount,ro /usr/local/bin");
        var error = await Assert.ThrowsAsync<PlanFailedException>(() => manager.UpgradeAsync(spec.Id, To, 1, Options, CancellationToken.None));
        Assert.Equal("KsctlUpgradeFailed", error.ErrorId);
        Assert.Contains(error.Errors, e => e.Contains("upgrade:wp-1"));
        var failed = (await manager.Store.ReadAsync(spec.Id, CancellationToken.None))!;
        Assert.Equal(ClusterStatus.ConfiguringFailed, failed.Status);
        Assert.Equal(To, failed.UpgradeTargetVersion);
        Assert.Equal(From, failed.KubernetesVersion);
        Assert.Equal(From, failed.Spec.KubernetesVersion);
        foreach (var done in new[] { "upgrade:cp-0", "upgrade:cp-1", "upgrade:cp-2", "drain:wp-0", "upgrade:wp-0", "uncordon:wp-0", "drain:wp-1" })
            Assert.Equal(StepOutcome.Done, failed.Steps[$"upgrade/{done}"].Outcome);
        Assert.Equal(StepOutcome.Failed, failed.Steps["upgrade/upgrade:wp-1"].Outcome);
        Assert.False(failed.Steps.ContainsKey("upgrade/drain:wp-2"));
        // The control planes went one at a time: each started after the one before had finished.
        Assert.True(failed.Steps["upgrade/upgrade:cp-1"].StartedAt >= failed.Steps["upgrade/upgrade:cp-0"].FinishedAt);
        Assert.True(failed.Steps["upgrade/upgrade:cp-2"].StartedAt >= failed.Steps["upgrade/upgrade:cp-1"].FinishedAt);
        Assert.True(failed.Steps["upgrade/drain:wp-0"].StartedAt >= failed.Steps["upgrade/upgrade:cp-2"].FinishedAt);
        foreach (var machine in new[] { 4, 5, 6, 7 }) Assert.Equal("v1.34.1+k3s1", await VersionOnAsync(machine));
        Assert.Equal("v1.33.1+k3s1", await VersionOnAsync(SecondWorker));
        Assert.Equal("v1.33.1+k3s1", await VersionOnAsync(9));
        var nodes = await Machines.RunOnAsync(Cp0, "k3s kubectl get nodes --no-headers");
        Assert.Contains($"{hosts["wp-1"]}   Ready,SchedulingDisabled", nodes);
        Assert.Contains($"{hosts["wp-0"]}   Ready   <none>   1m   v1.34.1+k3s1", nodes);

        // While it is unfinished, new workers would join at the old version: a scale-up is refused, naming the way on.
        foreach (var resize in new Func<Task>[] { () => manager.ResizeAsync(spec.Id, 4, Options, CancellationToken.None), () => manager.PlanResizeAsync(spec.Id, 4, CancellationToken.None) })
        {
            var join = await Assert.ThrowsAsync<InvalidSpecException>(resize);
            Assert.Equal("WorkerCount", join.Parameter);
            Assert.Contains($"run Update-KsctlCluster -KubernetesVersion {To} to finish it first", join.Message);
        }
        Assert.Equal(3, (await manager.Store.ReadAsync(spec.Id, CancellationToken.None))!.Nodes.Count(n => n.Role == NodeRole.Worker));

        // While that upgrade is pending another version is refused, nothing changed.
        var other = await Assert.ThrowsAsync<InvalidSpecException>(() => manager.UpgradeAsync(spec.Id, "1.33.2", 1, Options, CancellationToken.None));
        Assert.Contains($"-KubernetesVersion {To}", other.Message);
        Assert.Equal(To, (await manager.Store.ReadAsync(spec.Id, CancellationToken.None))!.UpgradeTargetVersion);

        // Fixed, resumed, and cancelled (Ctrl+C) as soon as the failed worker's upgrade is done.
        await Machines.RunOnAsync(SecondWorker, "mount -o remount,rw /usr/local/bin");
        using var cancel = new CancellationTokenSource();
        var first = new List<string>();
        using (var resumer = clusters.Manager(new StepLog(first, "upgrade:wp-1", cancel)))
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => resumer.UpgradeAsync(spec.Id, To, 1, Options, cancel.Token));
        Assert.Equal("upgrade:wp-1", first[0]);
        var cancelled = (await manager.Store.ReadAsync(spec.Id, CancellationToken.None))!;
        Assert.Equal(ClusterStatus.ConfiguringFailed, cancelled.Status);
        Assert.Equal(StepOutcome.Done, cancelled.Steps["upgrade/upgrade:wp-1"].Outcome);
        Assert.False(cancelled.Steps.TryGetValue("upgrade/uncordon:wp-2", out var last) && last.Outcome == StepOutcome.Done);

        // The last resume runs only what is left: no node upgraded before is touched again.
        var second = new List<string>();
        using (var resumer = clusters.Manager(new StepLog(second)))
            state = await resumer.UpgradeAsync(spec.Id, To, 1, Options, CancellationToken.None);
        Assert.DoesNotContain(second, s => cancelled.Steps.TryGetValue($"upgrade/{s}", out var r) && r.Outcome == StepOutcome.Done);
        Assert.Contains("uncordon:wp-2", second);
        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Equal(To, state.KubernetesVersion);
        Assert.Equal(To, state.Spec.KubernetesVersion);
        Assert.Null(state.UpgradeTargetVersion);
        foreach (var machine in new[] { 4, 5, 6, 7, 8, 9 }) Assert.Equal("v1.34.1+k3s1", await VersionOnAsync(machine));
        nodes = await Machines.RunOnAsync(Cp0, "k3s kubectl get nodes --no-headers");
        foreach (var host in hosts.Values) Assert.Contains($"{host}   Ready   ", nodes);
        Assert.DoesNotContain("SchedulingDisabled", nodes);
        Assert.DoesNotContain("v1.33.1", nodes);
        // Each worker was drained before, and uncordoned after, its upgrade, with kubectl's real flags.
        var kubectl = (await Machines.RunOnAsync(Cp0, "cat /var/lib/rancher/k3s/server/kubectl.log")).Split('\n');
        foreach (var w in new[] { "wp-0", "wp-1", "wp-2" })
        {
            var drain = Array.FindIndex(kubectl, l => l.StartsWith($"drain {hosts[w]} --ignore-daemonsets --delete-emptydir-data --force", StringComparison.Ordinal));
            var uncordon = Array.FindIndex(kubectl, l => l == $"uncordon {hosts[w]}");
            Assert.True(drain >= 0 && uncordon > drain, $"{w}: drain at {drain}, uncordon at {uncordon}");
        }
        Assert.Empty((await manager.PlanUpgradeAsync(spec.Id, To, 1, CancellationToken.None)).Steps);
        clusters.Done(DistributionKind.K3s, upgraded: true);
    }

    /// <summary>The steps an operation started; cancels <paramref name="cancel"/> once <paramref name="cancelAfter"/> completes.</summary>
    private sealed class StepLog(List<string> started, string? cancelAfter = null, CancellationTokenSource? cancel = null) : IProgress<KsctlEvent>
    {
        public void Report(KsctlEvent value)
        {
            if (value.Kind == KsctlEventKind.StepStarted) lock (started) started.Add(value.Step!);
            if (value.Kind == KsctlEventKind.StepCompleted && value.Step == cancelAfter) cancel?.Cancel();
        }
    }
}
