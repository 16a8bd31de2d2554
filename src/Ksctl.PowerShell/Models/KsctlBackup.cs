namespace Ksctl.PowerShell.Models;

/// <summary>
/// One etcd backup of a cluster, as Get-KsctlBackup and Backup-KsctlCluster return it. Name, Provider, Type, Region
/// and Id bind by property name, so a backup pipes into Restore-KsctlCluster.
/// </summary>
public sealed class KsctlBackup
{
    /// <summary>The cluster's name.</summary>
    public string Name { get; init; } = "";
    public string Provider { get; init; } = "";
    public string Type { get; init; } = "";
    public string Region { get; init; } = "";
    /// <summary>The backup's id (give it to Restore-KsctlCluster -Backup).</summary>
    public string Id { get; init; } = "";
    public DateTimeOffset CreatedAt { get; init; }
    /// <summary>The etcd revision the snapshot holds.</summary>
    public long Revision { get; init; }
    /// <summary>Keys in the snapshot.</summary>
    public long TotalKeys { get; init; }
    /// <summary>The snapshot's size in bytes.</summary>
    public long Size { get; init; }
    /// <summary>SHA-256 of the snapshot, checked again before a restore.</summary>
    public string Sha256 { get; init; } = "";
    /// <summary>The etcd member it was taken on.</summary>
    public string Member { get; init; } = "";
    /// <summary>"store" (in the state store) or the file written with -Path.</summary>
    public string Location { get; init; } = "";

    public override string ToString() => Id;
}
