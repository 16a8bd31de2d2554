using System.Collections.Concurrent;
using System.Security.Cryptography;
using Ksctl.Core.Configuration;
using Ksctl.Core.Clusters;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Reconcile;
using Ksctl.Server.Api;
using Ksctl.Server.Security;

namespace Ksctl.Server.Operations;

/// <summary>
/// Starts the server's operations and keeps their records: this replica's live in memory (the newest
/// <see cref="MaxKept"/>), and every replica's in the shared store (<see cref="OperationStore"/>). Each one runs the same ClusterManager use case a cmdlet runs, under the same per-cluster
/// lock of the store, with its own manager whose events feed the operation's steps and SSE stream.
/// </summary>
public sealed class OperationRegistry(KsctlSettings settings, AuditLog audit, TimeProvider time, IHostApplicationLifetime lifetime, OperationStore records)
    : IReconcileOperations
{
    private readonly ConcurrentDictionary<string, ServerOperation> _operations = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task> _keeping = new(StringComparer.Ordinal);
    private const int MaxKept = 1000;
    /// <summary>How many of the store's newest records a list reads besides this replica's own.</summary>
    private const int ListedFromStore = 200;

    /// <summary>This replica's own operation (live, in memory).</summary>
    public ServerOperation? Get(string id) => _operations.GetValueOrDefault(id);

    /// <summary>The operation, whichever replica runs or ran it: this one's from memory, another's from the shared store.</summary>
    public async Task<OperationDocument?> GetAsync(string id, CancellationToken cancellationToken) =>
        Get(id) is { } local ? local.ToDocument() : (await records.ReadAsync(id, cancellationToken).ConfigureAwait(false))?.Operation;

    /// <summary>The operation's events (see <see cref="ServerOperation.FollowAsync"/>), or null when no replica has it.</summary>
    public async Task<IAsyncEnumerable<OperationEvent>?> FollowAsync(string id, CancellationToken cancellationToken)
    {
        if (Get(id) is { } local) return local.FollowAsync(cancellationToken);
        return await records.ReadAsync(id, cancellationToken).ConfigureAwait(false) is { } stored ? records.FollowAsync(stored, cancellationToken) : null;
    }

    /// <summary>This replica's operations and the store's newest ones (other replicas'), newest first.</summary>
    public async Task<IReadOnlyList<OperationDocument>> ListAsync(ClusterId? cluster, CancellationToken cancellationToken)
    {
        var local = _operations.Values.Select(o => o.ToDocument()).ToList();
        var known = local.Select(o => o.Id).ToHashSet(StringComparer.Ordinal);
        var stored = (await records.NewestAsync(ListedFromStore, cancellationToken).ConfigureAwait(false)).Select(r => r.Operation).Where(o => !known.Contains(o.Id));
        return local.Concat(stored)
            .Where(o => cluster is null || o.Cluster == ClusterRef.Of(cluster))
            .OrderByDescending(o => o.CreatedAt).ThenByDescending(o => o.Id, StringComparer.Ordinal).ToList();
    }

    /// <summary>Starts <paramref name="work"/> in the background and returns its record at once (the 202's body).</summary>
    public ServerOperation Start(string kind, ClusterId cluster, string requestedBy, Func<ClusterManager, CancellationToken, Task> work)
    {
        var operation = Record(kind, cluster, requestedBy);
        _ = Task.Run(() => RunAsync(operation, cluster, work, lifetime.ApplicationStopping));
        return operation;
    }

    /// <summary>
    /// The reconciler's operations (resume, resize, repair) are recorded like the API's, requested by "reconciler", and
    /// run to their end here; their failure reaches the reconciler unchanged so it backs off.
    /// </summary>
    async Task IReconcileOperations.RunAsync(string kind, ClusterId cluster, Func<ClusterManager, CancellationToken, Task> work, CancellationToken cancellationToken)
    {
        var failure = await RunAsync(Record(kind, cluster, ReconcilerIdentity), cluster, work, cancellationToken).ConfigureAwait(false);
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
    }

    /// <summary>Who the audit log and the operation records name for what the reconciler did.</summary>
    public const string ReconcilerIdentity = "reconciler";

    private ServerOperation Record(string kind, ClusterId cluster, string requestedBy)
    {
        var id = $"op-{time.GetUtcNow():yyyyMMddHHmmss}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
        var operation = new ServerOperation(id, kind, ClusterRef.Of(cluster), requestedBy, time.GetUtcNow());
        _operations[id] = operation;
        _keeping[id] = records.KeepAsync(operation);
        Trim();
        return operation;
    }

    private async Task<Exception?> RunAsync(ServerOperation operation, ClusterId cluster, Func<ClusterManager, CancellationToken, Task> work, CancellationToken cancellationToken)
    {
        var errors = new List<OperationError>();
        Exception? failure = null;
        try
        {
            using var manager = new ClusterManager(settings, new DirectProgress(operation.Apply));
            await work(manager, cancellationToken).ConfigureAwait(false);
        }
        catch (PlanFailedException ex) { failure = ex; errors.AddRange(ex.Errors.Select(m => new OperationError(ex.ErrorId, m))); }
        catch (KsctlException ex) { failure = ex; errors.Add(new OperationError(ex.ErrorId, ex.Message)); }
        catch (OperationCanceledException ex) { failure = ex; errors.Add(new OperationError("KsctlOperationCancelled", $"The server stopped during the {operation.Kind}; it can be resumed.")); }
        catch (Exception ex) { failure = ex; errors.Add(new OperationError("KsctlUnexpectedError", ex.Message)); }
        operation.Complete(time.GetUtcNow(), errors);
        // Its final record is in the store before anyone is told it ended.
        if (_keeping.TryRemove(operation.Id, out var keeping)) await keeping.ConfigureAwait(false);
        audit.Write(new AuditEntry(time.GetUtcNow(), operation.RequestedBy, null, $"operation {operation.Id} {operation.Kind} {operation.Status}",
            cluster.Canonical, null, errors.Count == 0 ? null : string.Join(" | ", errors.Select(e => e.ErrorId))));
        return failure;
    }

    private void Trim()
    {
        if (_operations.Count <= MaxKept) return;
        foreach (var old in _operations.Values.Where(o => o.Status != OperationStatus.Running).OrderBy(o => o.CreatedAt).Take(_operations.Count - MaxKept))
            _operations.TryRemove(old.Id, out _);
    }

    /// <summary>Progress&lt;T&gt; posts to the thread pool and can reorder events; this applies them in the order they happen.</summary>
    private sealed class DirectProgress(Action<KsctlEvent> apply) : IProgress<KsctlEvent>
    {
        public void Report(KsctlEvent value) => apply(value);
    }
}
