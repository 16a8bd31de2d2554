namespace Ksctl.Core.Health;

/// <summary>
/// One live check of a cluster (Test-KsctlCluster writes one per check; the server's reconciler reads the same).
/// <paramref name="Check"/> is one of <see cref="HealthChecks"/>; <paramref name="Target"/> what was checked (a node key,
/// a backend, the endpoint); <paramref name="Reason"/> says why it failed, or what was seen when it passed.
/// </summary>
public sealed record HealthCheckResult(string Check, string Target, bool Passed, string Reason);

/// <summary>The names of the checks, stable for scripts and the REST API.</summary>
public static class HealthChecks
{
    /// <summary>GET /readyz through the cluster's endpoint (the load balancer of a self-managed cluster).</summary>
    public const string ApiReady = "ApiReady";
    /// <summary>A node's Ready condition, as the API reports it.</summary>
    public const string NodeReady = "NodeReady";
    /// <summary>An etcd member's own /health, asked on the member over TLS with the member's certificate.</summary>
    public const string EtcdMember = "EtcdMember";
    /// <summary>A load-balancer backend's state in HAProxy's stats.</summary>
    public const string LoadBalancerBackend = "LoadBalancerBackend";
    /// <summary>The etcd certificates' expiry against the warning window.</summary>
    public const string CertificateExpiry = "CertificateExpiry";
    /// <summary>A machine recorded in state and the cloud's live inventory agree.</summary>
    public const string Inventory = "Inventory";
}
