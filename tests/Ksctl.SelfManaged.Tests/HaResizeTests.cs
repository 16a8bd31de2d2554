using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;

namespace Ksctl.SelfManaged.Tests;

/// <summary>
/// The resize paths beyond the happy one, on the real HA machines (BareMetal + K3s): a resize that fails mid-way and
/// resumes, a resume with a different worker count, the -WhatIf plan, and a resize to 0 workers. The failure is made
/// on the machine itself: its /etc/systemd/system is remounted read-only, so the join installs the binary and tokens
/// and then cannot write its unit, as on a machine whose disk went read-only.
/// </summary>
[Collection(HaMachinesCollection.Name)]
public sealed class HaResizeTests(HaMachinesFixture machines) : IDisposable
{
    private const int ThirdWorker = 9;
    private readonly string _home = Directory.CreateTempSubdirectory("ksctl-ha-resize-").FullName;
    private static readonly OperationOptions Options = new() { ConnectDeadline = TimeSpan.FromSeconds(20) };

    /// <summary>A failed test leaves neither a read-only mount nor its cluster on the shared machines.</summary>
    public void Dispose()
    {
        try { machines.RunOnAsync(ThirdWorker, "mount -o remount,rw /etc/systemd/system").GetAwaiter().GetResult(); }
        catch (Exception ex) when (ex is KsctlException or InvalidOperationException) { /* the fixture restart resets it */ }
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

    private ClusterSpec Spec(string name, int workers) => new()
    {
        Id = new ClusterId(CloudProvider.BareMetal, ClusterType.SelfManaged, name, "lab"),
        Distribution = DistributionKind.K3s,
        Machines = machines.Inventory(),
        WorkerCount = workers,
        ArtifactSource = machines.ArtifactFolder,
    };

    private Task BreakThirdWorkerAsync() => machines.RunOnAsync(ThirdWorker, "mount -o remount,ro /etc/systemd/system");
    private Task FixThirdWorkerAsync() => machines.RunOnAsync(ThirdWorker, "mount -o remount,rw /etc/systemd/system");

    private static int[] Workers(ClusterState state) =>
        state.Nodes.Where(n => n.Role == NodeRole.Worker).Select(n => n.Index).Order().ToArray();

    [Fact]
    public async Task WhatIf_changes_nothing_a_failed_resize_resumes_and_a_resize_to_zero_drains_every_worker()
    {
        using var manager = new ClusterManager(KsctlSettings.Load(_home));
        var spec = Spec("rsz", workers: 2);
        var state = await manager.CreateAsync(spec, Options, CancellationToken.None);
        Assert.Equal(ClusterStatus.Running, state.Status);

        // -WhatIf: the plan names the new machine and its join; the state and the machine stay as they were.
        var before = await manager.Store.ReadAsync(spec.Id, CancellationToken.None);
        var plan = await manager.PlanResizeAsync(spec.Id, 3, CancellationToken.None);
        Assert.Equal(["machine:wp-2", "k3s:wp-2"], plan.Steps.Select(s => s.Name));
        var after = await manager.Store.ReadAsync(spec.Id, CancellationToken.None);
        Assert.Equal(ClusterStatus.Running, after!.Status);
        Assert.Equal(before!.Steps.Keys.Order(), after.Steps.Keys.Order());
        Assert.Equal(before.Nodes.Select(n => n.Key).Order(), after.Nodes.Select(n => n.Key).Order());
        Assert.Equal([0, 1], Workers(after));
        Assert.Equal(2, after.Spec.WorkerCount);
        Assert.Equal("", (await machines.RunOnAsync(ThirdWorker, "ls /usr/local/bin/k3s 2>/dev/null; find /etc/ksctl -mindepth 1 2>/dev/null; true")).Trim());

        // The join of the third worker fails mid-way: ConfiguringFailed, KsctlResizeFailed, the failed step named.
        await BreakThirdWorkerAsync();
        var error = await Assert.ThrowsAsync<PlanFailedException>(() => manager.ResizeAsync(spec.Id, 3, Options, CancellationToken.None));
        Assert.Equal("KsctlResizeFailed", error.ErrorId);
        Assert.Contains(error.Errors, e => e.Contains("k3s:wp-2"));
        var failed = (await manager.Store.ReadAsync(spec.Id, CancellationToken.None))!;
        Assert.Equal(ClusterStatus.ConfiguringFailed, failed.Status);
        Assert.Contains(failed.LastErrors, e => e.Contains("k3s:wp-2"));
        Assert.Equal(StepOutcome.Done, failed.Steps["resize/machine:wp-2"].Outcome);
        Assert.Equal(StepOutcome.Failed, failed.Steps["resize/k3s:wp-2"].Outcome);
        Assert.Equal(2, failed.Spec.WorkerCount);
        Assert.Equal("/usr/local/bin/k3s", (await machines.RunOnAsync(ThirdWorker, "ls /usr/local/bin/k3s")).Trim());

        // Cause fixed: the re-run resumes (the machine step is not run again) and reaches Running with 3 workers.
        await FixThirdWorkerAsync();
        var started = new List<string>();
        using (var resumer = new ClusterManager(KsctlSettings.Load(_home), new StepLog(started)))
            state = await resumer.ResizeAsync(spec.Id, 3, Options, CancellationToken.None);
        Assert.Equal(["k3s:wp-2"], started);
        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Equal([0, 1, 2], Workers(state));
        Assert.Equal(3, state.Spec.WorkerCount);
        Assert.Contains("client-kubelet.crt", await machines.RunOnAsync(ThirdWorker, "ls /var/lib/rancher/k3s/agent"));

        // Resize to 0: every worker is drained on CP0 and uninstalled; the control planes stay.
        state = await manager.ResizeAsync(spec.Id, 0, Options, CancellationToken.None);
        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Empty(Workers(state));
        Assert.Equal(0, state.Spec.WorkerCount);
        Assert.Equal(3, state.Nodes.Count(n => n.Role == NodeRole.ControlPlane));
        var kubectl = await machines.RunOnAsync(4, "cat /var/lib/rancher/k3s/server/kubectl.log");
        Assert.Equal(3, kubectl.Split('\n').Count(l => l.StartsWith("drain ")));
        foreach (var worker in new[] { 7, 8, 9 })
        {
            Assert.Equal("", (await machines.RunOnAsync(worker, "find /var/lib/rancher /etc/rancher /etc/ksctl /etc/systemd/system -mindepth 1 ! -name containerd.service 2>/dev/null; ls /usr/local/bin/k3s 2>/dev/null; true")).Trim());
        }
        Assert.Empty((await manager.PlanResizeAsync(spec.Id, 0, CancellationToken.None)).Steps);

        await manager.DeleteAsync(spec.Id, Options, CancellationToken.None);
        Assert.Null(await manager.Store.ReadAsync(spec.Id, CancellationToken.None));
    }

    [Fact]
    public async Task A_failed_resize_to_3_resumed_asking_for_2_ends_with_exactly_2_workers_and_nothing_left_on_the_third()
    {
        using var manager = new ClusterManager(KsctlSettings.Load(_home));
        var spec = Spec("rsz2", workers: 2);
        await manager.CreateAsync(spec, Options, CancellationToken.None);

        await BreakThirdWorkerAsync();
        var error = await Assert.ThrowsAsync<PlanFailedException>(() => manager.ResizeAsync(spec.Id, 3, Options, CancellationToken.None));
        Assert.Equal("KsctlResizeFailed", error.ErrorId);
        Assert.Equal(ClusterStatus.ConfiguringFailed, (await manager.Store.ReadAsync(spec.Id, CancellationToken.None))!.Status);
        // The half-done join left the binary and the agent token on the machine: the resume must take them off.
        Assert.Contains("k3s-token", await machines.RunOnAsync(ThirdWorker, "ls /usr/local/bin/k3s /etc/ksctl"));
        await FixThirdWorkerAsync();

        var started = new List<string>();
        ClusterState state;
        using (var resumer = new ClusterManager(KsctlSettings.Load(_home), new StepLog(started)))
            state = await resumer.ResizeAsync(spec.Id, 2, Options, CancellationToken.None);
        Assert.DoesNotContain("k3s:wp-2", started);
        Assert.Contains("k3s-uninstall:wp-2", started);
        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Equal([0, 1], Workers(state));
        Assert.Equal(2, state.Spec.WorkerCount);
        var stored = (await manager.Store.ReadAsync(spec.Id, CancellationToken.None))!;
        Assert.Equal([0, 1], Workers(stored));
        Assert.Equal(ClusterStatus.Running, stored.Status);
        Assert.Equal("", (await machines.RunOnAsync(ThirdWorker,
            "find /var/lib/rancher /etc/rancher /etc/ksctl /etc/systemd/system -mindepth 1 ! -name containerd.service 2>/dev/null; ls /usr/local/bin/k3s* 2>/dev/null; true")).Trim());
        foreach (var worker in new[] { 7, 8 })
            Assert.Contains("client-kubelet.crt", await machines.RunOnAsync(worker, "ls /var/lib/rancher/k3s/agent"));

        await manager.DeleteAsync(spec.Id, Options, CancellationToken.None);
    }

    /// <summary>The names of the steps an operation started.</summary>
    private sealed class StepLog(List<string> started) : IProgress<KsctlEvent>
    {
        public void Report(KsctlEvent value)
        {
            if (value.Kind == KsctlEventKind.StepStarted) lock (started) started.Add(value.Step!);
        }
    }
}
