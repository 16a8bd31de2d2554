using System.Collections;
using System.Management.Automation;
using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Model;
using Ksctl.Core.Providers;
using Ksctl.Core.Storage;

namespace Ksctl.PowerShell.Completers;

/// <summary>What completers offer, read from Core: provider descriptors (cached, they are static) and cluster names.</summary>
internal static class CompletionCatalog
{
    private static IReadOnlyList<ProviderDescriptor>? _descriptors;

    public static IReadOnlyList<ProviderDescriptor> Descriptors()
    {
        if (_descriptors is { } d) return d;
        using var manager = new ClusterManager(KsctlSettings.Load());
        return _descriptors = manager.Providers;
    }

    /// <summary>The -Provider already on the command line, if any.</summary>
    public static CloudProvider? BoundProvider(IDictionary fakeBoundParameters) =>
        fakeBoundParameters.Contains("Provider") && fakeBoundParameters["Provider"] is { } value
        && Enum.TryParse<CloudProvider>((value is PSObject p ? p.BaseObject : value).ToString(), ignoreCase: true, out var provider)
            ? provider
            : null;

    private static string? BoundString(IDictionary fakeBoundParameters, string name) =>
        fakeBoundParameters.Contains(name) && fakeBoundParameters[name] is { } value ? (value is PSObject p ? p.BaseObject : value).ToString() : null;

    public static IEnumerable<string> Regions(IDictionary fakeBoundParameters)
    {
        var provider = BoundProvider(fakeBoundParameters);
        if (provider is { } p && LiveCatalogCache.Regions(p) is { } live) return live;
        return Descriptors().Where(d => provider is null || d.Provider == provider).SelectMany(d => d.Regions).Distinct(StringComparer.OrdinalIgnoreCase);
    }

    public static IEnumerable<string> NodeSizes(IDictionary fakeBoundParameters)
    {
        var provider = BoundProvider(fakeBoundParameters);
        if (provider is { } p && LiveCatalogCache.NodeSizes(p, BoundString(fakeBoundParameters, "Region")) is { } live) return live;
        return Descriptors().Where(d => provider is null || d.Provider == provider).SelectMany(d => d.NodeSizes).Distinct(StringComparer.OrdinalIgnoreCase);
    }

    public static IEnumerable<string> MachineSizes(IDictionary fakeBoundParameters)
    {
        var provider = BoundProvider(fakeBoundParameters);
        return Descriptors().Where(d => provider is null || d.Provider == provider).SelectMany(d => d.MachineSizes).Distinct(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Names of existing clusters starting with <paramref name="prefix"/>; gives up after a short time rather than stall Tab.</summary>
    public static IReadOnlyList<string> ClusterNames(string prefix, IDictionary fakeBoundParameters, TimeSpan budget)
    {
        var settings = KsctlSettings.Load();
        var store = ClusterManager.CreateStore(settings);
        var provider = BoundProvider(fakeBoundParameters);
        if (store is FileStateStore files) return FileClusterNames(files, prefix, provider);

        var query = new ClusterQuery { Provider = provider, NameMatches = n => n.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) };
        using var cts = new CancellationTokenSource(budget);
        var names = new SortedSet<string>(StringComparer.Ordinal);
        var task = Task.Run(async () =>
        {
            await foreach (var s in store.ListAsync(query, cts.Token).ConfigureAwait(false))
                lock (names) names.Add(s.Id.Name);
        });
        try { task.Wait(budget); } catch (AggregateException) { }
        lock (names) return names.ToList();
    }

    /// <summary>
    /// The file store names its cluster folders "&lt;name&gt; &lt;region&gt;" under one folder per provider and type (the store
    /// says where): Tab reads folder names only, never the documents, so it stays instant with thousands of clusters.
    /// </summary>
    private static IReadOnlyList<string> FileClusterNames(FileStateStore store, string prefix, CloudProvider? provider)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var p in Enum.GetValues<CloudProvider>())
        {
            if (provider is { } only && only != p) continue;
            foreach (var t in Enum.GetValues<ClusterType>())
            {
                var typeDir = Path.GetDirectoryName(store.ClusterDirectory(new ClusterId(p, t, "x", "x")));
                if (typeDir is null || !Directory.Exists(typeDir)) continue;
                foreach (var dir in Directory.EnumerateDirectories(typeDir))
                {
                    if (!File.Exists(Path.Combine(dir, FileStateStore.DocumentName))) continue;
                    var folder = Path.GetFileName(dir);
                    var space = folder.IndexOf(' ');
                    if (space > 0 && folder.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) names.Add(folder[..space]);
                }
            }
        }
        return names.ToList();
    }
}
