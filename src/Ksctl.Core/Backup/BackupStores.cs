using Ksctl.Core.Diagnostics;
using Ksctl.Core.Storage;

namespace Ksctl.Core.Backup;

/// <summary>The backup store beside each kind of state store.</summary>
internal static class BackupStores
{
    public static IBackupStore For(IStateStore store) => store switch
    {
        FileStateStore file => new FileBackupStore(file),
        Storage.AzureBlob.AzureBlobStateStore blob => new BlobBackupStore(blob),
        _ => throw new KsctlException("KsctlBackupStoreUnavailable", KsctlErrorCategory.NotImplemented,
            $"The state store {store.Description} cannot keep backups; write the backup to a file with -Path."),
    };
}
