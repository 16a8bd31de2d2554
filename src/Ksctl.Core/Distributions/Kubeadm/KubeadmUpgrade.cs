using Ksctl.Core.Distributions.Artifacts;
using Ksctl.Core.Distributions.K3s;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Remote;

namespace Ksctl.Core.Distributions.Kubeadm;

/// <summary>
/// Upgrades kubeadm nodes in place (<see cref="KubeadmUpgradeScripts"/>): kubeadm first, then "upgrade apply" on the
/// first control plane or "upgrade node" elsewhere; a control plane drains and uncordons itself around its kubelet
/// upgrade (workers are drained and uncordoned by their own steps through control plane 0); kubelet and kubectl to
/// the same version, the kubelet restarted, and the Node waited on until it is Ready at that version.
/// </summary>
internal sealed class KubeadmUpgrade : IUpgradableDistribution
{
    public async Task UpgradeNodeAsync(StepContext context, NodeState node, string version, bool first, MachineAccess access, CancellationToken cancellationToken)
    {
        var (spec, lb, cp0) = context.Session.Read(s => (s.Spec, s.Nodes.First(n => n.Role == NodeRole.LoadBalancer), ControlPlane0(s)));
        var source = ArtifactSource.Parse(spec.ArtifactSource, spec.AllowInsecureArtifactSource);
        var controlPlane = node.Role == NodeRole.ControlPlane;
        var name = K3sUpgrade.NodeName(node);
        var shell = await access.ShellAsync(context, node.Key!, cancellationToken).ConfigureAwait(false);
        await InstallAsync(shell, source, version, ["kubeadm"], cancellationToken).ConfigureAwait(false);
        var upgrade = controlPlane && first ? KubeadmUpgradeScripts.Apply(version) : KubeadmUpgradeScripts.Node(version);
        await shell.RunAsync(new RemoteScript($"kubeadm:upgrade-{node.Key}", upgrade, retries: 1), cancellationToken).ConfigureAwait(false);
        if (controlPlane) await shell.RunAsync(new RemoteScript($"kubeadm:drain-{node.Key}", KubeadmUpgradeScripts.Drain(name), retries: 1), cancellationToken).ConfigureAwait(false);
        await InstallAsync(shell, source, version, ["kubelet", "kubectl"], cancellationToken).ConfigureAwait(false);
        await shell.RunAsync(new RemoteScript($"kubeadm:restart-kubelet-{node.Key}", KubeadmUpgradeScripts.RestartKubelet(), retries: 1), cancellationToken).ConfigureAwait(false);
        if (controlPlane)
        {
            await shell.RunAsync(new RemoteScript($"kubeadm:wait-api-{node.Key}", KubeadmUpgradeScripts.WaitApi(K3sUnits.ApiUrl(lb.PrivateIP, "LoadBalancer.PrivateIP"))), cancellationToken).ConfigureAwait(false);
            await shell.RunAsync(new RemoteScript($"kubeadm:wait-ready-{node.Key}", KubeadmUpgradeScripts.WaitNodeReady(name, version)), cancellationToken).ConfigureAwait(false);
            await shell.RunAsync(new RemoteScript($"kubeadm:uncordon-{node.Key}", KubeadmUpgradeScripts.Uncordon(name), retries: 2), cancellationToken).ConfigureAwait(false);
            return;
        }
        var control = await access.ShellAsync(context, cp0, cancellationToken).ConfigureAwait(false);
        await control.RunAsync(new RemoteScript($"kubeadm:wait-ready-{node.Key}", KubeadmUpgradeScripts.WaitNodeReady(name, version)), cancellationToken).ConfigureAwait(false);
    }

    public Task DrainAsync(StepContext context, NodeState node, MachineAccess access, CancellationToken cancellationToken) =>
        OnControlPlane0Async(context, access, new RemoteScript($"kubeadm:drain-{node.Key}", KubeadmUpgradeScripts.Drain(K3sUpgrade.NodeName(node)), retries: 1), cancellationToken);

    public Task UncordonAsync(StepContext context, NodeState node, MachineAccess access, CancellationToken cancellationToken) =>
        OnControlPlane0Async(context, access, new RemoteScript($"kubeadm:uncordon-{node.Key}", KubeadmUpgradeScripts.Uncordon(K3sUpgrade.NodeName(node)), retries: 2), cancellationToken);

    public string DescribeUpgrade(NodeState node, string version, bool first) => node.Role switch
    {
        NodeRole.ControlPlane when first => $"control plane {node.Key}: kubeadm {version}, kubeadm upgrade plan and apply v{version}, drain, kubelet/kubectl {version}, restart the kubelet, wait until Ready at it and the API answers through the load balancer, uncordon",
        NodeRole.ControlPlane => $"control plane {node.Key}: kubeadm {version}, kubeadm upgrade node, drain, kubelet/kubectl {version}, restart the kubelet, wait until Ready at it and the API answers through the load balancer, uncordon",
        _ => $"worker {node.Key}: kubeadm {version}, kubeadm upgrade node, kubelet/kubectl {version}, restart the kubelet, wait until Ready at it",
    };

    private static async Task InstallAsync(IRemoteShell shell, ArtifactSource source, string version, IReadOnlyList<string> files, CancellationToken ct)
    {
        if (source.IsOfficial)
            await shell.RunAsync(new RemoteScript($"kubeadm:upgrade-packages-{string.Join('-', files)}", KubeadmUpgradeScripts.UpgradePackages(version, files), retries: 3, timeout: TimeSpan.FromMinutes(20)), ct).ConfigureAwait(false);
        else
            await source.InstallAsync(shell, "kubeadm", $"v{KubeadmConfigs.Version(version)}", files, officialScript: "", ct).ConfigureAwait(false);
    }

    private static async Task OnControlPlane0Async(StepContext context, MachineAccess access, RemoteScript script, CancellationToken ct)
    {
        var shell = await access.ShellAsync(context, context.Session.Read(ControlPlane0), ct).ConfigureAwait(false);
        await shell.RunAsync(script, ct).ConfigureAwait(false);
    }

    private static string ControlPlane0(ClusterState s) => s.Nodes.First(n => n.Role == NodeRole.ControlPlane && n.Index == 0).Key!;
}
