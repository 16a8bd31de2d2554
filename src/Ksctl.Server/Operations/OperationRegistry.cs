using System.Collections.Concurrent;
using System.Security.Cryptography;
using Ksctl.Core.Configuration;
using Ksctl.Core.Clusters;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Server.Api;
using Ksctl.Server.Security;

namespace Ksctl.Server.Operations;

/// <summary>
/// Starts the server's operations and keeps their records (this replica's, in memory, the newest
/// <see cref="MaxKept"/>). Each one runs the same ClusterManager use case a cmdlet runs, under the same per-cluster
/// lock of the store, with its own manager whose events feed the operation's steps and SSE stream.
/// </summary>
public sealed class OperationRegistry(KsctlSettings settings, AuditLog audit, TimeProvider time, IHostApplicationLifetime lifetime)
{
    private readonly ConcurrentDictionary<string, ServerOperation> _operations = new(StringComparer.Ordinal);
    private const int MaxKept = 1000;

    public ServerOperation? Get(string id) => _operations.GetValueOrDefault(id);

    public IReadOnlyList<ServerOperation> List(ClusterId? cluster = null) =>
        _operations.Values
            .Where(o => cluster is null || o.Cluster == ClusterRef.Of(cluster))
            .OrderByDescending(o => o.CreatedAt).ThenByDescending(o => o.Id).ToList();

    /// <summary>Starts <paramref name="work"/> in the background and returns its record at once (the 202's body).</summary>
    public ServerOperation Start(string kind, ClusterId cluster, string requestedBy, Func<ClusterManager, CancellationToken, Task> work)
    {
        var id = $"op-{time.GetUtcNow():yyyyMMddHHmmss}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
        var operation = new ServerOperation(id, kind, ClusterRef.Of(cluster), requestedBy, time.GetUtcNow());
        _operations[id] = operation;
        Trim();
        _ = Task.Run(() => RunAsync(operation, cluster, work));
        return operation;
    }

    private async Task RunAsync(ServerOperation operation, ClusterId cluster, Func<ClusterManager, CancellationToken, Task> work)
    {
        var errors = new List<OperationError>();
        try
        {
            using var manager = new ClusterManager(settings, new DirectProgress(operation.Apply));
            await work(manager, lifetime.ApplicationStopping).ConfigureAwait(false);
        }
        catch (PlanFailedException ex) { errors.AddRange(ex.Errors.Select(m => new OperationError(ex.ErrorId, m))); }
        catch (KsctlException ex) { errors.Add(new OperationError(ex.ErrorId, ex.Message)); }
        catch (OperationCanceledException) { errors.Add(new OperationError("KsctlOperationCancelled", $"The server stopped during the {operation.Kind}; it can be resumed.")); }
        catch (Exception ex) { errors.Add(new OperationError("KsctlUnexpectedError", ex.Message)); }
        operation.Complete(time.GetUtcNow(), errors);
        audit.Write(new AuditEntry(time.GetUtcNow(), operation.RequestedBy, null, $"operation {operation.Id} {operation.Kind} {operation.Status}",
            cluster.Canonical, null, errors.Count == 0 ? null : string.Join(" | ", errors.Select(e => e.ErrorId))));
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
