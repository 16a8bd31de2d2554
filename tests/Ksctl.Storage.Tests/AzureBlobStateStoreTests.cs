using System.Text;
using Azure;
using Azure.Storage.Blobs.Specialized;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Storage;
using Ksctl.Core.Storage.AzureBlob;
using Ksctl.Core.Storage.Protection;
using Ksctl.Storage.Tests.Harness;
using Xunit;

namespace Ksctl.Storage.Tests;

[Collection("azurite")]
public sealed class AzureBlobStateStoreTests(AzuriteFixture fixture)
{
    private readonly AzuriteInstance _azurite = fixture.Azurite;
    private readonly ISecretProtector _key = StateKey.FromBase64(StateKey.Generate());
    private readonly string _container = TestStates.NewContainer();

    private AzureBlobStateStore NewStore(ISecretProtector? key = null, LockHolderIdentity? holder = null, IProgress<KsctlEvent>? events = null, TimeSpan? renew = null) =>
        TestStates.Store(_azurite, _container, key ?? _key, holder, events, renew);

    private async Task<byte[]> RawDocument(ClusterId id) =>
        (await TestStates.RawContainer(_azurite, _container).GetBlobClient(AzureBlobStateStore.DocumentBlobName(id)).DownloadContentAsync()).Value.Content.ToArray();

    private async Task<bool> RawExists(string blobName) =>
        (await TestStates.RawContainer(_azurite, _container).GetBlobClient(blobName).ExistsAsync()).Value;

    [Fact]
    public async Task Write_read_list_delete_round_trip()
    {
        var store = NewStore();
        var a = TestStates.State(TestStates.Id("alpha", "eastus"));
        var b = TestStates.State(TestStates.Id("beta", "westeurope"));
        var c = TestStates.State(TestStates.Id("gamma", "fra1", CloudProvider.Civo, ClusterType.Managed), secrets: false);
        await store.WriteAsync(a, default);
        await store.WriteAsync(b, default);
        await store.WriteAsync(c, default);

        // The layout is the file store's, under the container.
        Assert.True(await RawExists("azure/selfmanaged/alpha eastus/state.json"));
        Assert.True(await RawExists("civo/managed/gamma fra1/state.json"));

        var read = await store.ReadAsync(a.Id, default);
        Assert.NotNull(read);
        Assert.Equal(StateSerializer.Serialize(a), StateSerializer.Serialize(read!));
        Assert.Null(await store.ReadAsync(TestStates.Id("missing"), default));

        var all = await store.ListAsync(ClusterQuery.All, default).ToListAsync();
        Assert.Equal(["alpha", "beta", "gamma"], all.Select(s => s.Id.Name).Order().ToArray());
        Assert.Equal(TestStates.SshKey, all.Single(s => s.Id.Name == "beta").Secrets["ssh-private-key"]);
        Assert.Equal(["gamma"], (await store.ListAsync(new ClusterQuery { Provider = CloudProvider.Civo }, default).ToListAsync()).Select(s => s.Id.Name));
        Assert.Equal(["beta"], (await store.ListAsync(new ClusterQuery { Region = "WestEurope" }, default).ToListAsync()).Select(s => s.Id.Name));
        Assert.Equal(["alpha"], (await store.ListAsync(new ClusterQuery { Provider = CloudProvider.Azure, Type = ClusterType.SelfManaged, NameMatches = n => n.StartsWith('a') }, default).ToListAsync()).Select(s => s.Id.Name));

        // Update goes through (the store saw the ETag it wrote).
        a.Status = ClusterStatus.Running;
        await store.WriteAsync(a, default);
        Assert.Equal(ClusterStatus.Running, (await NewStore().ReadAsync(a.Id, default))!.Status);

        await using (await store.AcquireLockAsync(a.Id, "delete", false, default))
        {
            Assert.True(await RawExists(AzureBlobStateStore.LockBlobName(a.Id)));
            await store.DeleteAsync(a.Id, default);
        }
        Assert.Null(await store.ReadAsync(a.Id, default));
        Assert.False(await RawExists(AzureBlobStateStore.DocumentBlobName(a.Id)));
        Assert.False(await RawExists(AzureBlobStateStore.LockBlobName(a.Id)));
        await store.DeleteAsync(a.Id, default); // deleting a missing document is not an error
        Assert.Equal(["beta", "gamma"], (await store.ListAsync(ClusterQuery.All, default).ToListAsync()).Select(s => s.Id.Name).Order().ToArray());
    }

    [Fact]
    public async Task Listing_an_absent_container_finds_nothing_and_reading_gives_null()
    {
        var store = NewStore();
        Assert.Empty(await store.ListAsync(ClusterQuery.All, default).ToListAsync());
        Assert.Null(await store.ReadAsync(TestStates.Id(), default));
    }

    [Fact]
    public async Task Stored_blob_holds_no_plaintext_secret_and_decrypts_with_the_key()
    {
        var store = NewStore();
        var state = TestStates.State();
        var before = StateSerializer.Serialize(state);
        await store.WriteAsync(state, default);

        // The live state was not touched.
        Assert.Equal(before, StateSerializer.Serialize(state));

        var raw = await RawDocument(state.Id);
        var text = Encoding.UTF8.GetString(raw);
        foreach (var secret in new[] { TestStates.Kubeconfig, TestStates.SshKey, TestStates.K3sToken, "PLAINTEXT" })
            Assert.DoesNotContain(secret, text);

        // Still the one document shape, with protected values that the key opens.
        var stored = StateSerializer.Deserialize(raw, "raw");
        Assert.Equal(state.Secrets.Keys.Order(), stored.Secrets.Keys.Order());
        foreach (var (name, value) in stored.Secrets)
        {
            Assert.StartsWith("ksctl-aesgcm:v1:", value);
            // Bound to this cluster and this name (associated data), so it opens nowhere else.
            Assert.Equal(state.Secrets[name], _key.Unprotect(value, ProtectedSecrets.Purpose(state.Id, name)));
            Assert.Throws<StateKeyInvalidException>(() => _key.Unprotect(value, name));
        }
        Assert.Equal(state.Resources, stored.Resources);
        var props = await TestStates.RawContainer(_azurite, _container).GetBlobClient(AzureBlobStateStore.DocumentBlobName(state.Id)).GetPropertiesAsync();
        Assert.Equal(_key.KeyId, props.Value.Metadata["ksctlkeyid"]);
    }

    [Fact]
    public async Task Wrong_or_missing_key_is_a_clear_error()
    {
        var state = TestStates.State();
        await NewStore().WriteAsync(state, default);

        var wrong = StateKey.FromBase64(StateKey.Generate());
        var ex = await Assert.ThrowsAsync<StateKeyInvalidException>(() => NewStore(wrong).ReadAsync(state.Id, default));
        Assert.Equal("KsctlStateKeyInvalid", ex.ErrorId);
        Assert.Equal(KsctlErrorCategory.SecurityError, ex.Category);
        Assert.Contains("different key", ex.Message);
        Assert.Contains(wrong.KeyId, ex.Message);
        var listed = await Assert.ThrowsAsync<StateKeyInvalidException>(async () => await NewStore(wrong).ListAsync(ClusterQuery.All, default).ToListAsync());
        Assert.Equal("KsctlStateKeyInvalid", listed.ErrorId);

        // No key at all: reading a document with secrets, or writing one, says how to configure it.
        var noKey = (AzureBlobStateStore)AzureBlobStateStore.FromConnectionString(_azurite.ConnectionString, _container,
            new AzureBlobStateStoreOptions { StateKeyPath = null, SecretProtector = null });
        var saved = (Environment.GetEnvironmentVariable(StateKey.EnvironmentVariable), Environment.GetEnvironmentVariable(StateKey.FileEnvironmentVariable));
        try
        {
            Environment.SetEnvironmentVariable(StateKey.EnvironmentVariable, null);
            Environment.SetEnvironmentVariable(StateKey.FileEnvironmentVariable, null);
            var missing = await Assert.ThrowsAsync<StateKeyMissingException>(() => noKey.ReadAsync(state.Id, default));
            Assert.Equal("KsctlStateKeyMissing", missing.ErrorId);
            Assert.Contains("KSCTL_STATE_KEY", missing.Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable(StateKey.EnvironmentVariable, saved.Item1);
            Environment.SetEnvironmentVariable(StateKey.FileEnvironmentVariable, saved.Item2);
        }

        // The document is intact for the right key.
        Assert.Equal(TestStates.K3sToken, (await NewStore().ReadAsync(state.Id, default))!.Secrets["k3s-token"]);
    }

    [Fact]
    public async Task Key_from_KSCTL_STATE_KEY_is_used_when_none_is_given()
    {
        var key = StateKey.Generate();
        var saved = Environment.GetEnvironmentVariable(StateKey.EnvironmentVariable);
        Environment.SetEnvironmentVariable(StateKey.EnvironmentVariable, key);
        try
        {
            var store = AzureBlobStateStore.FromConnectionString(_azurite.ConnectionString, _container);
            var state = TestStates.State();
            await store.WriteAsync(state, default);
            var stored = StateSerializer.Deserialize(await RawDocument(state.Id), "raw");
            Assert.Equal(TestStates.K3sToken, StateKey.FromBase64(key).Unprotect(stored.Secrets["k3s-token"], ProtectedSecrets.Purpose(state.Id, "k3s-token")));
        }
        finally { Environment.SetEnvironmentVariable(StateKey.EnvironmentVariable, saved); }
    }

    [Fact]
    public async Task Second_process_gets_ClusterLocked_naming_the_first_holder_and_nothing_is_lost()
    {
        var first = NewStore(holder: new LockHolderIdentity(1111, "host-a"));
        var second = NewStore(holder: new LockHolderIdentity(2222, "host-b"));
        var id = TestStates.Id();

        var held = await first.AcquireLockAsync(id, "create", false, default);
        Assert.StartsWith("pid 1111 on host-a, create since ", held.Holder);
        var state = TestStates.State(id);
        await first.WriteAsync(state, default);

        var locked = await Assert.ThrowsAsync<ClusterLockedException>(() => second.AcquireLockAsync(id, "delete", false, default));
        Assert.Equal("KsctlClusterLocked", locked.ErrorId);
        Assert.Equal(KsctlErrorCategory.ResourceBusy, locked.Category);
        Assert.Contains("pid 1111 on host-a, create since", locked.Holder);
        Assert.Contains("pid 1111 on host-a", locked.Message);

        // Without the lock the second process may read, but not write or delete.
        var seen = await second.ReadAsync(id, default);
        seen!.Status = ClusterStatus.Deleting;
        Assert.Equal("KsctlClusterLocked", (await Assert.ThrowsAsync<ClusterLockedException>(() => second.WriteAsync(seen, default))).ErrorId);
        Assert.Equal("KsctlClusterLocked", (await Assert.ThrowsAsync<ClusterLockedException>(() => second.DeleteAsync(id, default))).ErrorId);

        // The holder carries on.
        state.Status = ClusterStatus.Running;
        await first.WriteAsync(state, default);
        await held.DisposeAsync();

        // Released: the second process takes it and sees everything the first wrote.
        await using (var next = await second.AcquireLockAsync(id, "delete", false, default))
        {
            Assert.StartsWith("pid 2222 on host-b, delete", next.Holder);
            var current = await second.ReadAsync(id, default);
            Assert.Equal(StateSerializer.Serialize(state), StateSerializer.Serialize(current!));
        }
    }

    [Fact]
    public async Task A_broken_lease_makes_the_writers_next_write_fail_and_leaves_the_blob_unchanged()
    {
        var events = new EventLog();
        var writer = NewStore(events: events, renew: TimeSpan.FromMilliseconds(200));
        var id = TestStates.Id();
        var state = TestStates.State(id);
        await using var held = await writer.AcquireLockAsync(id, "create", false, default);
        await writer.WriteAsync(state, default);
        var before = await RawDocument(id);

        // Another client breaks the lease (what an expired lease taken by someone else looks like).
        await TestStates.RawContainer(_azurite, _container).GetBlobClient(AzureBlobStateStore.LockBlobName(id)).GetBlobLeaseClient().BreakAsync(TimeSpan.Zero);

        state.Status = ClusterStatus.Running;
        state.Resources["vm:cp-0"] = "changed";
        var ex = await Assert.ThrowsAsync<StateConflictException>(() => writer.WriteAsync(state, default));
        Assert.Equal("KsctlStateConflict", ex.ErrorId);
        Assert.Equal(KsctlErrorCategory.WriteError, ex.Category);
        Assert.Contains("no longer holds the cluster's lock", ex.Message);
        Assert.Equal(before, await RawDocument(id));
        await Assert.ThrowsAsync<StateConflictException>(() => writer.DeleteAsync(id, default));
        Assert.True(await RawExists(AzureBlobStateStore.DocumentBlobName(id)));
    }

    [Fact]
    public async Task Background_renewal_notices_a_lost_lease()
    {
        var events = new EventLog();
        var writer = NewStore(events: events, renew: TimeSpan.FromMilliseconds(100));
        var id = TestStates.Id();
        await using var held = await writer.AcquireLockAsync(id, "create", false, default);
        await TestStates.RawContainer(_azurite, _container).GetBlobClient(AzureBlobStateStore.LockBlobName(id)).GetBlobLeaseClient().BreakAsync(TimeSpan.Zero);

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!events.Events.Any(e => e.Message.StartsWith("Lost the lock")) && DateTime.UtcNow < deadline) await Task.Delay(50);
        var lost = Assert.Single(events.Events, e => e.Message.StartsWith("Lost the lock"));
        Assert.Equal(KsctlLogLevel.Warning, lost.Level);
        Assert.NotNull(((AzureBlobClusterLock)held).LostReason);
    }

    [Fact]
    public async Task BreakStaleLock_breaks_a_lease_not_renewed_for_long_with_a_warning_and_the_old_holder_can_no_longer_write()
    {
        var oldEvents = new EventLog();
        var newEvents = new EventLog();
        var old = NewStore(holder: new LockHolderIdentity(1111, "host-a"), events: oldEvents);
        var force = NewStore(holder: new LockHolderIdentity(3333, "host-c"), events: newEvents);
        var id = TestStates.Id();
        var state = TestStates.State(id);
        var oldLock = await old.AcquireLockAsync(id, "create", false, default);
        await old.WriteAsync(state, default);
        // The holder stopped renewing long ago (its last recorded renewal is old), though its lease is still there.
        await AzureBlobLockTests.RecordLastRenewal(TestStates.RawContainer(_azurite, _container), id, (AzureBlobClusterLock)oldLock, DateTimeOffset.UtcNow.AddMinutes(-10));

        await using (var taken = await force.AcquireLockAsync(id, "delete", breakStale: true, default))
        {
            Assert.StartsWith("pid 3333 on host-c, delete", taken.Holder);
            var warning = Assert.Single(newEvents.Events);
            Assert.Equal(KsctlLogLevel.Warning, warning.Level);
            Assert.Contains("pid 1111 on host-a, create", warning.Message);
            Assert.Contains("pid 1111 on host-a", ((AzureBlobClusterLock)taken).BrokenHolder);
            var meta = (await TestStates.RawContainer(_azurite, _container).GetBlobClient(AzureBlobStateStore.LockBlobName(id)).GetPropertiesAsync()).Value.Metadata;
            Assert.Equal("3333", meta["ksctlpid"]);
            Assert.Contains("pid 1111 on host-a", meta["ksctlbroke"]);

            state.Status = ClusterStatus.Running;
            await Assert.ThrowsAsync<StateConflictException>(() => old.WriteAsync(state, default));
            Assert.Equal(ClusterStatus.Creating, (await force.ReadAsync(id, default))!.Status);
        }
        await oldLock.DisposeAsync(); // releasing a lock that was taken over is quiet and harmless
        Assert.DoesNotContain(oldEvents.Events, e => e.Message.StartsWith("Could not release"));
    }

    [Fact]
    public async Task A_concurrent_writer_with_a_stale_ETag_fails_instead_of_overwriting()
    {
        var one = NewStore();
        var two = NewStore();
        var id = TestStates.Id();
        var initial = TestStates.State(id);
        await one.WriteAsync(initial, default);

        var a = (await one.ReadAsync(id, default))!;
        var b = (await two.ReadAsync(id, default))!;
        a.Resources["by"] = "one";
        await one.WriteAsync(a, default);
        b.Resources["by"] = "two";
        var ex = await Assert.ThrowsAsync<StateConflictException>(() => two.WriteAsync(b, default));
        Assert.Equal("KsctlStateConflict", ex.ErrorId);
        Assert.Contains("ETag", ex.Message);
        Assert.Equal("one", (await NewStore().ReadAsync(id, default))!.Resources["by"]);

        // After reading again the second writer works from the current document.
        var fresh = (await two.ReadAsync(id, default))!;
        fresh.Resources["by"] = "two";
        await two.WriteAsync(fresh, default);
        Assert.Equal("two", (await one.ReadAsync(id, default))!.Resources["by"]);

        // Two creators racing: the second finds the document it thought absent.
        var newId = TestStates.Id("race");
        Assert.Null(await one.ReadAsync(newId, default));
        Assert.Null(await two.ReadAsync(newId, default));
        await one.WriteAsync(TestStates.State(newId), default);
        var created = await Assert.ThrowsAsync<StateConflictException>(() => two.WriteAsync(TestStates.State(newId), default));
        Assert.Contains("created", created.Message);
    }

    [Fact]
    public async Task A_newer_schema_in_the_blob_is_refused()
    {
        var id = TestStates.Id();
        var raw = TestStates.RawContainer(_azurite, _container);
        await raw.CreateIfNotExistsAsync();
        await raw.GetBlobClient(AzureBlobStateStore.DocumentBlobName(id)).UploadAsync(BinaryData.FromString("{\"schemaVersion\": 99}"));
        var ex = await Assert.ThrowsAsync<StateSchemaException>(() => NewStore().ReadAsync(id, default));
        Assert.Equal("KsctlStateSchemaUnsupported", ex.ErrorId);
    }

    [Fact]
    public async Task Export_style_round_trip_file_and_blob_read_back_the_same_document()
    {
        var state = TestStates.State();
        var folder = Directory.CreateTempSubdirectory("ksctl-export-");
        try
        {
            var file = new FileStateStore(folder.FullName);
            var blob = NewStore();
            await file.WriteAsync(state, default);
            await blob.WriteAsync(state, default);

            var fromFile = StateSerializer.Serialize((await file.ReadAsync(state.Id, default))!);
            var fromBlob = StateSerializer.Serialize((await blob.ReadAsync(state.Id, default))!);
            Assert.Equal(fromFile, fromBlob);
            Assert.Equal(StateSerializer.Serialize(state), fromBlob);

            // And across: what one store reads, the other writes identically (Export/Import).
            var other = NewStore();
            var moved = (await file.ReadAsync(state.Id, default))!;
            moved.Id = moved.Id with { Name = "moved" };
            moved.Spec = moved.Spec with { Id = moved.Id };
            await other.WriteAsync(moved, default);
            Assert.Equal(StateSerializer.Serialize(moved), StateSerializer.Serialize((await blob.ReadAsync(moved.Id, default))!));
        }
        finally { folder.Delete(recursive: true); }
    }
}
