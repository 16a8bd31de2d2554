using Ksctl.Core.Diagnostics;
using Ksctl.Core.Distributions;
using Ksctl.Core.Distributions.Etcd;
using Ksctl.Core.Distributions.HAProxy;
using Ksctl.Core.Distributions.K3s;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Providers;
using Ksctl.Core.Remote;

namespace Ksctl.Core.Clusters;

/// <summary>A plan and the SSH connections its steps share; disposing closes them.</summary>
internal sealed record PlanBuild(Plan Plan, MachineAccess? Access) : IAsyncDisposable
{
    public ValueTask DisposeAsync() => Access?.DisposeAsync() ?? ValueTask.CompletedTask;
}

/// <summary>
/// Composes providers and distributions into plans (they never call each other). Self-managed order:
/// machines → (LB ∥ etcd members) → CP0 → (other CPs ∥ workers) → kubeconfig; deletion in reverse.
/// </summary>
internal sealed partial class PlanComposer(ProviderRegistry providers, KsctlServices services)
{
    private readonly IReadOnlyDictionary<DistributionKind, IDistribution> _distributions =
        new IDistribution[] { new K3sDistribution(), new Distributions.Kubeadm.KubeadmDistribution(services.Time) }.ToDictionary(d => d.Kind);

    public PlanBuild Create(ClusterSpec spec, OperationOptions options)
    {
        var provider = providers.Get(spec.Id.Provider, options.Credential);
        Providers.CloudControllers.CloudControllerStep.Validate(spec, provider);
        if (spec.Id.Type == ClusterType.Managed)
            return provider is IManagedClusterProvider managed
                ? new PlanBuild(new Plan("create", spec.Id, managed.CreateSteps(spec)), null)
                : throw NotOffered(spec.Id);
        var (machines, distribution, access) = SelfManaged(provider, spec, options);
        var topology = SelfManagedTopology.From(spec);
        var steps = new List<PlanStep>(machines.MachineSteps(spec, topology, access))
        {
            HAProxyLoadBalancer.CreateStep(topology, access),
        };
        steps.AddRange(EtcdDatastore.CreateSteps(spec, topology, access));
        steps.AddRange(distribution.CreateSteps(spec, topology, access, [HAProxyLoadBalancer.Step, EtcdDatastore.HealthStep]));
        if (spec.CloudController)
            steps.Add(Providers.CloudControllers.CloudControllerStep.Create((Providers.CloudControllers.ICloudControllerProvider)provider, spec, options.Credential,
                spec.Distribution == DistributionKind.K3s ? Distributions.K3s.K3sCni.ClusterCidr : Distributions.Kubeadm.KubeadmConfigs.PodSubnet, ["kubeconfig"]));
        return new PlanBuild(new Plan("create", spec.Id, steps), access);
    }

    public PlanBuild Delete(ClusterState state, OperationOptions options)
    {
        var provider = providers.Get(state.Id.Provider, options.Credential);
        if (state.Id.Type == ClusterType.Managed)
            return provider is IManagedClusterProvider managed
                ? new PlanBuild(new Plan("delete", state.Id, managed.DeleteSteps(state)), null)
                : throw NotOffered(state.Id);
        var (machines, distribution, access) = SelfManaged(provider, state.Spec, options);
        var steps = new List<PlanStep>();
        if (machines.KeepsMachines)
        {
            // The machines stay: take off everything ksctl put on them (only nodes that were reached are recorded).
            steps.AddRange(distribution.UninstallSteps(state.Nodes, access));
            steps.AddRange(EtcdDatastore.UninstallSteps(state.Nodes, access));
            steps.AddRange(state.Nodes.Where(n => n.Role == NodeRole.LoadBalancer).Select(n => HAProxyLoadBalancer.UninstallStep(n, access)));
        }
        var uninstall = steps.Select(s => s.Name).ToArray();
        steps.AddRange(machines.MachineDeleteSteps(state).Select(s => uninstall.Length == 0 ? s : WithDependencies(s, uninstall)));
        return new PlanBuild(new Plan("delete", state.Id, steps), access);
    }

    /// <summary>Worker count change: join new highest indices, or drain, delete and remove the highest ones.</summary>
    public PlanBuild Resize(ClusterState state, ClusterSpec resized, OperationOptions options)
    {
        var provider = providers.Get(state.Id.Provider, options.Credential);
        var (machines, distribution, access) = SelfManaged(provider, resized, options);
        var current = state.Nodes.Where(n => n.Role == NodeRole.Worker).OrderBy(n => n.Index).ToList();
        var target = resized.WorkerCount!.Value;
        var topology = SelfManagedTopology.From(resized);
        var steps = new List<PlanStep>();
        // A worker is in the state from its machine step on, before it has joined; the stored spec's count changes
        // only when a resize succeeds. So after a failed grow the state holds workers that never joined: a re-run
        // joins every worker above the last completed count (finished steps are skipped when it resumes), and
        // removes every recorded worker above the new count, joined or not, so none is left behind.
        var joined = Math.Min(state.Spec.WorkerCount ?? current.Count, current.Count);
        if (target > joined)
        {
            var added = topology.Workers.Where(w => w.Index >= joined).ToList();
            steps.AddRange(WithPrerequisites(machines.MachineSteps(resized, topology, access), added.Select(w => w.MachineStep)));
            steps.AddRange(distribution.JoinWorkerSteps(resized, added, access));
        }
        if (current.Any(w => w.Index >= target))
        {
            var removed = current.Where(w => w.Index >= target).ToList();
            var drains = distribution.RemoveNodeSteps(state, removed, access);
            steps.AddRange(drains);
            var after = drains.Select(d => d.Name).ToArray();
            var teardown = machines.KeepsMachines ? distribution.UninstallSteps(removed, access) : machines.RemoveMachineSteps(state, removed);
            steps.AddRange(teardown.Select(s => WithDependencies(s, after)));
            steps.Add(new PlanStep("forget-workers", (ctx, _) =>
            {
                ctx.Mutate(s => s.Nodes.RemoveAll(n => n.Role == NodeRole.Worker && n.Index >= target));
                return Task.CompletedTask;
            })
            {
                DependsOn = teardown.Count > 0 ? teardown.Select(s => s.Name).ToArray() : after,
                Description = $"drop the removed worker(s) from the state",
            });
        }
        return new PlanBuild(new Plan("resize", state.Id, steps), access);
    }

    private (ISelfManagedProvider Machines, IDistribution Distribution, MachineAccess Access) SelfManaged(ICloudProvider provider, ClusterSpec spec, OperationOptions options)
    {
        if (provider is not ISelfManagedProvider machines) throw NotOffered(spec.Id);
        var kind = spec.Distribution ?? DistributionKind.K3s;
        if (!_distributions.TryGetValue(kind, out var distribution))
            throw new ProviderNotAvailableException(kind.ToString(), $"The {kind} distribution is not available in this version of Ksctl; use K3s.");
        var factory = services.RemoteShells(new RemoteShellOptions
        {
            AllowTrustOnFirstUse = spec.TrustOnFirstUse,
            MaxParallelism = options.MaxParallelism,
            ConnectDeadline = options.ConnectDeadline,
        });
        return (machines, distribution, new MachineAccess(factory, machines.Connection));
    }

    /// <summary>
    /// The named steps and every step they depend on, transitively: a cloud's machine steps need its network, firewall
    /// and key steps, which find what the create made (by recorded id) and record it again.
    /// </summary>
    private static IEnumerable<PlanStep> WithPrerequisites(IReadOnlyList<PlanStep> all, IEnumerable<string> names)
    {
        var byName = all.ToDictionary(s => s.Name, StringComparer.Ordinal);
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>(names);
        while (pending.TryPop(out var name))
            if (wanted.Add(name))
                foreach (var dependency in byName[name].DependsOn) pending.Push(dependency);
        return all.Where(s => wanted.Contains(s.Name));
    }

    private static PlanStep WithDependencies(PlanStep step, IEnumerable<string> extra) =>
        new(step.Name, step.Run)
        {
            DependsOn = step.DependsOn.Concat(extra).Distinct().ToArray(),
            Description = step.Description,
            Resources = step.Resources,
            IsAlreadyDone = step.IsAlreadyDone,
        };

    private static ProviderNotAvailableException NotOffered(ClusterId id) =>
        new(id.Provider.ToString(), $"{id.Type} clusters on {id.Provider} are not available in this version of Ksctl.");
}
