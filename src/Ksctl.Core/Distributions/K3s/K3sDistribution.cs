using System.Text;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Distributions.Artifacts;
using Ksctl.Core.Engine;
using Ksctl.Core.Kube;
using Ksctl.Core.Model;
using Ksctl.Core.Remote;

namespace Ksctl.Core.Distributions.K3s;

/// <summary>
/// K3s HA on an external etcd datastore: control plane 0 alone, then the other servers (with the token it made)
/// ∥ the agents, all through the load balancer's private address; the kubeconfig comes from CP0 with its server
/// rewritten to the load balancer's public address.
/// </summary>
internal sealed class K3sDistribution : IDistribution
{
    public const string TokenSecret = "k3s:token";
    /// <summary>The agent secret ksctl makes and gives every server (--agent-token-file).</summary>
    public const string AgentSecret = "k3s:agent-secret";
    /// <summary>The full agent token CP0 writes (K10&lt;CA hash&gt;::node:&lt;secret&gt;), the only token agents get.</summary>
    public const string AgentTokenSecret = "k3s:agent-token";

    public DistributionKind Kind => DistributionKind.K3s;

    /// <summary>"1.33.1" → "v1.33.1+k3s1".</summary>
    public static string K3sVersion(string kubernetesVersion) => $"v{kubernetesVersion}+k3s1";

    public IReadOnlyList<PlanStep> CreateSteps(ClusterSpec spec, SelfManagedTopology topology, MachineAccess access, IReadOnlyList<string> ready)
    {
        var cp0 = topology.ControlPlanes[0];
        var steps = new List<PlanStep>
        {
            new($"k3s:{cp0.Key}", (ctx, ct) => K3sInstaller.InstallServerAsync(ctx, spec, topology, access, cp0, first: true, ct))
            {
                DependsOn = [.. ready, cp0.MachineStep],
                Description = $"install the first K3s server on {cp0.Key} against the etcd datastore and read its server and agent tokens",
                Resources = [$"k3s server on {cp0.ResourceName(spec.Id.Name)}"],
            },
        };
        foreach (var cp in topology.ControlPlanes.Skip(1))
            steps.Add(new($"k3s:{cp.Key}", (ctx, ct) => K3sInstaller.InstallServerAsync(ctx, spec, topology, access, cp, first: false, ct))
            {
                DependsOn = [$"k3s:{cp0.Key}", cp.MachineStep],
                Description = $"join K3s server {cp.Key} through the load balancer",
                Resources = [$"k3s server on {cp.ResourceName(spec.Id.Name)}"],
            });
        steps.AddRange(AgentSteps(spec, topology.Workers, access, topology, after: [$"k3s:{cp0.Key}"]));
        steps.Add(new("kubeconfig", (ctx, ct) => K3sInstaller.CaptureKubeconfigAsync(ctx, topology, access, ct))
        {
            DependsOn = [$"k3s:{cp0.Key}"],
            Description = $"read the kubeconfig from {cp0.Key}, point it at the load balancer, context {spec.Id.DefaultContextName}",
            Resources = [$"context {spec.Id.DefaultContextName}"],
        });
        return steps;
    }

    /// <summary>Resize: the control planes already run, so each agent waits only for its machine.</summary>
    public IReadOnlyList<PlanStep> JoinWorkerSteps(ClusterSpec spec, IReadOnlyList<TopologyNode> workers, MachineAccess access) =>
        AgentSteps(spec, workers, access, SelfManagedTopology.From(spec), after: []);

    private static IReadOnlyList<PlanStep> AgentSteps(ClusterSpec spec, IReadOnlyList<TopologyNode> workers, MachineAccess access, SelfManagedTopology topology, IReadOnlyList<string> after) =>
        workers.Select(w => new PlanStep($"k3s:{w.Key}", (ctx, ct) => K3sInstaller.InstallAgentAsync(ctx, spec, topology, access, w, ct))
        {
            DependsOn = [.. after, w.MachineStep],
            Description = $"join K3s agent {w.Key} through the load balancer with the agent token",
            Resources = [$"k3s agent on {w.ResourceName(spec.Id.Name)}"],
        }).ToArray();

    public IReadOnlyList<PlanStep> UninstallSteps(IReadOnlyList<NodeState> nodes, MachineAccess access) =>
        nodes.Where(n => n.Role is NodeRole.ControlPlane or NodeRole.Worker)
            .Select(n => new PlanStep($"k3s-uninstall:{n.Key}", async (ctx, ct) =>
            {
                var shell = await access.ShellAsync(ctx, n.Key!, ct).ConfigureAwait(false);
                await shell.UploadAsync(Encoding.UTF8.GetBytes(K3sScripts.Killall()), K3sScripts.KillallPath, K3sInstaller.Executable, ct).ConfigureAwait(false);
                await shell.RunAsync(new RemoteScript("k3s:uninstall", K3sScripts.Uninstall(), retries: 2), ct).ConfigureAwait(false);
            })
            {
                Description = $"uninstall K3s from {n.Key}",
            }).ToArray();

    public IReadOnlyList<PlanStep> RemoveNodeSteps(ClusterState state, IReadOnlyList<NodeState> nodes, MachineAccess access) =>
        nodes.Select(n => new PlanStep($"drain:{n.Key}", async (ctx, ct) =>
        {
            var cp0 = ctx.Session.Read(s => s.Nodes.First(x => x.Role == NodeRole.ControlPlane && x.Index == 0)).Key!;
            var shell = await access.ShellAsync(ctx, cp0, ct).ConfigureAwait(false);
            await shell.RunAsync(new RemoteScript($"k3s:drain-{n.Key}", K3sScripts.Drain(n.Hostname ?? n.Name), retries: 1), ct).ConfigureAwait(false);
        })
        {
            Description = $"drain {n.Key} and delete its Node",
        }).ToArray();

    // Kept for the shared script tests: the text now lives in K3sUnits and K3sScripts.
    internal static string ServerUnit(IReadOnlyList<string> endpoints, string lbPublic, string lbPrivate, string? joinServer, string? cni) =>
        K3sUnits.Server(endpoints, lbPublic, lbPrivate, joinServer, cni);
    internal static string StartScript(string unit, string waitForFile) => K3sScripts.Start(unit, waitForFile);
    internal static string UninstallScript() => K3sScripts.Uninstall();
    internal static string DrainScript(string node) => K3sScripts.Drain(node);
}
