using Ksctl.Core.Model;

namespace Ksctl.Core.Reconcile;

/// <summary>One health finding: what was checked and, when it failed, why.</summary>
public sealed record HealthFinding(string Check, bool Healthy, string? Reason = null);

/// <summary>
/// Checks a running cluster's health (API through the load balancer, nodes Ready, etcd members). The reconciler only
/// reports what it answers (Degraded with the failing findings' reasons); it never acts on it. Implementations must not
/// change the cluster and may throw: a probe that throws reports Degraded with its message.
/// </summary>
public interface IClusterHealthProbe
{
    Task<IReadOnlyList<HealthFinding>> CheckAsync(ClusterState state, CancellationToken cancellationToken);
}

/// <summary>A probe from a delegate, e.g. Core's health checks wired by the host: <c>(state, ct) => health.TestAsync(state.Id.Name, ct)</c> mapped to findings.</summary>
public sealed class DelegateHealthProbe(Func<ClusterState, CancellationToken, Task<IReadOnlyList<HealthFinding>>> check) : IClusterHealthProbe
{
    public Task<IReadOnlyList<HealthFinding>> CheckAsync(ClusterState state, CancellationToken cancellationToken) => check(state, cancellationToken);
}
