namespace Ksctl.PowerShell.Models;

/// <summary>
/// A cluster as Get-KsctlCluster and New-KsctlCluster return it. Carries no secret: no kubeconfig, key or token
/// (use Switch-KsctlContext for the kubeconfig). Its Name, Provider, Type and Region bind by property name to
/// Remove-KsctlCluster and Switch-KsctlContext.
/// </summary>
public sealed class KsctlCluster
{
    public string Name { get; init; } = "";
    public string Provider { get; init; } = "";
    /// <summary>Managed or SelfManaged.</summary>
    public string Type { get; init; } = "";
    public string Region { get; init; } = "";
    public string? Distribution { get; init; }
    public string? KubernetesVersion { get; init; }
    /// <summary>Fresh, Creating, CreationFailed, Running, Configuring, ConfiguringFailed, Deleting or DeletionFailed.</summary>
    public string Status { get; init; } = "";
    public KsctlNode[] Nodes { get; init; } = [];
    /// <summary>The API server URL.</summary>
    public string? Endpoint { get; init; }
    /// <summary>The kubeconfig context Switch-KsctlContext makes current.</summary>
    public string? ContextName { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    /// <summary>When the first of the cluster's certificates expires (self-managed clusters); Update-KsctlCertificate renews them.</summary>
    public DateTimeOffset? CertificatesExpireAt { get; init; }
    /// <summary>Errors of the last failed operation (empty when it succeeded).</summary>
    public string[] LastErrors { get; init; } = [];
    /// <summary>The desired spec (sizes, counts, version, CNI, applications); <c>.Spec.ToYaml()</c> is a -SpecPath file that re-creates the cluster.</summary>
    public KsctlClusterSpec? Spec { get; init; }
    /// <summary>
    /// When each kind of certificate expires (self-managed clusters): etcd-ca, etcd-member, etcd-client, and kubeadm (the
    /// control planes' certificates) once Update-KsctlCertificate has renewed them. Empty when none is recorded.
    /// </summary>
    public System.Collections.Generic.Dictionary<string, DateTimeOffset> CertificateExpiry { get; init; } = new(StringComparer.Ordinal);

    public override string ToString() => $"{Name} ({Provider}/{Type}, {Region})";
}
