using System.Globalization;
using Ksctl.Core.Distributions;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Providers;
using Ksctl.Core.Remote;

namespace Ksctl.Core.Clusters;

/// <summary>The repair plan: lost workers are taken out as a shrink takes them out and made again as a grow makes them.</summary>
internal sealed partial class PlanComposer
{
    /// <summary>
    /// For each worker: delete its Node through control plane 0 (no drain: a lost machine's kubelet never confirms an
    /// eviction, so kubectl drain would wait out its timeout; deleting the Node lets the pod garbage collector remove
    /// its pods, kubernetes.io/docs/concepts/architecture/nodes "Node controller" / "kubectl delete node"), remove what
    /// is left of its machine and drop it from the state (the provider's resize-down steps, each safe when the machine
    /// is already gone), then its machine step (with the network, firewall and key steps it needs, which find what the
    /// create made) and its join, as a grow runs them. The Node goes first so the new machine registers under the same
    /// name without meeting the old object (k3s also refuses a node whose node-password secret belongs to another machine).
    /// </summary>
    public PlanBuild Repair(ClusterState state, IReadOnlyList<string> workers, OperationOptions options)
    {
        var provider = providers.Get(state.Id.Provider, options.Credential);
        var (machines, distribution, access) = SelfManaged(provider, state.Spec, options);
        // The topology reaches every worker named (one above the spec's count is a leftover of a failed grow).
        var spec = state.Spec with { WorkerCount = Math.Max(state.Spec.WorkerCount ?? 0, workers.Max(IndexOf) + 1) };
        var topology = SelfManagedTopology.From(spec);
        var nodes = topology.Workers.Where(w => workers.Contains(w.Key)).ToList();
        var recorded = state.Nodes.Where(n => n.Role == NodeRole.Worker && n.Key is not null && workers.Contains(n.Key)).ToList();

        var steps = new List<PlanStep>();
        var forgets = workers.Select(k => NodeDeleteStep(distribution.Kind, k, recorded.FirstOrDefault(n => n.Key == k), access)).ToList();
        steps.AddRange(forgets);
        // Off the state already (a resumed repair whose removal finished): nothing of the old machine is left to remove.
        var removal = machines.RemoveMachineSteps(state, recorded).Select(s => WithDependencies(s, forgets.Select(f => f.Name))).ToList();
        steps.AddRange(removal);
        var before = removal.Count > 0 ? removal.Select(s => s.Name) : forgets.Select(f => f.Name);
        var wanted = nodes.Select(n => n.MachineStep).ToHashSet(StringComparer.Ordinal);
        steps.AddRange(WithPrerequisites(machines.MachineSteps(spec, topology, access), wanted)
            .Select(s => wanted.Contains(s.Name) ? WithDependencies(s, before) : s));
        steps.AddRange(distribution.JoinWorkerSteps(spec, nodes, access));
        return new PlanBuild(new Plan("repair", state.Id, steps), access);
    }

    private static int IndexOf(string key) =>
        key.StartsWith("wp-", StringComparison.Ordinal) && int.TryParse(key.AsSpan(3), NumberStyles.None, CultureInfo.InvariantCulture, out var i)
            ? i : throw new Diagnostics.InvalidSpecException("Workers", $"'{key}' is not a worker's key (wp-<index>).");

    /// <summary>Deletes the worker's Node through control plane 0 (gone already is fine: the step may run again).</summary>
    private static PlanStep NodeDeleteStep(DistributionKind kind, string key, NodeState? node, MachineAccess access) =>
        new($"node-delete:{key}", async (ctx, ct) =>
        {
            var name = node?.Hostname ?? node?.Name ?? $"{ctx.State.Id.Name}-vm-{key}";
            var cp0 = ctx.Session.Read(s => s.Nodes.First(x => x.Role == NodeRole.ControlPlane && x.Index == 0)).Key!;
            var shell = await access.ShellAsync(ctx, cp0, ct).ConfigureAwait(false);
            var kubectl = kind == DistributionKind.Kubeadm ? $"kubectl --kubeconfig={Distributions.Kubeadm.KubeadmScripts.AdminConf}" : "k3s kubectl";
            var script = $"set -euo pipefail\n{kubectl} delete node {ShellQuote.Quote(name)} --ignore-not-found\n";
            await shell.RunAsync(new RemoteScript($"repair:node-delete-{key}", script, retries: 1), ct).ConfigureAwait(false);
        })
        {
            Description = $"delete the Node of lost worker {key} (its machine is gone: no drain)",
        };
}
