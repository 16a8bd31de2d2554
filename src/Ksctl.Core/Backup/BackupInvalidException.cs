using Ksctl.Core.Diagnostics;

namespace Ksctl.Core.Backup;

/// <summary>
/// A snapshot Ksctl refuses to keep or to restore: damaged (etcd's appended SHA-256 or the recorded one does not
/// match), not an etcd snapshot, too large, of another cluster, or described by data that breaks its rules.
/// Raised before anything is changed on the cluster.
/// </summary>
public sealed class BackupInvalidException(string backup, string reason)
    : KsctlException("KsctlBackupInvalid", KsctlErrorCategory.InvalidData, $"Backup {backup} was refused: {reason}", backup)
{
    public string Reason { get; } = reason;
}

/// <summary>No backup with that id in the store (or no file at that path).</summary>
public sealed class BackupNotFoundException(string backup, string where)
    : KsctlException("KsctlBackupNotFound", KsctlErrorCategory.ObjectNotFound, $"Backup {backup} was not found in {where}. List them with Get-KsctlBackup.", backup);
