namespace Ksctl.PowerShell.Models;

/// <summary>One live check of a cluster (Test-KsctlCluster): what was checked, whether it passed, and why.</summary>
public sealed class KsctlHealthCheck
{
    /// <summary>The cluster's name.</summary>
    public string Cluster { get; init; } = "";
    /// <summary>ApiReady, NodeReady, EtcdMember, LoadBalancerBackend, CertificateExpiry or Inventory.</summary>
    public string Check { get; init; } = "";
    /// <summary>What was checked: the endpoint, a node key ("cp-0", "db-1", "wp-2"), a Node or machine name.</summary>
    public string Target { get; init; } = "";
    public bool Passed { get; init; }
    /// <summary>Why it failed, or what was seen when it passed.</summary>
    public string Reason { get; init; } = "";

    public override string ToString() => $"{Check} {Target}: {(Passed ? "passed" : "failed")}";
}
