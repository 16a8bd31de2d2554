namespace Ksctl.Core.Model;

/// <summary>What the user asked for. Immutable; providers fill defaults through <c>with</c> expressions.</summary>
public sealed record ClusterSpec
{
    public required ClusterId Id { get; init; }
    public string? KubernetesVersion { get; init; }

    // Managed clusters.
    public int? NodeCount { get; init; }
    public string? NodeSize { get; init; }

    // Self-managed clusters.
    public DistributionKind? Distribution { get; init; }
    public int? ControlPlaneCount { get; init; }
    public int? WorkerCount { get; init; }
    public int? EtcdCount { get; init; }
    public string? ControlPlaneSize { get; init; }
    public string? WorkerSize { get; init; }
    public string? EtcdSize { get; init; }
    public string? LoadBalancerSize { get; init; }
    public string? Cni { get; init; }
    public IReadOnlyList<string> Applications { get; init; } = Array.Empty<string>();
    public IReadOnlyList<MachineSpec> Machines { get; init; } = Array.Empty<MachineSpec>();
    public bool TrustOnFirstUse { get; init; }
    public string? ArtifactSource { get; init; }
    /// <summary>Accept a plain-http -ArtifactSource mirror (binaries are still checked against its SHA256SUMS).</summary>
    public bool AllowInsecureArtifactSource { get; init; }
    /// <summary>Self-managed: run the distribution with an external cloud provider and install the provider's cloud controller manager.</summary>
    public bool CloudController { get; init; }

    /// <summary>Opt-in to the server's reconciler (resume failed operations with backoff, keep the worker count, report health and drift).</summary>
    public bool Reconcile { get; init; }

    /// <summary>
    /// Opt-in (with <see cref="Reconcile"/>) to repair: the reconciler replaces a worker whose machine the cloud no longer
    /// has (self-managed clusters on a cloud). Off by default: replacing a machine costs money and changes addresses.
    /// </summary>
    public bool Repair { get; init; }
}
