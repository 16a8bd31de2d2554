using Ksctl.Core.Model;

namespace Ksctl.Core.Backup;

/// <summary>
/// One etcd snapshot of a cluster, as Get-KsctlBackup lists it. The snapshot itself lives in the state store (encrypted
/// with the state key where the store has one) or in a file written with -Path; <see cref="Location"/> says which.
/// Every number here was checked on this side (the bytes' SHA-256, etcd's own appended hash) before it was recorded.
/// </summary>
public sealed record EtcdBackup
{
    /// <summary>The cluster the snapshot was taken from; a restore refuses another cluster's snapshot.</summary>
    public required ClusterId Cluster { get; init; }
    /// <summary>"20261130T184500Z-1a2b3c": the time it was taken and a random suffix, sortable.</summary>
    public required string Id { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    /// <summary>The etcd revision the snapshot holds (from etcdctl snapshot status).</summary>
    public required long Revision { get; init; }
    /// <summary>Keys in the snapshot (etcdctl snapshot status totalKey).</summary>
    public required long TotalKeys { get; init; }
    /// <summary>The snapshot file's size in bytes.</summary>
    public required long Size { get; init; }
    /// <summary>SHA-256 of the snapshot file (lowercase hex), computed here from the bytes received.</summary>
    public required string Sha256 { get; init; }
    /// <summary>The member it was taken on ("db-0").</summary>
    public required string Member { get; init; }
    /// <summary>"store" (kept in the state store) or the full path of the file written with -Path.</summary>
    public required string Location { get; init; }

    public const string StoreLocation = "store";

    [System.Text.Json.Serialization.JsonIgnore]
    public bool InStore => Location == StoreLocation;
}
