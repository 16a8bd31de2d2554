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
