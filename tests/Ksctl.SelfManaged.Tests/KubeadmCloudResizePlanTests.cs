using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Distributions;
using Ksctl.Core.Model;

namespace Ksctl.SelfManaged.Tests;

/// <summary>
/// The resize plan of a Kubeadm HA cluster on Civo and Azure, built from a stored Running state without any machine
/// or cloud: a grow makes the new worker's machine (with the cloud prerequisites it needs), joins it through kubeadm
/// and waits for the nodes to be Ready; a shrink drains the worker before its machine goes. No request can be sent:
/// no cloud endpoint exists here, so a plan that tried to ask one would fail.
/// </summary>
public sealed class KubeadmCloudResizePlanTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("ksctl-kubeadm-resize-plan-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_home, true); } catch (IOException) { }
    }

    [Theory]
    [InlineData(CloudProvider.Civo, "LON1")]
    [InlineData(CloudProvider.Azure, "eastus")]
    public async Task A_Kubeadm_resize_plan_joins_the_new_worker_and_waits_for_it_Ready_and_a_shrink_drains_first(CloudProvider provider, string region)
    {
        using var manager = new ClusterManager(KsctlSettings.Load(_home));
        var id = new ClusterId(provider, ClusterType.SelfManaged, "kplan", region);
        var spec = manager.Prepare(new ClusterSpec { Id = id, Distribution = DistributionKind.Kubeadm, WorkerCount = 1 });
        var state = new ClusterState
        {
            Id = id,
            Spec = spec,
            Status = ClusterStatus.Running,
            Distribution = "Kubeadm",
            KubernetesVersion = spec.KubernetesVersion,
            Nodes = SelfManagedTopology.From(spec).All.Select((n, i) => new NodeState
            {
                Key = n.Key, Name = n.ResourceName("kplan"), Role = n.Role, Index = n.Index,
                PublicIP = $"192.0.2.{10 + i}", PrivateIP = $"10.0.0.{10 + i}", ResourceId = $"recorded-{n.Key}",
            }).ToList(),
        };
        await manager.Store.WriteAsync(state, CancellationToken.None);

        var grow = await manager.PlanResizeAsync(id, 2, CancellationToken.None);
        var names = grow.Steps.Select(s => s.Name).ToList();
        Assert.Single(names, n => n.StartsWith("machine:", StringComparison.Ordinal));
        Assert.Contains("machine:wp-1", names);
        Assert.Contains("kubeadm:wp-1", names);
        Assert.DoesNotContain("kubeadm:wp-0", names);
        Assert.Contains("machine:wp-1", DependsTransitively(grow, "kubeadm:wp-1"));
        Assert.Contains("kubeadm-prepare:wp-1", DependsTransitively(grow, "kubeadm:wp-1"));
        Assert.Contains("kubeadm:wp-1", grow["nodes-ready"].DependsOn);
        Assert.All(grow["machine:wp-1"].DependsOn, d => Assert.Contains(d, names));
        Assert.DoesNotContain(names, n => n.StartsWith("drain:", StringComparison.Ordinal));

        var shrink = await manager.PlanResizeAsync(id, 0, CancellationToken.None);
        Assert.Contains("drain:wp-0", shrink.Steps.Select(s => s.Name));
        Assert.DoesNotContain(shrink.Steps, s => s.Name.StartsWith("kubeadm:", StringComparison.Ordinal) || s.Name.StartsWith("machine:", StringComparison.Ordinal));
        Assert.All(shrink.Steps.Where(s => s.Name != "drain:wp-0"), s => Assert.NotEmpty(s.DependsOn));

        Assert.Contains("drain:wp-0", DependsTransitively(shrink, shrink.Steps.Last().Name));

        // Planning changed nothing.
        var after = (await manager.Store.ReadAsync(id, CancellationToken.None))!;
        Assert.Equal(ClusterStatus.Running, after.Status);
        Assert.Equal(1, after.Spec.WorkerCount);
        Assert.Equal(state.Nodes.Count, after.Nodes.Count);
        Assert.Empty(after.Steps);
    }

    private static HashSet<string> DependsTransitively(Ksctl.Core.Engine.Plan plan, string step)
    {
        var seen = new HashSet<string>();
        var pending = new Stack<string>(plan[step].DependsOn);
        while (pending.TryPop(out var name))
            if (seen.Add(name)) foreach (var d in plan[name].DependsOn) pending.Push(d);
        return seen;
    }
}
