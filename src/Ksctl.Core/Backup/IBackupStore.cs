using Ksctl.Core.Model;

namespace Ksctl.Core.Backup;

/// <summary>
/// Where a state store keeps its clusters' etcd snapshots: beside the state, encrypted with the state key when the
/// store has one (a file store without a key keeps them as 0600 files, as it keeps secrets). A backup written to
/// -Path is recorded here too (description only), so Get-KsctlBackup lists it.
/// </summary>
internal interface IBackupStore
{
    string Description { get; }

    /// <summary>Writes the description and, when given, the snapshot (atomically, the snapshot first).</summary>
    Task SaveAsync(EtcdBackup backup, ReadOnlyMemory<byte>? snapshot, CancellationToken cancellationToken);

    /// <summary>The cluster's backups, oldest first; a description that fails its checks is reported through <paramref name="invalid"/> and skipped.</summary>
    Task<IReadOnlyList<EtcdBackup>> ListAsync(ClusterId cluster, Action<BackupInvalidException> invalid, CancellationToken cancellationToken);

    /// <summary>One backup's checked description, or null.</summary>
    Task<EtcdBackup?> GetAsync(ClusterId cluster, string id, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes a backup: its description first (so a listed backup always has its snapshot), then its snapshot. A
    /// backup written to -Path loses only its listing: the file is the user's and stays.
    /// </summary>
    Task DeleteAsync(EtcdBackup backup, CancellationToken cancellationToken);

    /// <summary>The snapshot's bytes, decrypted; checked against the description by the caller.</summary>
    Task<byte[]> ReadSnapshotAsync(EtcdBackup backup, CancellationToken cancellationToken);
}
