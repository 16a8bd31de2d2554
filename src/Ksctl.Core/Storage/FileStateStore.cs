using System.Runtime.CompilerServices;
using Ksctl.Core.Model;
using Ksctl.Core.Storage.Protection;

namespace Ksctl.Core.Storage;

/// <summary>
/// State in a folder: <c>&lt;root&gt;/&lt;provider&gt;/&lt;managed|selfmanaged&gt;/&lt;name&gt; &lt;region&gt;/state.json</c>.
/// Writes are atomic (temp, flush, rename); files are 0600 and folders 0700 on Unix. Listing filters on the
/// folder names before it reads any document.
/// </summary>
public sealed class FileStateStore : IStateStore
{
    public const string DocumentName = "state.json";
    internal const string LockName = "lock";

    /// <summary>A store in <paramref name="root"/>; <paramref name="protector"/> encrypts secrets in the documents (default: DPAPI on Windows, none elsewhere where 0600 files protect them).</summary>
    public FileStateStore(string root, ISecretProtector? protector = null)
    {
        Root = Path.GetFullPath(root);
        Protector = protector ?? DpapiSecretProtector.ForThisPlatform();
    }

    /// <summary>How secrets are encrypted in this folder, or null where file permissions protect them.</summary>
    public ISecretProtector? Protector { get; }

    public string Root { get; }
    public string Description => $"File: {Root}";

    /// <summary>
    /// The cluster's folder. The identity is checked first (a name or region with a separator, "..", a NUL or any
    /// other character outside the rules is <see cref="Diagnostics.InvalidSpecException"/>), and the normalised full
    /// path must lie strictly under <see cref="Root"/>: no identity can make this store touch anything else.
    /// </summary>
    public string ClusterDirectory(ClusterId id)
    {
        StorePaths.CheckIdentity(id);
        var dir = Path.GetFullPath(Path.Combine(Root, id.Provider.ToString().ToLowerInvariant(), id.TypeSegment, $"{id.Name} {id.Region}"));
        StorePaths.CheckUnder(Root, dir, id);
        return dir;
    }

    public string DocumentPath(ClusterId id) => Path.Combine(ClusterDirectory(id), DocumentName);

    public async Task<ClusterState?> ReadAsync(ClusterId id, CancellationToken cancellationToken)
    {
        var path = DocumentPath(id);
        byte[] bytes;
        try { bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false); }
        catch (FileNotFoundException) { return null; }
        catch (DirectoryNotFoundException) { return null; }
        return Decode(bytes, id, path, revealSecrets: true);
    }

    /// <summary>Shape, place and (with a state key) integrity checked; secrets revealed or dropped.</summary>
    internal ClusterState Decode(byte[] bytes, ClusterId id, string path, bool revealSecrets) =>
        StateDocument.Decode(bytes, id, () => Protector, path, required: false, revealSecrets);

    public Task WriteAsync(ClusterState state, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var dir = ClusterDirectory(state.Id);
        var path = Path.Combine(dir, DocumentName);
        // Everything that can fail locally fails before a folder is made.
        var bytes = StateDocument.Encode(state, Protector, path, required: false);
        EnsureTree(dir);
        SecureFile.WriteAtomic(path, bytes);
        return Task.CompletedTask;
    }

    public Task DeleteAsync(ClusterId id, CancellationToken cancellationToken)
    {
        var path = DocumentPath(id);
        if (File.Exists(path)) File.Delete(path);
        // Temp files of writers killed mid-write (SecureFile.WriteAtomic) would keep the folder alive.
        var dir = ClusterDirectory(id);
        if (Directory.Exists(dir))
            foreach (var temp in Directory.EnumerateFiles(dir, $".{DocumentName}.*.tmp")) File.Delete(temp);
        // The break guard of a lock once taken over (FileClusterLock) goes with the cluster.
        var guard = Path.Combine(dir, LockName + FileClusterLock.BreakGuardSuffix);
        if (File.Exists(guard)) File.Delete(guard);
        TryRemoveEmptyTree(dir);
        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<ClusterState> ListAsync(ClusterQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var id in Identities(query))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var state = await ReadAsync(id, cancellationToken).ConfigureAwait(false);
            // A folder holding only a lock (an operation that never checkpointed) is not a cluster.
            if (state is not null) yield return state;
        }
    }

    /// <summary>Identities from the folder names, filtered by the query before any document is read.</summary>
    internal IEnumerable<ClusterId> Identities(ClusterQuery query)
    {
        if (!Directory.Exists(Root)) yield break;
        foreach (var provider in Enum.GetValues<CloudProvider>())
        {
            if (query.Provider is { } p && p != provider) continue;
            foreach (var type in Enum.GetValues<ClusterType>())
            {
                if (query.Type is { } t && t != type) continue;
                var typeDir = Path.Combine(Root, provider.ToString().ToLowerInvariant(), type == ClusterType.Managed ? "managed" : "selfmanaged");
                if (!Directory.Exists(typeDir)) continue;
                foreach (var clusterDir in Directory.EnumerateDirectories(typeDir))
                {
                    var folder = Path.GetFileName(clusterDir);
                    var space = folder.IndexOf(' ');
                    if (space <= 0) continue;
                    var id = new ClusterId(provider, type, folder[..space], folder[(space + 1)..]);
                    // A folder no valid identity maps to was not made by Ksctl: never read through it.
                    if (id.Problem() is null && query.Matches(id)) yield return id;
                }
            }
        }
    }

    public Task<IClusterLock> AcquireLockAsync(ClusterId id, string operation, bool breakStale, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var dir = ClusterDirectory(id);
        EnsureTree(dir);
        return Task.FromResult<IClusterLock>(FileClusterLock.Acquire(id, Path.Combine(dir, LockName), operation, breakStale, () => TryRemoveEmptyTree(dir)));
    }

    public Task<string?> LockHolderAsync(ClusterId id, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(FileClusterLock.LiveHolder(Path.Combine(ClusterDirectory(id), LockName)));
    }

    private void EnsureTree(string dir)
    {
        // Create each level ourselves so every folder we make is 0700, not just the leaf.
        var relative = Path.GetRelativePath(Root, dir);
        var current = Root;
        SecureFile.EnsureDirectory(current);
        foreach (var part in relative.Split(Path.DirectorySeparatorChar))
        {
            current = Path.Combine(current, part);
            SecureFile.EnsureDirectory(current);
        }
    }

    private void TryRemoveEmptyTree(string dir)
    {
        var current = dir;
        while (StorePaths.IsStrictlyUnder(Root, current))
        {
            try
            {
                if (Directory.EnumerateFileSystemEntries(current).Any()) return;
                Directory.Delete(current);
            }
            catch (IOException) { return; }
            catch (UnauthorizedAccessException) { return; }
            current = Path.GetDirectoryName(current)!;
        }
    }
}
