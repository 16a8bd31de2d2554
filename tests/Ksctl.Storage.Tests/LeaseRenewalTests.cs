using Ksctl.Core.Diagnostics;
using Ksctl.Core.Storage;
using Ksctl.Core.Storage.AzureBlob;
using Ksctl.Core.Storage.Protection;
using Ksctl.Storage.Tests.Harness;
using Xunit;

namespace Ksctl.Storage.Tests;

/// <summary>The real clock against Azurite's lease expiry (15 s, the shortest Azure allows), in its own collection so it runs beside the others.</summary>
public sealed class LeaseRenewalTests(AzuriteFixture fixture) : IClassFixture<AzuriteFixture>
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(15);

    private AzureBlobStateStore Store(string container, int pid, TimeSpan renew) =>
        (AzureBlobStateStore)AzureBlobStateStore.FromConnectionString(fixture.Azurite.ConnectionString, container, new AzureBlobStateStoreOptions
        {
            SecretProtector = StateKey.FromBase64(StateKey.Generate()),
            HolderOverride = new LockHolderIdentity(pid, $"host-{pid}"),
            LeaseDuration = Lease,
            RenewInterval = renew,
        });

    [Fact]
    public async Task A_held_lock_outlives_its_lease_duration_while_a_dead_holders_lock_expires()
    {
        var container = TestStates.NewContainer();
        var alive = Store(container, 1, TimeSpan.FromSeconds(3));
        var dead = Store(container, 2, TimeSpan.FromHours(1)); // never renews: a process that died right after taking the lock
        var other = Store(container, 3, TimeSpan.FromSeconds(3));
        var renewed = TestStates.Id("renewed");
        var abandoned = TestStates.Id("abandoned");

        await using var held = await alive.AcquireLockAsync(renewed, "create", false, default);
        var orphan = await dead.AcquireLockAsync(abandoned, "create", false, default);

        // Past the lease duration, poll until the abandoned lease has expired (Azurite enforces expiry by the clock).
        await Task.Delay(Lease);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        IClusterLock? taken = null;
        while (taken is null)
        {
            try { taken = await other.AcquireLockAsync(abandoned, "delete", false, default); }
            catch (ClusterLockedException) when (DateTime.UtcNow < deadline) { await Task.Delay(250); }
        }
        await using (taken)
        {
            Assert.StartsWith("pid 3 on host-3, delete", taken.Holder);
        }

        // The renewed one is still held, by its first holder, and its writes still go through.
        var locked = await Assert.ThrowsAsync<ClusterLockedException>(() => other.AcquireLockAsync(renewed, "delete", false, default));
        Assert.Contains("pid 1 on host-1, create", locked.Holder);
        await alive.WriteAsync(TestStates.State(renewed), default);
        Assert.Null(((AzureBlobClusterLock)held).LostReason);

        // The dead holder, had it come back, could not write any more.
        await Assert.ThrowsAsync<StateConflictException>(() => dead.WriteAsync(TestStates.State(abandoned), default));
        await orphan.DisposeAsync();
    }
}
