using System.Security.Cryptography;
using System.Text;
using Ksctl.Core.Backup;
using Ksctl.Core.Model;
using Ksctl.Core.Storage;
using Ksctl.Core.Storage.AzureBlob;
using Ksctl.Core.Storage.Protection;
using Ksctl.Storage.Tests.Harness;
using Xunit;

namespace Ksctl.Storage.Tests;

/// <summary>
/// Where etcd backups are kept: beside the state in both stores, encrypted with the state key (bound to the cluster and
/// the backup id) and their descriptions sealed, so a snapshot or description changed or moved by someone without the
/// key is refused; the Azure Blob store never keeps one without a key; a file store without a key keeps 0600 files.
/// </summary>
[Collection("azurite")]
public sealed class BackupStoreTests(AzuriteFixture fixture) : IDisposable
{
    private readonly ISecretProtector _key = StateKey.FromBase64(StateKey.Generate());
    private readonly string _root = Directory.CreateTempSubdirectory("ksctl-backups-").FullName;
    private readonly string _container = TestStates.NewContainer();
    private static readonly ClusterId Cluster = TestStates.Id("lab", "lab", CloudProvider.BareMetal);

    public void Dispose()
    {
        try { Directory.Delete(_root, true); } catch (IOException) { }
    }

    private static (EtcdBackup Backup, byte[] Snapshot) Snapshot(ClusterId cluster, string id = "20261130T184500Z-1a2b3c")
    {
        var body = new byte[4 * 4096];
        BitConverter.GetBytes(0xED0CDAEDu).CopyTo(body, 16);
        RandomNumberGenerator.Fill(body.AsSpan(4096));
        var snapshot = body.Concat(SHA256.HashData(body)).ToArray();
        Assert.Null(EtcdSnapshot.Problem(snapshot));
        return (new EtcdBackup
        {
            Cluster = cluster, Id = id, CreatedAt = DateTimeOffset.UtcNow, Revision = 9, TotalKeys = 4, Size = snapshot.Length,
            Sha256 = EtcdSnapshot.Sha256Hex(snapshot), Member = "db-0", Location = EtcdBackup.StoreLocation,
        }, snapshot);
    }

    [Fact]
    public async Task A_file_store_with_a_state_key_encrypts_the_snapshot_and_refuses_a_changed_description()
    {
        var store = new FileBackupStore(new FileStateStore(_root, _key));
        var (backup, snapshot) = Snapshot(Cluster);
        await store.SaveAsync(backup, snapshot, default);

        var dir = Path.Combine(new FileStateStore(_root, _key).ClusterDirectory(Cluster), "backups");
        var stored = File.ReadAllBytes(Path.Combine(dir, backup.Id + ".snapshot"));
        Assert.False(stored.AsSpan().IndexOf(snapshot.AsSpan(4096, 64)) >= 0, "the snapshot is stored in plaintext");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dir, backup.Id + ".snapshot")));
        Assert.Equal(snapshot, await store.ReadSnapshotAsync(backup, default));
        Assert.Equal([backup], await store.ListAsync(Cluster, _ => Assert.Fail("no invalid backup"), default));

        // Someone without the key raises the revision: the sealed description no longer verifies.
        var description = Path.Combine(dir, backup.Id + ".json");
        var original = File.ReadAllText(description);
        var changed = System.Text.RegularExpressions.Regex.Replace(original, "(\"revision\"\\s*:\\s*)9", "${1}10");
        Assert.NotEqual(original, changed);
        File.WriteAllText(description, changed);
        var invalid = new List<BackupInvalidException>();
        Assert.Empty(await store.ListAsync(Cluster, invalid.Add, default));
        Assert.Contains("integrity tag", Assert.Single(invalid).Message);
        Assert.Equal("KsctlBackupInvalid", invalid[0].ErrorId);
    }

    [Fact]
    public async Task A_file_store_without_a_key_keeps_a_private_plain_file_and_refuses_an_id_that_is_no_backup_id()
    {
        var store = new FileBackupStore(new FileStateStore(_root, protector: null));
        var (backup, snapshot) = Snapshot(Cluster);
        await store.SaveAsync(backup, snapshot, default);
        Assert.Equal(snapshot, await store.ReadSnapshotAsync(backup, default));
        var bad = await Assert.ThrowsAsync<Ksctl.Core.Diagnostics.InvalidSpecException>(() => store.GetAsync(Cluster, "../../state", default));
        Assert.Equal("Backup", bad.Parameter);
    }

    [Fact]
    public async Task The_blob_store_encrypts_binds_to_the_cluster_and_never_overwrites()
    {
        var state = TestStates.Store(fixture.Azurite, _container, _key);
        var store = new BlobBackupStore(state);
        var (backup, snapshot) = Snapshot(Cluster);
        await store.SaveAsync(backup, snapshot, default);

        var raw = TestStates.RawContainer(fixture.Azurite, _container);
        var prefix = AzureBlobStateStore.ClusterPrefix(Cluster) + "backups/" + backup.Id;
        var sealedBytes = (await raw.GetBlobClient(prefix + ".snapshot").DownloadContentAsync()).Value.Content.ToArray();
        Assert.False(sealedBytes.AsSpan().IndexOf(snapshot.AsSpan(4096, 64)) >= 0, "the snapshot is stored in plaintext");
        Assert.Contains("ksctl-hmac:v1:", Encoding.UTF8.GetString((await raw.GetBlobClient(prefix + ".json").DownloadContentAsync()).Value.Content.ToArray()));
        Assert.Equal(snapshot, await store.ReadSnapshotAsync(backup, default));
        Assert.Equal([backup], await store.ListAsync(Cluster, _ => Assert.Fail("no invalid backup"), default));
        await Assert.ThrowsAnyAsync<Exception>(() => store.SaveAsync(backup, snapshot, default));

        // The same encrypted snapshot copied under another cluster does not decrypt there (and its description names the first cluster).
        var other = TestStates.Id("other", "lab", CloudProvider.BareMetal);
        var otherPrefix = AzureBlobStateStore.ClusterPrefix(other) + "backups/" + backup.Id;
        await raw.GetBlobClient(otherPrefix + ".snapshot").UploadAsync(BinaryData.FromBytes(sealedBytes));
        await raw.GetBlobClient(otherPrefix + ".json").UploadAsync((await raw.GetBlobClient(prefix + ".json").DownloadContentAsync()).Value.Content);
        var invalid = new List<BackupInvalidException>();
        Assert.Empty(await store.ListAsync(other, invalid.Add, default));
        Assert.Contains("belongs to cluster", Assert.Single(invalid).Message);
        await Assert.ThrowsAsync<BackupInvalidException>(() => store.ReadSnapshotAsync(backup with { Cluster = other }, default));
    }

    [Fact]
    public async Task Remove_KsctlBackup_deletes_a_backups_description_and_snapshot_from_either_store_and_nothing_else()
    {
        var state = TestStates.Store(fixture.Azurite, _container, _key);
        IBackupStore[] stores = [new BlobBackupStore(state), new FileBackupStore(new FileStateStore(_root, _key))];
        foreach (var store in stores)
        {
            var (kept, keptSnapshot) = Snapshot(Cluster, "20261130T184500Z-1a2b3c");
            var (removed, removedSnapshot) = Snapshot(Cluster, "20261201T090000Z-abcdef");
            await store.SaveAsync(kept, keptSnapshot, default);
            await store.SaveAsync(removed, removedSnapshot, default);

            await store.DeleteAsync(removed, default);

            Assert.Equal([kept], await store.ListAsync(Cluster, _ => Assert.Fail("no invalid backup"), default));
            Assert.Null(await store.GetAsync(Cluster, removed.Id, default));
            await Assert.ThrowsAsync<BackupNotFoundException>(() => store.ReadSnapshotAsync(removed, default));
            Assert.Equal(keptSnapshot, await store.ReadSnapshotAsync(kept, default));
            // Deleting again is no error (both halves are already gone).
            await store.DeleteAsync(removed, default);
        }
        var raw = TestStates.RawContainer(fixture.Azurite, _container);
        var names = new List<string>();
        await foreach (var blob in raw.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, AzureBlobStateStore.ClusterPrefix(Cluster) + "backups/", default)) names.Add(blob.Name);
        Assert.All(names, n => Assert.Contains("20261130T184500Z-1a2b3c", n));
        Assert.Equal(2, names.Count);
    }

    [Fact]
    public async Task The_blob_store_without_a_state_key_writes_nothing()
    {
        var state = TestStates.Store(fixture.Azurite, _container, null);
        var store = new BlobBackupStore(state);
        var (backup, snapshot) = Snapshot(Cluster);
        await Assert.ThrowsAsync<StateKeyMissingException>(() => store.SaveAsync(backup, snapshot, default));
        var raw = TestStates.RawContainer(fixture.Azurite, _container);
        var blobs = 0;
        if (await raw.ExistsAsync()) await foreach (var _ in raw.GetBlobsAsync()) blobs++;
        Assert.Equal(0, blobs);
    }
}
