using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Distributions;
using Ksctl.Core.Model;

namespace Ksctl.SelfManaged.Tests;

/// <summary>
/// A shrink that failed after draining a worker (its Node deleted) leaves the worker recorded. A re-run that would
/// keep it is refused (it would report Running with a worker out of the cluster); one that finishes the shrink is
/// planned. Built from a stored state: no machine or cloud is needed to plan.
/// </summary>
public sealed class ResizeAfterFailedShrinkTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("ksctl-failed-shrink-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_home, true); } catch (IOException) { }
    }

    [Fact]
    public async Task A_rerun_keeping_a_worker_the_failed_shrink_drained_is_KsctlInvalidSpec_and_changes_nothing()
    {
        using var manager = new ClusterManager(KsctlSettings.Load(_home));
        var id = new ClusterId(CloudProvider.Civo, ClusterType.SelfManaged, "shrink", "LON1");
        var spec = manager.Prepare(new ClusterSpec { Id = id, Distribution = DistributionKind.K3s, WorkerCount = 3 });
        var state = new ClusterState
        {
            Id = id,
            Spec = spec,
            Status = ClusterStatus.ConfiguringFailed,
            Distribution = "K3s",
            KubernetesVersion = spec.KubernetesVersion,
            Nodes = SelfManagedTopology.From(spec).All.Select((n, i) => new NodeState
            {
                Key = n.Key, Name = n.ResourceName("shrink"), Role = n.Role, Index = n.Index,
                PublicIP = $"192.0.2.{10 + i}", PrivateIP = $"10.0.0.{10 + i}", ResourceId = $"recorded-{n.Key}",
            }).ToList(),
            // The failed resize to 1 drained wp-2 and then failed draining wp-1.
            Steps =
            {
                ["resize/drain:wp-2"] = new StepRecord { Outcome = StepOutcome.Done, Attempts = 1 },
                ["resize/drain:wp-1"] = new StepRecord { Outcome = StepOutcome.Failed, Attempts = 1, Error = "timeout" },
            },
            LastErrors = { "drain:wp-1: timeout" },
        };
        await manager.Store.WriteAsync(state, CancellationToken.None);

        foreach (var count in new[] { 3, 2 })
        {
            var plan = await Assert.ThrowsAsync<InvalidSpecException>(() => manager.PlanResizeAsync(id, count, CancellationToken.None));
            Assert.Equal("WorkerCount", plan.Parameter);
            Assert.Contains("wp-1", plan.Message);
            var run = await Assert.ThrowsAsync<InvalidSpecException>(() => manager.ResizeAsync(id, count, OperationOptions.Default, CancellationToken.None));
            Assert.Equal("KsctlInvalidSpec", run.ErrorId);
        }
        var after = (await manager.Store.ReadAsync(id, CancellationToken.None))!;
        Assert.Equal(ClusterStatus.ConfiguringFailed, after.Status);
        Assert.Equal(3, after.Spec.WorkerCount);
        Assert.Equal(["resize/drain:wp-1", "resize/drain:wp-2"], after.Steps.Keys.Order());

        // Finishing the shrink is planned: the drained and the half-drained worker go, the others stay.
        var finish = await manager.PlanResizeAsync(id, 1, CancellationToken.None);
        Assert.Contains("drain:wp-1", finish.Steps.Select(s => s.Name));
        Assert.Contains("drain:wp-2", finish.Steps.Select(s => s.Name));
        Assert.DoesNotContain(finish.Steps, s => s.Name.EndsWith(":wp-0", StringComparison.Ordinal));
    }
}
