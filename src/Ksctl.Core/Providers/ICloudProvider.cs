using Ksctl.Core.Engine;
using Ksctl.Core.Model;

namespace Ksctl.Core.Providers;

/// <summary>
/// A place clusters can be built. Every provider validates and fills defaults; what it can build is said by
/// the capability interfaces it also implements (<see cref="IManagedClusterProvider"/>, and for self-managed
/// clusters a machine provisioner). A provider never calls a distribution: the ClusterManager composes plans.
/// </summary>
public interface ICloudProvider
{
    ProviderDescriptor Descriptor { get; }

    /// <summary>
    /// Returns the spec with this provider's defaults filled in, or throws
    /// <see cref="Diagnostics.InvalidSpecException"/> naming the parameter and the rule. Must not touch the cloud.
    /// </summary>
    ClusterSpec Prepare(ClusterSpec spec);
}

/// <summary>A provider that offers managed clusters (the cloud runs the control plane).</summary>
public interface IManagedClusterProvider : ICloudProvider
{
    /// <summary>Steps that create the cluster and leave a kubeconfig in state (secret <see cref="ClusterState.KubeconfigSecret"/>).</summary>
    IReadOnlyList<PlanStep> CreateSteps(ClusterSpec spec);

    /// <summary>Steps that remove everything <see cref="CreateSteps"/> may have created (each safe if already gone).</summary>
    IReadOnlyList<PlanStep> DeleteSteps(ClusterState state);
}

/// <summary>A provider that must check something outside Ksctl first (a CLI, an engine, credentials).</summary>
public interface IPreflightProvider
{
    /// <summary>Throws <see cref="Diagnostics.PrerequisiteMissingException"/> (or an auth error) saying exactly what is missing.</summary>
    Task PreflightAsync(ClusterSpec spec, CancellationToken cancellationToken);
}

/// <summary>
/// A provider that supplies machines for self-managed clusters. It makes every machine of the topology reachable
/// over SSH with a pinned host key; the ClusterManager then runs the distribution's bootstrap on them.
/// </summary>
public interface ISelfManagedProvider : ICloudProvider
{
    /// <summary>
    /// Network, SSH key, firewalls and machines. Must contain one step named <see cref="Distributions.TopologyNode.MachineStep"/>
    /// per node, which leaves a <see cref="NodeState"/> with that node's <see cref="NodeState.Key"/>, addresses and host key.
    /// </summary>
    IReadOnlyList<PlanStep> MachineSteps(ClusterSpec spec, Distributions.SelfManagedTopology topology, Distributions.MachineAccess access);

    /// <summary>
    /// Steps that remove everything <see cref="MachineSteps"/> created for the cluster (after the distribution's
    /// teardown): every machine, recorded or found by name/tag, then the shared network, firewalls and keys.
    /// </summary>
    IReadOnlyList<PlanStep> MachineDeleteSteps(ClusterState state);

    /// <summary>Steps that remove just <paramref name="nodes"/>' machines (a resize down); the shared resources stay.</summary>
    IReadOnlyList<PlanStep> RemoveMachineSteps(ClusterState state, IReadOnlyList<NodeState> nodes);

    /// <summary>How to reach a recorded node over SSH (pinned host key from state).</summary>
    Remote.RemoteMachine Connection(ClusterState state, NodeState node);

    /// <summary>Whether machine deletion removes them (clouds) or leaves them, so the distribution must uninstall (BareMetal).</summary>
    bool KeepsMachines { get; }
}
