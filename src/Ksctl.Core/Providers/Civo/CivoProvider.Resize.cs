using Ksctl.Core.Engine;
using Ksctl.Core.Model;

namespace Ksctl.Core.Providers.Civo;

/// <summary>Resize-KsctlCluster -NodeCount: set the pool's count, wait until ACTIVE, record the nodes again.</summary>
internal sealed partial class CivoProvider : IManagedResizeProvider
{
    public const string PoolStep = "civo:pool-count";

    public IReadOnlyList<PlanStep> ResizeSteps(ClusterState state, int nodeCount)
    {
        var region = state.Id.Region;
        var managed = Managed;
        var pool = new CivoManagedPool(ClientAsync, managed, _logger);
        return
        [
            new PlanStep(PoolStep, (ctx, ct) => pool.SetCountAsync(ctx, region, nodeCount, ct))
            {
                Description = $"set the node pool of Civo cluster '{state.Id.Name}' to {nodeCount} node(s)",
                Resources = [$"civo kubernetes cluster {state.Id.Name} ({state.Resources.GetValueOrDefault(ClusterResource) ?? "id not recorded"}), its node pool"],
            },
            new PlanStep("civo:cluster-active", (ctx, ct) => managed.WaitActiveAsync(ctx, region, ct))
            {
                DependsOn = [PoolStep],
                Description = "wait until Civo reports the cluster ACTIVE with the new node count",
            },
            new PlanStep("civo:nodes", (ctx, ct) => managed.CaptureKubeconfigAsync(ctx, region, ct))
            {
                DependsOn = ["civo:cluster-active"],
                Description = "record the cluster's nodes (and its kubeconfig) again",
            },
        ];
    }
}
