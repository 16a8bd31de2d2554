using System.Globalization;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;

namespace Ksctl.Core.Storage.AzureBlob;

/// <summary>
/// A cluster's lock in Azure Blob Storage: a lease on the cluster's <c>lock</c> blob, renewed in the background while
/// held, with the holder (pid, host, operation, since) in the blob's metadata so another process can name it.
/// A holder that dies stops renewing, and its lease expires on its own after at most the lease duration.
/// Each background renewal also records the server's time of that renewal (<c>ksctlrenewed</c>), so that a holder that
/// renewed recently is known alive: its lease is never broken, even with -BreakStaleLock. Times are the server's
/// (the Date of its answers), so the clocks of the hosts involved do not matter.
/// </summary>
internal sealed class AzureBlobClusterLock : IClusterLock
{
    internal const string PidKey = "ksctlpid";
    internal const string HostKey = "ksctlhost";
    internal const string OperationKey = "ksctloperation";
    internal const string SinceKey = "ksctlsince";
    internal const string BrokeKey = "ksctlbroke";
    internal const string RenewedKey = "ksctlrenewed";

    private readonly AzureBlobStateStore _store;
    private readonly BlobClient _blob;
    private readonly BlobLeaseClient _lease;
    private readonly SemaphoreSlim _renewGate = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private Task _renewLoop = Task.CompletedTask;
    private volatile string? _lost;
    private volatile bool _blobDeleted;
    private int _released;
    private Dictionary<string, string> _metadata = new();

    private AzureBlobClusterLock(AzureBlobStateStore store, ClusterId cluster, BlobClient blob, BlobLeaseClient lease, string holder)
    {
        _store = store;
        Cluster = cluster;
        _blob = blob;
        _lease = lease;
        Holder = holder;
    }

    public ClusterId Cluster { get; }
    public string Holder { get; }
    internal string LeaseId => _lease.LeaseId;
    /// <summary>Why the lease is no longer ours, once we know it is not.</summary>
    internal string? LostReason => _lost;
    /// <summary>The holder whose lease was broken to take this lock (-Force), if any.</summary>
    internal string? BrokenHolder { get; private set; }

    public static async Task<AzureBlobClusterLock> AcquireAsync(AzureBlobStateStore store, BlobContainerClient container, ClusterId cluster,
        string blobName, string operation, bool breakStale, CancellationToken cancellationToken)
    {
        var options = store.Options;
        var blob = container.GetBlobClient(blobName);
        var lease = blob.GetBlobLeaseClient(Guid.NewGuid().ToString());
        string? broken = null;
        DateTimeOffset serverTime = DateTimeOffset.UtcNow;
        for (var attempt = 0; ; attempt++)
        {
            await CreateIfAbsentAsync(blob, cancellationToken).ConfigureAwait(false);
            try
            {
                var taken = await lease.AcquireAsync(options.LeaseDuration, cancellationToken: cancellationToken).ConfigureAwait(false);
                serverTime = taken.GetRawResponse().Headers.Date ?? DateTimeOffset.UtcNow;
                break;
            }
            catch (RequestFailedException ex) when (ex.Status == 404 && attempt < 3)
            {
                continue; // the cluster was deleted between creating the lock blob and leasing it: create it again
            }
            catch (RequestFailedException ex) when (ex.IsStatus(409, BlobErrors.LeaseAlreadyPresent))
            {
                var (holder, silentFor, etag) = await HolderStatusAsync(blob, cancellationToken).ConfigureAwait(false);
                var expiry = $"it holds a lease on the lock blob that expires {options.LeaseDuration.TotalSeconds:0} s after that process stops renewing it";
                if (silentFor < options.StaleAfter)
                    throw new ClusterLockedException(cluster.ToString(),
                        $"{holder}; {expiry}. It renewed it {Math.Max(0, silentFor.TotalSeconds):0} s ago, so it is alive and its lease is not broken, even with -BreakStaleLock");
                if (!breakStale || attempt >= 3)
                    throw new ClusterLockedException(cluster.ToString(),
                        $"{holder}; {expiry}, and it has not renewed it for {silentFor.TotalSeconds:0} s: wait for the lease to expire, or re-run with -BreakStaleLock to take it over");
                try
                {
                    // Only the lease judged stale: a lock taken (and recorded) by someone else meanwhile changes the ETag.
                    await blob.GetBlobLeaseClient().BreakAsync(TimeSpan.Zero, new RequestConditions { IfMatch = etag }, cancellationToken).ConfigureAwait(false);
                }
                catch (RequestFailedException changed) when (changed.Status == 412)
                {
                    continue;
                }
                broken = holder;
                store.Warn(cluster, $"Broke the lock of cluster {cluster} held by {holder}, which had not renewed it for {silentFor.TotalSeconds:0} s (-BreakStaleLock). If that operation is still running, its next state write will fail instead of overwriting.");
            }
        }

        var me = options.HolderOverride ?? LockHolderIdentity.ThisProcess;
        var since = DateTimeOffset.UtcNow;
        var metadata = new Dictionary<string, string>
        {
            [PidKey] = me.Pid.ToString(CultureInfo.InvariantCulture),
            [HostKey] = Ascii(me.Host),
            [OperationKey] = Ascii(operation),
            [SinceKey] = since.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            [RenewedKey] = serverTime.ToString("O", CultureInfo.InvariantCulture),
        };
        if (broken is not null) metadata[BrokeKey] = Ascii(broken);
        var result = new AzureBlobClusterLock(store, cluster, blob, lease, Describe(me.Pid.ToString(CultureInfo.InvariantCulture), me.Host, operation, metadata[SinceKey]))
        {
            BrokenHolder = broken,
            _metadata = metadata,
        };
        try
        {
            await blob.SetMetadataAsync(metadata, new BlobRequestConditions { LeaseId = lease.LeaseId }, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            try { await lease.ReleaseAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false); } catch (Exception) { /* it expires anyway */ }
            throw;
        }
        result._renewLoop = result.RenewLoopAsync(options.RenewInterval, result._stop.Token);
        return result;
    }

    /// <summary>Renews the lease now; throws <see cref="StateConflictException"/> when it is no longer ours.</summary>
    public async Task EnsureHeldAsync(CancellationToken cancellationToken)
    {
        if (_blobDeleted) throw LostError("the cluster's lock blob was deleted with its state");
        if (_lost is { } reason) throw LostError(reason);
        await RenewAsync(cancellationToken, recordRenewal: false).ConfigureAwait(false);
    }

    /// <summary>The lock blob was deleted under our lease (the cluster was deleted): nothing left to renew or release.</summary>
    internal void MarkBlobDeleted()
    {
        _blobDeleted = true;
        _stop.Cancel();
    }

    /// <param name="cancellationToken">Stops the renewal.</param>
    /// <param name="recordRenewal">Also record the renewal's server time in the metadata (the background heartbeat; not every write).</param>
    private async Task RenewAsync(CancellationToken cancellationToken, bool recordRenewal)
    {
        await _renewGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_lost is { } reason) throw LostError(reason);
            try
            {
                var renewed = await _lease.RenewAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                if (recordRenewal)
                {
                    _metadata[RenewedKey] = (renewed.GetRawResponse().Headers.Date ?? DateTimeOffset.UtcNow).ToString("O", CultureInfo.InvariantCulture);
                    await _blob.SetMetadataAsync(_metadata, new BlobRequestConditions { LeaseId = _lease.LeaseId }, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412 or 404)
            {
                _lost = ex.Status == 404
                    ? "the lock blob is gone (the cluster's state was deleted by another process)"
                    : $"another process broke or took the lease on the cluster's lock ({ex.ErrorCode}), or it expired and was taken";
                throw LostError(_lost, ex);
            }
        }
        finally { _renewGate.Release(); }
    }

    private StateConflictException LostError(string reason, Exception? inner = null) =>
        new(Cluster.ToString(), $"this process no longer holds the cluster's lock: {reason}. The stored state was left as the other holder has it. " +
            "Check Get-KsctlCluster, then re-run the command to resume.", KsctlErrorCategory.WriteError, inner);

    private async Task RenewLoopAsync(TimeSpan interval, CancellationToken stop)
    {
        await Task.Yield();
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                try
                {
                    await RenewAsync(stop, recordRenewal: true).ConfigureAwait(false);
                }
                catch (StateConflictException)
                {
                    _store.Warn(Cluster, $"Lost the lock of cluster {Cluster}: {_lost}. The running operation's next state write will fail.");
                    return;
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    // Transient (network): the lease outlives a few missed renewals; the next tick tries again.
                    _store.Warn(Cluster, $"Could not renew the lock of cluster {Cluster} ({BlobErrors.Translate(ex, _store.Description, stop)?.Message ?? ex.Message}); retrying.");
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0) return;
        _stop.Cancel();
        try { await _renewLoop.ConfigureAwait(false); } catch (Exception) { }
        _store.Forget(this);
        if (_lost is null && !_blobDeleted)
        {
            try
            {
                // Clear the holder first so a stale name is never shown for an unleased blob.
                await _blob.SetMetadataAsync(new Dictionary<string, string>(), new BlobRequestConditions { LeaseId = _lease.LeaseId }, CancellationToken.None).ConfigureAwait(false);
                await _lease.ReleaseAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false);
            }
            catch (RequestFailedException ex) when (ex.Status is 404 or 409 or 412)
            {
                // Not ours any more (broken, or the cluster was deleted): nothing to release.
            }
            catch (Exception ex)
            {
                _store.Warn(Cluster, $"Could not release the lock of cluster {Cluster} ({BlobErrors.Translate(ex, _store.Description, CancellationToken.None)?.Message ?? ex.Message}); it expires within {_store.Options.LeaseDuration.TotalSeconds:0} s.");
            }
        }
    }

    private static async Task CreateIfAbsentAsync(BlobClient blob, CancellationToken cancellationToken)
    {
        try
        {
            await blob.UploadAsync(BinaryData.Empty, new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            // It exists (possibly leased by someone): that is what we wanted.
        }
    }

    private static async Task<string> DescribeHolderAsync(BlobClient blob, CancellationToken cancellationToken)
    {
        try
        {
            var props = await blob.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            var m = props.Value.Metadata;
            if (m.TryGetValue(PidKey, out var pid) && m.TryGetValue(HostKey, out var host))
                return Describe(pid, host, m.TryGetValue(OperationKey, out var op) ? op : "an operation", m.TryGetValue(SinceKey, out var since) ? since : "an unknown time");
        }
        catch (RequestFailedException) { }
        return "a process that has not recorded itself yet";
    }

    /// <summary>Who holds the lease, how long since it last recorded a renewal (server time), and the blob's ETag then.</summary>
    private static async Task<(string Holder, TimeSpan SilentFor, ETag ETag)> HolderStatusAsync(BlobClient blob, CancellationToken cancellationToken)
    {
        var props = await blob.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var now = props.GetRawResponse().Headers.Date ?? DateTimeOffset.UtcNow;
        var m = props.Value.Metadata;
        // No record of a renewal (a holder that never recorded itself, another tool): the blob's last change counts.
        var renewed = m.TryGetValue(RenewedKey, out var text) && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at)
            ? at
            : props.Value.LastModified;
        var holder = m.TryGetValue(PidKey, out var pid) && m.TryGetValue(HostKey, out var host)
            ? Describe(pid, host, m.TryGetValue(OperationKey, out var op) ? op : "an operation", m.TryGetValue(SinceKey, out var since) ? since : "an unknown time")
            : "a process that has not recorded itself yet";
        return (holder, now - renewed, props.Value.ETag);
    }

    internal static async Task<string?> LeasedByAsync(BlobClient blob, CancellationToken cancellationToken)
    {
        try
        {
            var props = await blob.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return props.Value.LeaseState == LeaseState.Leased ? await DescribeHolderAsync(blob, cancellationToken).ConfigureAwait(false) : null;
        }
        catch (RequestFailedException ex) when (ex.Status == 404) { return null; }
    }

    private static string Describe(string pid, string host, string operation, string since) => $"pid {pid} on {host}, {operation} since {since}";

    /// <summary>Blob metadata values are ASCII.</summary>
    private static string Ascii(string value) => new(value.Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray());
}
