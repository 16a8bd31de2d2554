namespace Ksctl.Core.Model;

/// <summary>One machine or node pool member as recorded in state.</summary>
public sealed class NodeState
{
    public required string Name { get; set; }
    public required NodeRole Role { get; set; }
    public int Index { get; set; }
    public string? Size { get; set; }
    public string? PublicIP { get; set; }
    public string? PrivateIP { get; set; }
    /// <summary>The cloud's id for the machine (or the SSH address for BareMetal).</summary>
    public string? ResourceId { get; set; }
    /// <summary>Pinned SSH host key fingerprint.</summary>
    public string? HostKey { get; set; }
}
