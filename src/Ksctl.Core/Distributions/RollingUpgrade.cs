using Ksctl.Core.Engine;
using Ksctl.Core.Model;

namespace Ksctl.Core.Distributions;

/// <summary>
/// The order of a self-managed upgrade, as the Kubernetes version skew policy wants it (the apiservers first, the
/// kubelets after, never newer than the apiservers) and kubeadm's upgrade guide does it: control planes one at a
/// time, each waited on; then workers in batches of at most <c>maxUnavailable</c>, each drained, upgraded and
/// uncordoned before the next batch is drained. Each node's step is recorded on its own, so a failure or Ctrl+C
/// resumes from the node it stopped at.
/// </summary>
internal static class RollingUpgrade
{
    public static string UpgradeStep(NodeState node) => $"upgrade:{node.Key}";
    public static string DrainStep(NodeState node) => $"drain:{node.Key}";
    public static string UncordonStep(NodeState node) => $"uncordon:{node.Key}";

    public static IReadOnlyList<PlanStep> Steps(ClusterState state, string version, int maxUnavailable, IUpgradableDistribution distribution, MachineAccess access)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxUnavailable, 1);
        var steps = new List<PlanStep>();
        var controlPlanes = state.Nodes.Where(n => n.Role == NodeRole.ControlPlane).OrderBy(n => n.Index).ToList();
        var workers = state.Nodes.Where(n => n.Role == NodeRole.Worker).OrderBy(n => n.Index).ToList();
        string[] after = [];
        foreach (var cp in controlPlanes)
        {
            var first = steps.Count == 0;
            steps.Add(new PlanStep(UpgradeStep(cp), (ctx, ct) => distribution.UpgradeNodeAsync(ctx, cp, version, first, access, ct))
            {
                DependsOn = after,
                Description = distribution.DescribeUpgrade(cp, version, first),
                Resources = [$"{cp.Key} → {version}"],
            });
            after = [UpgradeStep(cp)];
        }
        foreach (var batch in workers.Chunk(maxUnavailable))
        {
            var done = new List<string>();
            foreach (var w in batch)
            {
                steps.Add(new PlanStep(DrainStep(w), (ctx, ct) => distribution.DrainAsync(ctx, w, access, ct))
                {
                    DependsOn = after,
                    Description = $"cordon and drain {w.Key} (its pods move to the other workers)",
                });
                steps.Add(new PlanStep(UpgradeStep(w), (ctx, ct) => distribution.UpgradeNodeAsync(ctx, w, version, false, access, ct))
                {
                    DependsOn = [DrainStep(w)],
                    Description = distribution.DescribeUpgrade(w, version, false),
                    Resources = [$"{w.Key} → {version}"],
                });
                steps.Add(new PlanStep(UncordonStep(w), (ctx, ct) => distribution.UncordonAsync(ctx, w, access, ct))
                {
                    DependsOn = [UpgradeStep(w)],
                    Description = $"uncordon {w.Key}",
                });
                done.Add(UncordonStep(w));
            }
            after = [.. done];
        }
        return steps;
    }
}
