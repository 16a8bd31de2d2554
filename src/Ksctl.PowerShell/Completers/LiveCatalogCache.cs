using System.Collections.Concurrent;
using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Model;
using Ksctl.Core.Providers;

namespace Ksctl.PowerShell.Completers;

/// <summary>
/// Live regions and node sizes for Tab (a provider's <see cref="ILiveCatalog"/>, e.g. Civo's API when a key is set),
/// cached for the session. Tab must never stall: each lookup gets <see cref="Budget"/>, and any failure (no key, no
/// network, timeout) returns null so the caller offers the static list; a failure is not retried for
/// <see cref="RetryFailuresAfter"/>, so a missing key costs one attempt, not one per keystroke.
/// </summary>
internal static class LiveCatalogCache
{
    private static readonly ConcurrentDictionary<string, IReadOnlyList<string>> Results = new(StringComparer.OrdinalIgnoreCase);
    private static readonly ConcurrentDictionary<string, DateTimeOffset> Failures = new(StringComparer.OrdinalIgnoreCase);

    internal static TimeSpan Budget { get; set; } = TimeSpan.FromSeconds(2);
    internal static TimeSpan RetryFailuresAfter { get; set; } = TimeSpan.FromMinutes(1);

    public static IReadOnlyList<string>? Regions(CloudProvider provider) =>
        Get($"{provider}/regions", provider, (catalog, ct) => catalog.RegionsAsync(ct));

    public static IReadOnlyList<string>? NodeSizes(CloudProvider provider, string? region) =>
        Get($"{provider}/sizes/{region}", provider, (catalog, ct) => catalog.NodeSizesAsync(region, ct));

    /// <summary>Forgets everything (tests; a user who just set a key can also start a new session).</summary>
    internal static void Clear()
    {
        Results.Clear();
        Failures.Clear();
    }

    private static IReadOnlyList<string>? Get(string key, CloudProvider provider, Func<ILiveCatalog, CancellationToken, Task<IReadOnlyList<string>>> fetch)
    {
        if (Results.TryGetValue(key, out var cached)) return cached;
        if (Failures.TryGetValue(key, out var failedAt) && DateTimeOffset.UtcNow - failedAt < RetryFailuresAfter) return null;

        var manager = new ClusterManager(KsctlSettings.Load());
        var catalog = manager.LiveCatalog(provider);
        if (catalog is null)
        {
            manager.Dispose();
            return null;
        }
        var cts = new CancellationTokenSource(Budget);
        var lookup = Task.Run(() => fetch(catalog, cts.Token));
        // The lookup may outlive the budget: its manager and token are released when it ends, not when Tab gives up.
        _ = lookup.ContinueWith(_ => { cts.Dispose(); manager.Dispose(); }, TaskScheduler.Default);
        try
        {
            if (lookup.Wait(Budget) && lookup.Result.Count > 0)
            {
                Failures.TryRemove(key, out _);
                return Results[key] = lookup.Result;
            }
        }
        catch (AggregateException)
        {
            // No key, no network, a refused key: the static list it is.
        }
        Failures[key] = DateTimeOffset.UtcNow;
        return null;
    }
}
