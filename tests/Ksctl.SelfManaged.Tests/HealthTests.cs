using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Health;
using Ksctl.Core.Model;

namespace Ksctl.SelfManaged.Tests;

/// <summary>
/// Live health on real machines: a Kubeadm HA cluster (real etcd over TLS, real HAProxy with its stats page, the
/// kubeadm stand-in's API server with real client certificates and node heartbeats) passes every check; a stopped
/// etcd member and a worker whose machine is gone are each reported with their reason, and -Refresh shows Degraded.
/// </summary>
[Collection(DayTwoCollection.Name)]
public sealed class HealthTests(DayTwoClusters clusters)
{
    [Fact]
    public async Task A_healthy_cluster_passes_every_check_and_a_stopped_member_and_a_gone_worker_are_reported()
    {
        // The shared Kubeadm cluster (two workers), left as it was found: the member and the worker are started again.
        var machines = clusters.Kubeadm;
        var state = await clusters.AcquireAsync(DistributionKind.Kubeadm);
        using var manager = clusters.Manager();
        var lb = machines.Machines[0].Address;

        // Healthy: every check passes (nodes become Ready once Flannel is applied and the kubelets post status).
        var healthy = await UntilAsync(manager, state.Id, r => r.All(c => c.Passed), "every check to pass");
        Assert.Equal([$"https://{lb}:6443"], healthy.Where(c => c.Check == HealthChecks.ApiReady).Select(c => c.Target));
        Assert.Equal(["cp-0", "cp-1", "cp-2", "wp-0", "wp-1"], healthy.Where(c => c.Check == HealthChecks.NodeReady).Select(c => c.Target));
        Assert.Equal(["db-0", "db-1", "db-2"], healthy.Where(c => c.Check == HealthChecks.EtcdMember).Select(c => c.Target));
        Assert.Equal(["cp-0", "cp-1", "cp-2"], healthy.Where(c => c.Check == HealthChecks.LoadBalancerBackend).Select(c => c.Target));
        Assert.Single(healthy, c => c.Check == HealthChecks.CertificateExpiry);
        Assert.Equal(9, healthy.Count(c => c.Check == HealthChecks.Inventory));
        Assert.Equal(ClusterStatus.Running, (await manager.RefreshAsync(state.Id, CancellationToken.None)).Status);

        // etcd member db-1 stopped; worker wp-1's machine gone (its kubelet and sshd down).
        await machines.RunOnAsync(2, "systemctl stop etcd");
        await machines.RunOnAsync(8, "systemctl stop kubelet");
        machines.StopMachine(8);
        try
        {
            var degraded = await UntilAsync(manager, state.Id,
                r => r.Any(c => c is { Check: HealthChecks.NodeReady, Target: "wp-1", Passed: false }), "wp-1's Node to go NotReady");
            var member = Assert.Single(degraded, c => c is { Check: HealthChecks.EtcdMember, Target: "db-1" });
            Assert.False(member.Passed);
            Assert.Contains("etcd does not answer on https://127.0.0.1:2379", member.Reason);
            Assert.All(degraded.Where(c => c.Check == HealthChecks.EtcdMember && c.Target != "db-1"), c => Assert.True(c.Passed, c.Reason));
            var node = Assert.Single(degraded, c => c is { Check: HealthChecks.NodeReady, Target: "wp-1" });
            Assert.Contains("Ready=Unknown (NodeStatusUnknown): Kubelet stopped posting node status.", node.Reason);
            var machine = Assert.Single(degraded, c => c is { Check: HealthChecks.Inventory, Target: "wp-1" });
            Assert.False(machine.Passed);
            Assert.Contains($"not answering on {machines.Machines[8].Address}:{machines.Machines[8].Port}", machine.Reason);
            // Nothing else failed: the API still answers through the LB, the other nodes and every backend are up.
            Assert.Equal(["NodeReady wp-1", "EtcdMember db-1", "Inventory wp-1"],
                degraded.Where(c => !c.Passed).Select(c => $"{c.Check} {c.Target}"));

            var refreshed = await manager.RefreshAsync(state.Id, CancellationToken.None);
            Assert.Equal(ClusterStatus.Degraded, refreshed.Status);
            Assert.Contains(refreshed.LastErrors, e => e.StartsWith("EtcdMember db-1: etcd does not answer", StringComparison.Ordinal));
            Assert.Contains(refreshed.LastErrors, e => e.StartsWith("NodeReady wp-1: ", StringComparison.Ordinal));
            // Degraded is shown, never stored: the stored status still allows every Running operation.
            Assert.Equal(ClusterStatus.Running, (await manager.Store.ReadAsync(state.Id, CancellationToken.None))!.Status);
        }
        finally
        {
            machines.StartMachine(8);
            await machines.RunOnAsync(8, "systemctl start kubelet");
            await machines.RunOnAsync(2, "systemctl start etcd");
        }
        // Healthy again before the next test uses the cluster.
        await UntilAsync(manager, state.Id, r => r.All(c => c.Passed), "every check to pass again");
        clusters.Done(DistributionKind.Kubeadm);
    }

    /// <summary>Runs the checks until <paramref name="done"/> holds; counts attempts (each takes a round of real checks).</summary>
    private static async Task<IReadOnlyList<HealthCheckResult>> UntilAsync(ClusterManager manager, ClusterId id,
        Func<IReadOnlyList<HealthCheckResult>, bool> done, string what)
    {
        IReadOnlyList<HealthCheckResult> last = [];
        for (var attempt = 0; attempt < 60; attempt++)
        {
            last = await manager.TestAsync(id, CancellationToken.None);
            if (done(last)) return last;
            await Task.Delay(500);
        }
        throw new Xunit.Sdk.XunitException($"Waited for {what}; last results: {string.Join("; ", last.Select(c => $"{c.Check} {c.Target} {c.Passed} {c.Reason}"))}");
    }
}
