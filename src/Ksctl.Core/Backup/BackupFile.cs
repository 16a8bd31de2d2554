using Ksctl.Core.Diagnostics;
using Ksctl.Core.Storage;
using Ksctl.Core.Storage.Protection;

namespace Ksctl.Core.Backup;

/// <summary>
/// A backup written with -Path: the snapshot exactly as etcd saved it (so etcdutl/etcdctl can restore it by hand too)
/// and <c>&lt;path&gt;.json</c> describing it (cluster, revision, SHA-256; sealed with the state key when the store has
/// one). Both are 0600 and written atomically; an existing file is never overwritten.
/// </summary>
internal static class BackupFile
{
    public static string DescriptionPath(string path) => path + ".json";

    /// <summary>The full path, checked before anything runs: its folder exists, neither file does. Throws <see cref="InvalidSpecException"/> naming Path.</summary>
    public static string CheckTarget(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new InvalidSpecException("Path", "give the file to write the snapshot to.");
        string full;
        try { full = Path.GetFullPath(path); }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException) { throw new InvalidSpecException("Path", $"'{path}' is not a valid path ({ex.Message})."); }
        var dir = Path.GetDirectoryName(full);
        if (dir is null || !Directory.Exists(dir)) throw new InvalidSpecException("Path", $"the folder '{dir}' does not exist.");
        if (Directory.Exists(full)) throw new InvalidSpecException("Path", $"'{full}' is a folder; give a file name.");
        if (File.Exists(full) || File.Exists(DescriptionPath(full))) throw new InvalidSpecException("Path", $"'{full}' (or its .json description) exists already; backups never overwrite a file.");
        return full;
    }

    public static void Write(string path, EtcdBackup backup, ReadOnlySpan<byte> snapshot, ISecretProtector? protector)
    {
        SecureFile.WriteAtomic(path, snapshot);
        SecureFile.WriteAtomic(DescriptionPath(path), BackupRecord.Encode(backup, BackupRecord.PlainEncoding, protector as IStateAuthenticator));
    }

    /// <summary>Reads and checks a backup file and its description (the caller checks the cluster).</summary>
    public static (EtcdBackup Backup, byte[] Snapshot) Read(string path, ISecretProtector? protector)
    {
        var full = Path.GetFullPath(path);
        var description = DescriptionPath(full);
        if (!File.Exists(full)) throw new BackupNotFoundException(full, "the file system");
        if (!File.Exists(description)) throw new BackupInvalidException(full, $"its description '{description}' is missing; restore files written by Backup-KsctlCluster -Path");
        var (backup, encoding) = BackupRecord.Decode(File.ReadAllBytes(description), null, description, protector as IStateAuthenticator);
        if (encoding != BackupRecord.PlainEncoding) throw new BackupInvalidException(full, $"its description says '{encoding}', but a -Path snapshot is written as etcd saved it");
        var length = new FileInfo(full).Length;
        if (length != backup.Size) throw new BackupInvalidException(full, $"the file has {length} bytes, its description says {backup.Size}");
        return (backup, File.ReadAllBytes(full));
    }
}
