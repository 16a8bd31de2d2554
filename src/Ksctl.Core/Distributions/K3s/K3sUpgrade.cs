using Ksctl.Core.Distributions.Artifacts;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Remote;

namespace Ksctl.Core.Distributions.K3s;

/// <summary>
/// Upgrades K3s nodes in place: the new binary from the cluster's artifact source (verified against its checksum
/// before it replaces the old one), a restart of the node's unit, then the waits of <see cref="K3sUpgradeScripts"/>.
/// Servers wait on themselves; agents are checked, drained and uncordoned through control plane 0.
/// </summary>
internal sealed class K3sUpgrade : IUpgradableDistribution
{
    public async Task UpgradeNodeAsync(StepContext context, NodeState node, string version, bool first, MachineAccess access, CancellationToken cancellationToken)
    {
        var k3sVersion = K3sDistribution.K3sVersion(version);
        var (spec, lb, cp0) = context.Session.Read(s => (s.Spec, s.Nodes.First(n => n.Role == NodeRole.LoadBalancer), ControlPlane0(s)));
        var server = node.Role == NodeRole.ControlPlane;
        var unit = server ? K3sUnits.ServerUnit : K3sUnits.AgentUnit;
        var shell = await access.ShellAsync(context, node.Key!, cancellationToken).ConfigureAwait(false);
        await ArtifactSource.Parse(spec.ArtifactSource, spec.AllowInsecureArtifactSource)
            .InstallAsync(shell, OfficialArtifacts.K3s(k3sVersion), cancellationToken).ConfigureAwait(false);
        await shell.RunAsync(new RemoteScript($"k3s:upgrade-{node.Key}", K3sUpgradeScripts.Restart(unit, k3sVersion), retries: 1), cancellationToken).ConfigureAwait(false);
        var name = NodeName(node);
        if (server)
        {
            await shell.RunAsync(new RemoteScript($"k3s:wait-api-{node.Key}", K3sUpgradeScripts.WaitApi(K3sUnits.ApiUrl(lb.PrivateIP, "LoadBalancer.PrivateIP"))), cancellationToken).ConfigureAwait(false);
            await shell.RunAsync(new RemoteScript($"k3s:wait-ready-{node.Key}", K3sUpgradeScripts.WaitNodeReady(name, k3sVersion)), cancellationToken).ConfigureAwait(false);
            return;
        }
        var control = await access.ShellAsync(context, cp0, cancellationToken).ConfigureAwait(false);
        await control.RunAsync(new RemoteScript($"k3s:wait-ready-{node.Key}", K3sUpgradeScripts.WaitNodeReady(name, k3sVersion)), cancellationToken).ConfigureAwait(false);
    }

    public Task DrainAsync(StepContext context, NodeState node, MachineAccess access, CancellationToken cancellationToken) =>
        OnControlPlane0Async(context, access, new RemoteScript($"k3s:drain-{node.Key}", K3sUpgradeScripts.Drain(NodeName(node)), retries: 1), cancellationToken);

    public Task UncordonAsync(StepContext context, NodeState node, MachineAccess access, CancellationToken cancellationToken) =>
        OnControlPlane0Async(context, access, new RemoteScript($"k3s:uncordon-{node.Key}", K3sUpgradeScripts.Uncordon(NodeName(node)), retries: 2), cancellationToken);

    public string DescribeUpgrade(NodeState node, string version, bool first) => node.Role == NodeRole.ControlPlane
        ? $"K3s server {node.Key}: install k3s {K3sDistribution.K3sVersion(version)} (checksum verified), restart, wait until its Node is Ready at it and the API answers through the load balancer"
        : $"K3s agent {node.Key}: install k3s {K3sDistribution.K3sVersion(version)} (checksum verified), restart, wait until its Node is Ready at it";

    private static async Task OnControlPlane0Async(StepContext context, MachineAccess access, RemoteScript script, CancellationToken ct)
    {
        var shell = await access.ShellAsync(context, context.Session.Read(ControlPlane0), ct).ConfigureAwait(false);
        await shell.RunAsync(script, ct).ConfigureAwait(false);
    }

    private static string ControlPlane0(ClusterState s) => s.Nodes.First(n => n.Role == NodeRole.ControlPlane && n.Index == 0).Key!;

    /// <summary>The Kubernetes Node name is the machine's hostname (recorded when the machine was reached).</summary>
    internal static string NodeName(NodeState node) => node.Hostname ?? node.Name;
}
