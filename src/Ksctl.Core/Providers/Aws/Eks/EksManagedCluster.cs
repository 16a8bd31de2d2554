using Ksctl.Core.Engine;
using Ksctl.Core.Model;

namespace Ksctl.Core.Providers.Aws.Eks;

/// <summary>
/// The plans of a managed EKS cluster. Create: the two IAM roles ∥ the network → the cluster → (admin access entry ∥
/// node group, which needs the node role too) → kubeconfig. Delete (each step safe if already gone): node group →
/// cluster → (roles ∥ network). Resize: the node group's size.
/// </summary>
/// <param name="profile">The -ProfileName the operation signed in with (null: none), written into the kubeconfig's exec env.</param>
internal sealed class EksManagedCluster(EksSessionSource session, string? profile = null)
{
    public IReadOnlyList<PlanStep> CreateSteps(ClusterSpec spec) =>
    [
        EksRoles.CreateStep(session, spec.Id, nodes: false),
        EksRoles.CreateStep(session, spec.Id, nodes: true),
        EksNetwork.CreateStep(session, spec.Id),
        EksControlPlane.CreateStep(session, spec),
        EksControlPlane.AdminStep(session, spec.Id),
        EksNodegroups.CreateStep(session, spec),
        EksKubeconfig.Step(spec.Id, profile),
    ];

    public IReadOnlyList<PlanStep> DeleteSteps(ClusterState state)
    {
        var nodegroup = EksNodegroups.DeleteStep(session, state.Id);
        var cluster = EksControlPlane.DeleteStep(session, state.Id, [nodegroup.Name]);
        return
        [
            nodegroup,
            cluster,
            EksRoles.DeleteStep(session, state.Id, [cluster.Name]),
            EksNetwork.DeleteStep(session, state.Id, [cluster.Name]),
        ];
    }

    public IReadOnlyList<PlanStep> ResizeSteps(ClusterState state, int nodeCount) =>
        [EksNodegroups.ScaleStep(session, state.Id, nodeCount)];
}
