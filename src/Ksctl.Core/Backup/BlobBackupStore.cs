using Azure;
using Azure.Storage.Blobs.Models;
using Ksctl.Core.Model;
using Ksctl.Core.Storage.AzureBlob;
using Ksctl.Core.Storage.Protection;

namespace Ksctl.Core.Backup;

/// <summary>
/// Backups of an <see cref="AzureBlobStateStore"/>: blobs <c>&lt;cluster prefix&gt;backups/&lt;id&gt;.snapshot</c>
/// and <c>&lt;id&gt;.json</c> in the state's container. A shared store never holds a plaintext secret, so a snapshot
/// (every Secret of the cluster is in it) is always AES-GCM encrypted with the state key, bound to the cluster and
/// the backup id, and its description sealed; without a key nothing is written (KsctlStateKeyMissing). A backup is
/// never overwritten (If-None-Match: *).
/// </summary>
internal sealed class BlobBackupStore(AzureBlobStateStore store) : IBackupStore
{
    public string Description => $"{store.Description} (backups)";

    private static string Prefix(ClusterId cluster) => AzureBlobStateStore.ClusterPrefix(cluster) + "backups/";

    private IBlobProtector Protector(string source) =>
        store.SecretProtector as IBlobProtector ?? throw new StateKeyMissingException(source);

    public Task SaveAsync(EtcdBackup backup, ReadOnlyMemory<byte>? snapshot, CancellationToken cancellationToken) =>
        store.GuardAsync(async () =>
        {
            var prefix = Prefix(backup.Cluster) + backup.Id;
            var protector = Protector(prefix);
            var description = BackupRecord.Encode(backup, protector.Envelope, (IStateAuthenticator)protector);
            byte[]? sealedSnapshot = snapshot is { } bytes ? protector.ProtectBytes(bytes.Span, BackupRecord.Purpose(backup.Cluster, backup.Id)) : null;
            await store.EnsureContainerReadyAsync(cancellationToken).ConfigureAwait(false);
            var once = new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } };
            if (sealedSnapshot is not null)
                await store.Container.GetBlobClient(prefix + ".snapshot").UploadAsync(BinaryData.FromBytes(sealedSnapshot), once, cancellationToken).ConfigureAwait(false);
            await store.Container.GetBlobClient(prefix + ".json").UploadAsync(BinaryData.FromBytes(description), once, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    public Task<IReadOnlyList<EtcdBackup>> ListAsync(ClusterId cluster, Action<BackupInvalidException> invalid, CancellationToken cancellationToken) =>
        store.GuardAsync(async () =>
        {
            var result = new List<EtcdBackup>();
            var prefix = Prefix(cluster);
            try
            {
                await foreach (var item in store.Container.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, cancellationToken).ConfigureAwait(false))
                {
                    if (!item.Name.EndsWith(".json", StringComparison.Ordinal)) continue;
                    var id = item.Name[prefix.Length..^".json".Length];
                    if (!BackupRecord.IsValidId(id)) continue;
                    try
                    {
                        if (await ReadAsync(cluster, id, cancellationToken).ConfigureAwait(false) is { } b) result.Add(b.Backup);
                    }
                    catch (BackupInvalidException ex) { invalid(ex); }
                }
            }
            catch (RequestFailedException ex) when (ex.Status == 404) { } // no container yet
            return (IReadOnlyList<EtcdBackup>)result.OrderBy(b => b.CreatedAt).ToList();
        }, cancellationToken);

    public Task<EtcdBackup?> GetAsync(ClusterId cluster, string id, CancellationToken cancellationToken) =>
        store.GuardAsync(async () => BackupRecord.IsValidId(id) ? (await ReadAsync(cluster, id, cancellationToken).ConfigureAwait(false))?.Backup : null, cancellationToken);

    private async Task<(EtcdBackup Backup, string Encoding)?> ReadAsync(ClusterId cluster, string id, CancellationToken cancellationToken)
    {
        var name = Prefix(cluster) + id + ".json";
        BlobDownloadResult result;
        try { result = (await store.Container.GetBlobClient(name).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value; }
        catch (RequestFailedException ex) when (ex.Status == 404) { return null; }
        var decoded = BackupRecord.Decode(result.Content.ToMemory().Span, cluster, name, (IStateAuthenticator)Protector(name));
        if (decoded.Backup.Id != id) throw new BackupInvalidException(name, $"it describes backup {decoded.Backup.Id}, not {id}");
        return decoded;
    }

    public Task DeleteAsync(EtcdBackup backup, CancellationToken cancellationToken) =>
        store.GuardAsync(async () =>
        {
            if (!BackupRecord.IsValidId(backup.Id)) throw new BackupNotFoundException(ClusterId.Printable(backup.Id), Description);
            var prefix = Prefix(backup.Cluster) + backup.Id;
            foreach (var name in new[] { prefix + ".json", prefix + ".snapshot" })
            {
                try { await store.Container.GetBlobClient(name).DeleteAsync(DeleteSnapshotsOption.IncludeSnapshots, null, cancellationToken).ConfigureAwait(false); }
                catch (RequestFailedException ex) when (ex.Status == 404) { }
            }
            return true;
        }, cancellationToken);

    public Task<byte[]> ReadSnapshotAsync(EtcdBackup backup, CancellationToken cancellationToken) =>
        store.GuardAsync(async () =>
        {
            var record = await ReadAsync(backup.Cluster, backup.Id, cancellationToken).ConfigureAwait(false) ?? throw new BackupNotFoundException(backup.Id, Description);
            var name = Prefix(backup.Cluster) + backup.Id + ".snapshot";
            var blob = store.Container.GetBlobClient(name);
            BlobProperties properties;
            try { properties = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value; }
            catch (RequestFailedException ex) when (ex.Status == 404) { throw new BackupNotFoundException(backup.Id, Description); }
            if (properties.ContentLength > EtcdSnapshot.MaxBytes + 64) throw new BackupInvalidException(backup.Id, $"its stored snapshot has {properties.ContentLength} bytes, more than any backup may have");
            var content = (await blob.DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content.ToArray();
            return BackupProtection.Reveal(content, record.Encoding, store.SecretProtector, backup, name);
        }, cancellationToken);
}
