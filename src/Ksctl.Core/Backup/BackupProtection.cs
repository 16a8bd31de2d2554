using Ksctl.Core.Storage.Protection;

namespace Ksctl.Core.Backup;

/// <summary>How a stored snapshot's encoding is read back: encrypted where the store has a key, and never plaintext there.</summary>
internal static class BackupProtection
{
    public static byte[] Reveal(byte[] stored, string encoding, ISecretProtector? protector, EtcdBackup backup, string source)
    {
        if (protector is IBlobProtector blob)
        {
            if (encoding != blob.Envelope)
                throw new BackupInvalidException(backup.Id, $"its snapshot is stored as '{encoding}', but this store encrypts every snapshot with its state key ({blob.Envelope}); it was put there by hand or by another tool");
            try { return blob.UnprotectBytes(stored, BackupRecord.Purpose(backup.Cluster, backup.Id)); }
            catch (StateKeyInvalidException ex) { throw new StateKeyInvalidException(source, ex.Reason, ex); }
        }
        if (encoding == BackupRecord.PlainEncoding) return stored;
        throw new StateKeyMissingException(source);
    }
}
