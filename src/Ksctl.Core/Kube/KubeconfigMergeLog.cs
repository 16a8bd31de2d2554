using System.Text.Json;
using System.Text.Json.Serialization;
using Ksctl.Core.Storage;

namespace Ksctl.Core.Kube;

/// <summary>One merge Ksctl made: which cluster, into which file, under which name, and a fingerprint of each entry.</summary>
public sealed record KubeconfigMergeEntry
{
    public required string Cluster { get; init; }
    /// <summary>The kubeconfig path as given (a symlink stays the symlink's path).</summary>
    public required string Path { get; init; }
    /// <summary>The name of the context, cluster and user entries merged.</summary>
    public required string Name { get; init; }
    /// <summary>SHA-256 of each merged entry's meaning, by list (clusters, users, contexts).</summary>
    public required Dictionary<string, string> Fingerprints { get; init; }
    public DateTimeOffset MergedAt { get; init; }
}

/// <summary>
/// The merges Ksctl made on this machine (<c>$KSCTL_HOME/kubeconfig-merges.json</c>): kubeconfigs are local files
/// even when the state is shared, so the record is local too. Remove-KsctlCluster reads it to take out exactly what
/// was merged (kind removes by name alone; the fingerprint keeps an entry the user has changed since).
/// </summary>
public sealed class KubeconfigMergeLog(string home)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string FilePath { get; } = System.IO.Path.Combine(home, "kubeconfig-merges.json");

    public async Task<IReadOnlyList<KubeconfigMergeEntry>> ReadAsync(CancellationToken cancellationToken)
    {
        using var guard = await KubeconfigFileLock.AcquireAsync(FilePath, cancellationToken).ConfigureAwait(false);
        return Load();
    }

    /// <summary>Records a merge, replacing an earlier one of the same cluster into the same file under the same name.</summary>
    public async Task RecordAsync(KubeconfigMergeEntry entry, CancellationToken cancellationToken)
    {
        using var guard = await KubeconfigFileLock.AcquireAsync(FilePath, cancellationToken).ConfigureAwait(false);
        var entries = Load().Where(e => !(e.Cluster == entry.Cluster && e.Path == entry.Path && e.Name == entry.Name)).Append(entry).ToList();
        Save(entries);
    }

    public async Task ForgetAsync(string cluster, string path, string name, CancellationToken cancellationToken)
    {
        using var guard = await KubeconfigFileLock.AcquireAsync(FilePath, cancellationToken).ConfigureAwait(false);
        var entries = Load();
        var left = entries.Where(e => !(e.Cluster == cluster && e.Path == path && e.Name == name)).ToList();
        if (left.Count != entries.Count) Save(left);
    }

    private List<KubeconfigMergeEntry> Load()
    {
        if (!File.Exists(FilePath)) return [];
        try
        {
            var entries = JsonSerializer.Deserialize<List<KubeconfigMergeEntry>>(File.ReadAllText(FilePath), Json) ?? [];
            // A damaged record must not steer a removal: entries missing a field are ignored.
            return entries.Where(e => e is { Cluster: not null, Path: not null, Name: not null, Fingerprints: not null }).ToList();
        }
        catch (JsonException)
        {
            return [];
        }
    }

    private void Save(List<KubeconfigMergeEntry> entries) =>
        SecureFile.WriteAtomic(FilePath, JsonSerializer.SerializeToUtf8Bytes(entries, Json));
}
