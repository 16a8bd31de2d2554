using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Storage;
using Ksctl.Core.Storage.AzureBlob;
using Ksctl.Core.Storage.Protection;
using Ksctl.Storage.Tests.Harness;
using Xunit;

namespace Ksctl.Storage.Tests;

/// <summary>
/// Issue #12 item 6 for leases: a holder that renewed recently is alive and never broken, even with -BreakStaleLock;
/// a stale one is named with the switch that takes it over.
/// </summary>
[Collection("azurite")]
public sealed class AzureBlobLockTests(AzuriteFixture fixture)
{
    private readonly AzuriteInstance _azurite = fixture.Azurite;
    private readonly ISecretProtector _key = StateKey.FromBase64(StateKey.Generate());
    private readonly string _container = TestStates.NewContainer();

    private AzureBlobStateStore NewStore(int pid, string host, TimeSpan? renew = null, IProgress<KsctlEvent>? events = null) =>
        TestStates.Store(_azurite, _container, _key, new LockHolderIdentity(pid, host), events, renew);

    /// <summary>Makes a held lease look abandoned: its last recorded renewal is set to <paramref name="when"/> (under its lease id).</summary>
    internal static async Task RecordLastRenewal(BlobContainerClient raw, ClusterId id, AzureBlobClusterLock held, DateTimeOffset when)
    {
        var blob = raw.GetBlobClient(AzureBlobStateStore.LockBlobName(id));
        var metadata = (await blob.GetPropertiesAsync()).Value.Metadata;
        metadata[AzureBlobClusterLock.RenewedKey] = when.ToString("O");
        await blob.SetMetadataAsync(metadata, new BlobRequestConditions { LeaseId = held.LeaseId });
    }

    [Fact]
    public async Task BreakStaleLock_never_breaks_a_lease_whose_holder_renewed_recently()
    {
        var holder = NewStore(1111, "host-a");
        var breaker = NewStore(3333, "host-c");
        var id = TestStates.Id();
        await using var held = await holder.AcquireLockAsync(id, "create", false, default);

        var ex = await Assert.ThrowsAsync<ClusterLockedException>(() => breaker.AcquireLockAsync(id, "delete", breakStale: true, default));
        Assert.Equal("KsctlClusterLocked", ex.ErrorId);
        Assert.Contains("pid 1111 on host-a, create", ex.Message);
        Assert.Contains("alive", ex.Message);
        Assert.Contains("-BreakStaleLock", ex.Message);

        // The holder still holds it: its writes go through.
        await holder.WriteAsync(TestStates.State(id), default);
        Assert.Equal("1111", (await TestStates.RawContainer(_azurite, _container).GetBlobClient(AzureBlobStateStore.LockBlobName(id)).GetPropertiesAsync()).Value.Metadata["ksctlpid"]);
    }

    [Fact]
    public async Task A_stale_lease_is_named_with_the_BreakStaleLock_switch_and_taken_only_with_it()
    {
        var holder = NewStore(1111, "host-a");
        var events = new EventLog();
        var other = NewStore(2222, "host-b", events: events);
        var id = TestStates.Id("stale");
        var held = (AzureBlobClusterLock)await holder.AcquireLockAsync(id, "create", false, default);
        await RecordLastRenewal(TestStates.RawContainer(_azurite, _container), id, held, DateTimeOffset.UtcNow.AddMinutes(-5));

        var refused = await Assert.ThrowsAsync<ClusterLockedException>(() => other.AcquireLockAsync(id, "delete", breakStale: false, default));
        Assert.Contains("pid 1111 on host-a", refused.Message);
        Assert.Contains("has not renewed it", refused.Message);
        Assert.Contains("re-run with -BreakStaleLock", refused.Message);

        await using var taken = await other.AcquireLockAsync(id, "delete", breakStale: true, default);
        Assert.StartsWith("pid 2222 on host-b", taken.Holder);
        Assert.Contains(events.Events, e => e.Message.Contains("pid 1111 on host-a") && e.Message.Contains("-BreakStaleLock"));
        await held.DisposeAsync();
    }

    [Fact]
    public async Task The_holder_records_each_renewal_in_server_time()
    {
        var holder = NewStore(1111, "host-a", renew: TimeSpan.FromMilliseconds(200));
        var id = TestStates.Id("beat");
        await using var held = await holder.AcquireLockAsync(id, "create", false, default);
        var blob = TestStates.RawContainer(_azurite, _container).GetBlobClient(AzureBlobStateStore.LockBlobName(id));
        var first = (await blob.GetPropertiesAsync()).Value.Metadata[AzureBlobClusterLock.RenewedKey];

        // Wait for a renewal to be recorded (bounded by attempts, not a fixed sleep).
        string? later = first;
        for (var attempt = 0; attempt < 200 && later == first; attempt++)
        {
            await Task.Delay(50);
            later = (await blob.GetPropertiesAsync()).Value.Metadata[AzureBlobClusterLock.RenewedKey];
        }
        Assert.NotEqual(first, later);
        Assert.True(DateTimeOffset.Parse(later!) > DateTimeOffset.Parse(first));
        Assert.Equal("1111", (await blob.GetPropertiesAsync()).Value.Metadata["ksctlpid"]);
    }
}
