using Ksctl.Core.Model;

namespace Ksctl.Core.Storage;

/// <summary>
/// Where cluster state documents live (a folder, Azure Blob Storage...). Implementations must make every write
/// atomic (a reader sees the old or the new document, never a torn one) and refuse documents whose schema is
/// newer than <see cref="ClusterState.CurrentSchemaVersion"/>.
/// </summary>
public interface IStateStore
{
    /// <summary>A short description for Get-KsctlConfiguration and error messages ("File: /root/.ksctl/state").</summary>
    string Description { get; }

    Task<ClusterState?> ReadAsync(ClusterId id, CancellationToken cancellationToken);

    /// <summary>Writes the whole document. The caller guarantees the state is not mutated during the call.</summary>
    Task WriteAsync(ClusterState state, CancellationToken cancellationToken);

    /// <summary>Removes the document (and the cluster's folder/blob). Removing a missing document is not an error.</summary>
    Task DeleteAsync(ClusterId id, CancellationToken cancellationToken);

    /// <summary>Every document matching the query; filters on identity before reading documents where it can.</summary>
    IAsyncEnumerable<ClusterState> ListAsync(ClusterQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Takes the cluster's exclusive lock for one operation, or throws <see cref="Diagnostics.ClusterLockedException"/>
    /// naming the holder. A lock whose holder process is gone is reported as stale (in the message), not stolen,
    /// unless <paramref name="breakStale"/> is set.
    /// </summary>
    Task<IClusterLock> AcquireLockAsync(ClusterId id, string operation, bool breakStale, CancellationToken cancellationToken);

    /// <summary>
    /// Who holds the cluster's lock right now ("pid 1234 on host-a, create since ..."), or null when no live
    /// process does (no lock, or one whose holder is known to be gone). Takes nothing.
    /// </summary>
    Task<string?> LockHolderAsync(ClusterId id, CancellationToken cancellationToken) => Task.FromResult<string?>(null);
}

/// <summary>A held cluster lock; disposing releases it.</summary>
public interface IClusterLock : IAsyncDisposable
{
    ClusterId Cluster { get; }
    /// <summary>Who holds it, e.g. "pid 1234 on host-a, create since 2026-11-24T06:00:00Z".</summary>
    string Holder { get; }
}
