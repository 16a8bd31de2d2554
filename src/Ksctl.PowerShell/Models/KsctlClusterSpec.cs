using System.Runtime.CompilerServices;

namespace Ksctl.PowerShell.Models;

/// <summary>
/// The desired spec of a cluster (what New-KsctlCluster was asked for, provider defaults filled in; Resize-KsctlCluster
/// updates WorkerCount). <see cref="ToYaml"/> writes it in the -SpecPath schema, so that
/// <c>Set-Content x.yaml ((Get-KsctlCluster x).Spec.ToYaml())</c> and <c>New-KsctlCluster -SpecPath x.yaml</c> re-create it.
/// </summary>
public sealed class KsctlClusterSpec
{
    public string Name { get; init; } = "";
    public string Provider { get; init; } = "";
    public string Type { get; init; } = "";
    public string Region { get; init; } = "";
    public string? KubernetesVersion { get; init; }
    /// <summary>Managed clusters: the node pool.</summary>
    public int? NodeCount { get; init; }
    public string? NodeSize { get; init; }
    /// <summary>Self-managed clusters: K3s or Kubeadm.</summary>
    public string? Distribution { get; init; }
    public int? ControlPlaneCount { get; init; }
    public int? WorkerCount { get; init; }
    public int? EtcdCount { get; init; }
    public string? ControlPlaneSize { get; init; }
    public string? WorkerSize { get; init; }
    public string? EtcdSize { get; init; }
    public string? LoadBalancerSize { get; init; }
    public string? Cni { get; init; }
    public string[] Applications { get; init; } = [];
    /// <summary>BareMetal: the machines (address, port, user, key path, pinned host key, role).</summary>
    public KsctlMachineSpec[] Machines { get; init; } = [];
    public bool TrustOnFirstUse { get; init; }
    public string? ArtifactSource { get; init; }
    public bool AllowInsecureArtifactSource { get; init; }

    /// <summary>This spec as a -SpecPath file (YAML, camelCase fields).</summary>
    public string ToYaml() => Yaml();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private string Yaml() => Core.Clusters.SpecFile.FromClusterSpec(Internal.ModelMapper.ToCoreSpec(this)).ToYaml();

    public override string ToString() => $"{Name} ({Provider}/{Type}, {Region})";
}

/// <summary>One machine of a BareMetal spec.</summary>
public sealed class KsctlMachineSpec
{
    public string Address { get; init; } = "";
    public int Port { get; init; } = 22;
    public string User { get; init; } = "root";
    public string? KeyPath { get; init; }
    public string? HostKey { get; init; }
    public string Role { get; init; } = "";
    public string? PrivateAddress { get; init; }

    public override string ToString() => $"{Role} {Address}";
}
