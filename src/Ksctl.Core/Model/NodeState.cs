namespace Ksctl.Core.Model;

/// <summary>One machine or node pool member as recorded in state.</summary>
public sealed class NodeState
{
    public required string Name { get; set; }
    /// <summary>Stable key within the cluster: "lb", "db-0", "cp-1", "wp-2" (managed pools: the node name).</summary>
    public string? Key { get; set; }
    public required NodeRole Role { get; set; }
    public int Index { get; set; }
    public string? Size { get; set; }
    public string? PublicIP { get; set; }
    public string? PrivateIP { get; set; }
    /// <summary>The cloud's id for the machine (or the SSH address for BareMetal).</summary>
    public string? ResourceId { get; set; }
    /// <summary>Pinned SSH host key fingerprint ("SHA256:...").</summary>
    public string? HostKey { get; set; }
    /// <summary>The machine's hostname, which is also its Kubernetes Node name.</summary>
    public string? Hostname { get; set; }
    public string? SshUser { get; set; }
    public int SshPort { get; set; } = 22;
    /// <summary>Private key file for SSH (BareMetal); cloud providers keep a generated key in the state's secrets.</summary>
    public string? SshKeyPath { get; set; }
}
