using Ksctl.Core.Model;
using Ksctl.Core.Storage;
using Ksctl.Core.Storage.Protection;

namespace Ksctl.Core.Backup;

/// <summary>
/// Backups of a <see cref="FileStateStore"/>: <c>&lt;cluster folder&gt;/backups/&lt;id&gt;.json</c> and
/// <c>&lt;id&gt;.snapshot</c>, 0600 files in 0700 folders, written atomically (snapshot first, description last, so a
/// listed backup always has its snapshot). With the store's state key the snapshot is AES-GCM encrypted (bound to
/// the cluster and the backup id) and the description sealed; without one they are protected by the file mode, as
/// the state's secrets are.
/// </summary>
internal sealed class FileBackupStore(FileStateStore store) : IBackupStore
{
    public const string Folder = "backups";

    public string Description => $"{store.Description} ({Folder})";

    private string Dir(ClusterId cluster) => Path.Combine(store.ClusterDirectory(cluster), Folder);

    private static string Checked(string id) =>
        BackupRecord.IsValidId(id) ? id : throw new Diagnostics.InvalidSpecException("Backup", $"'{ClusterId.Printable(id)}' is not a backup id (like 20261130T184500Z-1a2b3c; see Get-KsctlBackup).");

    public Task SaveAsync(EtcdBackup backup, ReadOnlyMemory<byte>? snapshot, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var dir = Dir(backup.Cluster);
        var id = Checked(backup.Id);
        var encoding = BackupRecord.PlainEncoding;
        if (snapshot is { } bytes)
        {
            var stored = bytes.ToArray();
            if (store.Protector is IBlobProtector blob)
            {
                stored = blob.ProtectBytes(bytes.Span, BackupRecord.Purpose(backup.Cluster, id));
                encoding = blob.Envelope;
            }
            SecureFile.WriteAtomic(Path.Combine(dir, id + ".snapshot"), stored);
        }
        SecureFile.WriteAtomic(Path.Combine(dir, id + ".json"), BackupRecord.Encode(backup, encoding, store.Protector as IStateAuthenticator));
        return Task.CompletedTask;
    }

    public async Task<IReadOnlyList<EtcdBackup>> ListAsync(ClusterId cluster, Action<BackupInvalidException> invalid, CancellationToken cancellationToken)
    {
        var dir = Dir(cluster);
        var result = new List<EtcdBackup>();
        if (!Directory.Exists(dir)) return result;
        foreach (var file in Directory.EnumerateFiles(dir, "*.json").Order(StringComparer.Ordinal))
        {
            var id = Path.GetFileNameWithoutExtension(file);
            if (!BackupRecord.IsValidId(id)) continue;
            try
            {
                if (await ReadAsync(cluster, id, cancellationToken).ConfigureAwait(false) is { } b) result.Add(b.Backup);
            }
            catch (BackupInvalidException ex) { invalid(ex); }
        }
        return result.OrderBy(b => b.CreatedAt).ToList();
    }

    public async Task<EtcdBackup?> GetAsync(ClusterId cluster, string id, CancellationToken cancellationToken) =>
        (await ReadAsync(cluster, Checked(id), cancellationToken).ConfigureAwait(false))?.Backup;

    private async Task<(EtcdBackup Backup, string Encoding)?> ReadAsync(ClusterId cluster, string id, CancellationToken cancellationToken)
    {
        var path = Path.Combine(Dir(cluster), id + ".json");
        byte[] json;
        try { json = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false); }
        catch (FileNotFoundException) { return null; }
        catch (DirectoryNotFoundException) { return null; }
        var decoded = BackupRecord.Decode(json, cluster, path, store.Protector as IStateAuthenticator);
        // A description stored under another id's name is not that backup.
        if (decoded.Backup.Id != id) throw new BackupInvalidException(path, $"it describes backup {decoded.Backup.Id}, not {id}");
        return decoded;
    }

    public Task DeleteAsync(EtcdBackup backup, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var id = Checked(backup.Id);
        var dir = Dir(backup.Cluster);
        foreach (var file in new[] { id + ".json", id + ".snapshot" })
        {
            var path = Path.Combine(dir, file);
            if (File.Exists(path)) File.Delete(path);
        }
        return Task.CompletedTask;
    }

    public async Task<byte[]> ReadSnapshotAsync(EtcdBackup backup, CancellationToken cancellationToken)
    {
        var id = Checked(backup.Id);
        var record = await ReadAsync(backup.Cluster, id, cancellationToken).ConfigureAwait(false)
            ?? throw new BackupNotFoundException(id, Description);
        var path = Path.Combine(Dir(backup.Cluster), id + ".snapshot");
        var info = new FileInfo(path);
        if (!info.Exists) throw new BackupNotFoundException(id, Description);
        // Never read more than a snapshot may be (plus the encryption's overhead) into memory.
        if (info.Length > EtcdSnapshot.MaxBytes + 64) throw new BackupInvalidException(id, $"its stored snapshot has {info.Length} bytes, more than any backup may have");
        var bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        return BackupProtection.Reveal(bytes, record.Encoding, store.Protector, backup, path);
    }
}
