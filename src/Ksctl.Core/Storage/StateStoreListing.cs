using System.Collections.Concurrent;
using Ksctl.Core.Model;

namespace Ksctl.Core.Storage;

/// <summary>What <see cref="StateStoreListing.ListAllAsync"/> found: the readable documents, and one error per unreadable one.</summary>
public sealed record StateListing(IReadOnlyList<ClusterState> Clusters, IReadOnlyList<Diagnostics.KsctlException> Errors);

/// <summary>
/// Lists a whole store at once for Get-KsctlCluster: the file store's documents are read and parsed in parallel
/// (10,000 clusters in well under a second), and a corrupt or too-new document is reported on its own instead of
/// hiding every other cluster; any other store falls back to <see cref="IStateStore.ListAsync"/>.
/// Order is unspecified; callers sort.
/// </summary>
public static class StateStoreListing
{
    /// <param name="store">The store to list.</param>
    /// <param name="query">Which clusters.</param>
    /// <param name="cancellationToken">Stops the listing.</param>
    /// <param name="summaries">Drop each document's secrets and step records as soon as it is parsed (what a listing shows needs neither), so 10,000 clusters fit in a small working set.</param>
    public static async Task<StateListing> ListAllAsync(this IStateStore store, ClusterQuery query, CancellationToken cancellationToken, bool summaries = false)
    {
        if (store is AzureBlob.AzureBlobStateStore blobs) return await ListEachAsync(blobs, query, cancellationToken, summaries).ConfigureAwait(false);
        if (store is not FileStateStore files)
        {
            var list = new List<ClusterState>();
            await foreach (var s in store.ListAsync(query, cancellationToken).ConfigureAwait(false)) list.Add(summaries ? Summary(s) : s);
            return new StateListing(list, []);
        }

        var ids = files.Identities(query).ToList();
        var found = new ConcurrentBag<ClusterState>();
        var errors = new ConcurrentBag<Diagnostics.KsctlException>();
        var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(2, Environment.ProcessorCount), CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(ids, options, (id, ct) =>
        {
            var path = files.DocumentPath(id);
            byte[] bytes;
            try { bytes = File.ReadAllBytes(path); }
            catch (FileNotFoundException) { return ValueTask.CompletedTask; }
            catch (DirectoryNotFoundException) { return ValueTask.CompletedTask; }
            // A folder holding only a lock (an operation that never checkpointed) is not a cluster.
            try
            {
                var state = files.Decode(bytes, id, path, revealSecrets: !summaries);
                found.Add(summaries ? Summary(state) : state);
            }
            catch (Diagnostics.KsctlException ex) { errors.Add(ex); }
            return ValueTask.CompletedTask;
        }).ConfigureAwait(false);
        return new StateListing(found.ToList(), Sorted(errors));
    }

    /// <summary>A remote store: each document read on its own, so one bad document is one error, not the end of the listing.</summary>
    private static async Task<StateListing> ListEachAsync(AzureBlob.AzureBlobStateStore store, ClusterQuery query, CancellationToken cancellationToken, bool summaries)
    {
        var ids = await store.ListIdentitiesAsync(query, cancellationToken).ConfigureAwait(false);
        var found = new ConcurrentBag<ClusterState>();
        var errors = new ConcurrentBag<Diagnostics.KsctlException>();
        var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, store.Options.MaxParallelDownloads), CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(ids, options, async (id, ct) =>
        {
            try
            {
                if (await store.ReadAsync(id, ct).ConfigureAwait(false) is { } state) found.Add(summaries ? Summary(state) : state);
            }
            catch (Diagnostics.KsctlException ex) when (ex.ErrorId is not ("KsctlStateStoreUnavailable" or "KsctlStateStoreAccessDenied"))
            {
                errors.Add(ex);
            }
        }).ConfigureAwait(false);
        return new StateListing(found.ToList(), Sorted(errors));
    }

    private static List<Diagnostics.KsctlException> Sorted(IEnumerable<Diagnostics.KsctlException> errors) =>
        errors.OrderBy(e => e.Target?.ToString(), StringComparer.Ordinal).ToList();

    private static ClusterState Summary(ClusterState state)
    {
        state.Secrets = new(StringComparer.Ordinal);
        state.Steps = new(StringComparer.Ordinal);
        return state;
    }
}
