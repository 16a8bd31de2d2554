namespace Ksctl.PowerShell.Models;

/// <summary>One machine (or node-pool member) of a cluster.</summary>
public sealed class KsctlNode
{
    public string Name { get; init; } = "";
    /// <summary>LoadBalancer, Datastore, ControlPlane or Worker.</summary>
    public string Role { get; init; } = "";
    public string? Size { get; init; }
    public string? PublicIP { get; init; }
    public string? PrivateIP { get; init; }

    public override string ToString() => Name;
}
