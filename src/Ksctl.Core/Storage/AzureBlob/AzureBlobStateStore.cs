using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Azure;
using Azure.Core;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Storage.Protection;

namespace Ksctl.Core.Storage.AzureBlob;

/// <summary>
/// State in an Azure Blob Storage container: <c>&lt;provider&gt;/&lt;managed|selfmanaged&gt;/&lt;name&gt; &lt;region&gt;/state.json</c>,
/// the same document as the file store with every secret encrypted (<see cref="ISecretProtector"/>). Mutual
/// exclusion: a renewed lease on the cluster's <c>lock</c> blob. Writes: optimistic concurrency with ETags (a
/// document changed by someone else since this store read it is never overwritten), and only while this store's
/// lease is still held. Create with <see cref="FromConnectionString"/> or <see cref="FromUri"/>.
/// </summary>
public sealed class AzureBlobStateStore : IStateStore
{
    public const string DocumentName = "state.json";
    public const string LockName = "lock";
    internal const string KeyIdMetadata = "ksctlkeyid";

    private readonly BlobContainerClient _container;
    /// <summary>The ETag of each document as this store last saw it; null: seen absent.</summary>
    private readonly ConcurrentDictionary<ClusterId, ETag?> _etags = new();
    private readonly ConcurrentDictionary<ClusterId, AzureBlobClusterLock> _locks = new();
    private readonly Lazy<ISecretProtector?> _protector;
    private readonly object _containerGate = new();
    private Task? _containerReady;

    internal AzureBlobStateStore(BlobContainerClient container, AzureBlobStateStoreOptions options)
    {
        _container = container;
        Options = options;
        var uri = new UriBuilder(container.Uri) { Query = string.Empty }.Uri;
        Description = $"AzureBlob: {uri.AbsoluteUri.TrimEnd('/')}";
        _protector = new Lazy<ISecretProtector?>(() => options.SecretProtector ?? StateKey.Resolve(options.StateKeyPath));
    }

    /// <summary>A store on the account of <paramref name="connectionString"/> (account key or SAS), in <paramref name="container"/> (created if absent).</summary>
    public static IStateStore FromConnectionString(string connectionString, string container, AzureBlobStateStoreOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ArgumentException.ThrowIfNullOrWhiteSpace(container);
        options ??= new AzureBlobStateStoreOptions();
        BlobContainerClient client;
        try
        {
            client = new BlobContainerClient(connectionString, container, ClientOptions(options));
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException)
        {
            throw new InvalidSpecException("ConnectionString", $"it is not an Azure Storage connection string ({ex.Message})");
        }
        CheckEndpoint(client.Uri, "ConnectionString");
        return new AzureBlobStateStore(client, options);
    }

    /// <summary>
    /// The state (tokens, keys, the account key's signatures) travels only over TLS: an endpoint must be https, except on
    /// the loopback interface (a local emulator such as Azurite).
    /// </summary>
    internal static void CheckEndpoint(Uri endpoint, string parameter)
    {
        if (endpoint.Scheme == Uri.UriSchemeHttps) return;
        if (endpoint.Scheme == Uri.UriSchemeHttp && endpoint.IsLoopback) return;
        throw new InvalidSpecException(parameter,
            $"the state store endpoint '{endpoint.Scheme}://{endpoint.Authority}' is not https; only a loopback emulator (127.0.0.1, localhost, ::1) may use http.");
    }

    /// <summary>
    /// A store at <paramref name="accountOrContainer"/> (<c>https://acct.blob.core.windows.net</c>, or with the container
    /// in its path), signed in with <c>DefaultAzureCredential</c> (environment, workload/managed identity, Azure CLI...),
    /// or with the SAS in its query if it has one. <paramref name="container"/> is required when the Uri names none.
    /// </summary>
    public static IStateStore FromUri(Uri accountOrContainer, string? container = null, AzureBlobStateStoreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(accountOrContainer);
        options ??= new AzureBlobStateStoreOptions();
        if (!accountOrContainer.IsAbsoluteUri)
            throw new InvalidSpecException("StateStoreUri", "it must be an absolute https:// Uri of a storage account or container");
        var containerUri = ContainerUri(accountOrContainer, container);
        var clientOptions = ClientOptions(options);
        var hasSas = accountOrContainer.Query.Contains("sig=", StringComparison.OrdinalIgnoreCase);
        if (!hasSas && accountOrContainer.Scheme != Uri.UriSchemeHttps)
            throw new InvalidSpecException("StateStoreUri", "signing in with an Azure identity needs an https:// Uri (use a connection string for an http emulator)");
        CheckEndpoint(accountOrContainer, "StateStoreUri");
        var client = hasSas
            ? new BlobContainerClient(containerUri, clientOptions)
            : new BlobContainerClient(containerUri, Credential(options), clientOptions);
        return new AzureBlobStateStore(client, options);
    }

    /// <summary>Tests and advanced hosts: any token credential.</summary>
    internal static AzureBlobStateStore FromTokenCredential(Uri containerUri, TokenCredential credential, AzureBlobStateStoreOptions options) =>
        new(new BlobContainerClient(containerUri, credential, ClientOptions(options)), options);

    /// <summary>The container Uri an account (or container) Uri and an optional container name designate; throws InvalidSpecException when they disagree or none is named.</summary>
    public static Uri ContainerUri(Uri accountOrContainer, string? container)
    {
        var segments = accountOrContainer.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        // Azurite and other path-style endpoints put the account first: http://127.0.0.1:10000/devstoreaccount1[/container]
        var pathStyle = accountOrContainer.IsLoopback || System.Net.IPAddress.TryParse(accountOrContainer.Host, out _);
        var accountSegments = pathStyle ? 1 : 0;
        if (segments.Length > accountSegments + 1)
            throw new InvalidSpecException("StateStoreUri", "it must name a storage account or a container, not a blob");
        var inUri = segments.Length == accountSegments + 1 ? Uri.UnescapeDataString(segments[^1]) : null;
        if (inUri is not null && !string.IsNullOrWhiteSpace(container) && !string.Equals(inUri, container, StringComparison.Ordinal))
            throw new InvalidSpecException("Container", $"the Uri names container '{inUri}' but '{container}' was given");
        var name = inUri ?? container;
        if (string.IsNullOrWhiteSpace(name))
            throw new InvalidSpecException("Container", "name the container, in the Uri or as a parameter");
        var builder = new UriBuilder(accountOrContainer)
        {
            Path = string.Join('/', segments.Take(accountSegments).Append(Uri.EscapeDataString(name))),
        };
        return builder.Uri;
    }

    private static TokenCredential Credential(AzureBlobStateStoreOptions options) =>
        new DefaultAzureCredential(new DefaultAzureCredentialOptions
        {
            ManagedIdentityClientId = options.ManagedIdentityClientId ?? Environment.GetEnvironmentVariable("AZURE_CLIENT_ID"),
            ExcludeInteractiveBrowserCredential = true,
        });

    private static BlobClientOptions ClientOptions(AzureBlobStateStoreOptions options)
    {
        var clientOptions = new BlobClientOptions();
        clientOptions.Retry.Mode = RetryMode.Exponential;
        clientOptions.Retry.MaxRetries = options.MaxRetries;
        clientOptions.Retry.Delay = TimeSpan.FromMilliseconds(200);
        clientOptions.Retry.MaxDelay = TimeSpan.FromSeconds(2);
        clientOptions.Retry.NetworkTimeout = options.NetworkTimeout;
        if (options.TestPolicy is { } policy) clientOptions.AddPolicy(policy, HttpPipelinePosition.PerRetry);
        clientOptions.Diagnostics.IsLoggingEnabled = false;
        clientOptions.Diagnostics.IsDistributedTracingEnabled = false;
        return clientOptions;
    }

    public string Description { get; }
    internal AzureBlobStateStoreOptions Options { get; }
    internal BlobContainerClient Container => _container;

    /// <summary>The folder-like prefix of a cluster's blobs.</summary>
    /// <remarks>The identity is checked first: a name or region holding '/', "..", a NUL... would name another blob.</remarks>
    public static string ClusterPrefix(ClusterId id)
    {
        StorePaths.CheckIdentity(id);
        return $"{id.Provider.ToString().ToLowerInvariant()}/{id.TypeSegment}/{id.Name} {id.Region}/";
    }
    public static string DocumentBlobName(ClusterId id) => ClusterPrefix(id) + DocumentName;
    public static string LockBlobName(ClusterId id) => ClusterPrefix(id) + LockName;

    public Task<ClusterState?> ReadAsync(ClusterId id, CancellationToken cancellationToken) =>
        Guard(() => ReadCoreAsync(id, cancellationToken), cancellationToken);

    private async Task<ClusterState?> ReadCoreAsync(ClusterId id, CancellationToken cancellationToken)
    {
        var name = DocumentBlobName(id);
        BlobDownloadResult result;
        try
        {
            result = (await _container.GetBlobClient(name).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            _etags[id] = null;
            return null;
        }
        var source = Source(name);
        var state = StateDocument.Decode(result.Content.ToMemory().Span, id, () => Protector, source, required: true);
        _etags[id] = result.Details.ETag;
        return state;
    }

    public Task WriteAsync(ClusterState state, CancellationToken cancellationToken) =>
        Guard(() => WriteCoreAsync(state, cancellationToken), cancellationToken);

    private async Task<bool> WriteCoreAsync(ClusterState state, CancellationToken cancellationToken)
    {
        var id = state.Id;
        var name = DocumentBlobName(id);
        // Everything that can fail locally fails before anything is sent.
        var (bytes, keyId) = SerializeProtected(state, Source(name));
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        await EnsureMayWriteAsync(id, cancellationToken).ConfigureAwait(false);

        var conditions = _etags.TryGetValue(id, out var seen) && seen is { } etag
            ? new BlobRequestConditions { IfMatch = etag }
            : new BlobRequestConditions { IfNoneMatch = ETag.All };
        var upload = new BlobUploadOptions
        {
            Conditions = conditions,
            HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
            Metadata = keyId is null ? null : new Dictionary<string, string> { [KeyIdMetadata] = keyId },
        };
        try
        {
            var response = await _container.GetBlobClient(name).UploadAsync(BinaryData.FromBytes(bytes), upload, cancellationToken).ConfigureAwait(false);
            _etags[id] = response.Value.ETag;
            return true;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && (BlobErrors.IsUnavailable(ex) || IsConditionFailure(ex)))
        {
            // The server may have stored this very upload while its answer was lost (a client timeout, a dropped
            // connection); the SDK's retry then meets its own write as a 412. Read back and compare before failing,
            // or every later checkpoint would fail with 412 too.
            if (await LandedAsync(name, bytes, cancellationToken).ConfigureAwait(false) is { } landed)
            {
                _etags[id] = landed;
                Warn(id, $"The state write of cluster {id} got no answer but had reached the store; it was confirmed by reading it back.");
                return true;
            }
            if (!IsConditionFailure(ex)) throw;
            throw new StateConflictException(id.ToString(),
                seen is null
                    ? "another process created its state document after this process found none (ETag check); it was not overwritten. Run Get-KsctlCluster and retry."
                    : "another process changed its state document since this process read it (ETag mismatch); it was not overwritten. Run Get-KsctlCluster and retry.",
                KsctlErrorCategory.ResourceBusy, ex);
        }
    }

    private static bool IsConditionFailure(Exception ex) =>
        ex is RequestFailedException { Status: 409 or 412 } rfe && rfe.ErrorCode is "ConditionNotMet" or "BlobAlreadyExists" or "TargetConditionNotMet";

    /// <summary>
    /// The ETag of the stored document when its bytes are exactly <paramref name="bytes"/> (our upload landed), else null.
    /// With a state key the bytes hold fresh nonces and a tag, so no other writer's document is equal by chance; without
    /// one, an equal document is the same state, which is what this write wanted stored.
    /// </summary>
    private async Task<ETag?> LandedAsync(string name, byte[] bytes, CancellationToken cancellationToken)
    {
        try
        {
            var current = (await _container.GetBlobClient(name).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value;
            return current.Content.ToMemory().Span.SequenceEqual(bytes) ? current.Details.ETag : null;
        }
        catch (Exception ex) when (ex is RequestFailedException || BlobErrors.IsUnavailable(ex))
        {
            return null; // cannot tell: the original error stands
        }
    }

    public Task DeleteAsync(ClusterId id, CancellationToken cancellationToken) =>
        Guard(() => DeleteCoreAsync(id, cancellationToken), cancellationToken);

    private async Task<bool> DeleteCoreAsync(ClusterId id, CancellationToken cancellationToken)
    {
        await EnsureMayWriteAsync(id, cancellationToken).ConfigureAwait(false);
        var conditions = _etags.TryGetValue(id, out var seen) && seen is { } etag ? new BlobRequestConditions { IfMatch = etag } : null;
        try
        {
            await _container.GetBlobClient(DocumentBlobName(id)).DeleteAsync(DeleteSnapshotsOption.IncludeSnapshots, conditions, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 404) { }
        catch (RequestFailedException ex) when (ex.Status == 412)
        {
            throw new StateConflictException(id.ToString(),
                "another process changed its state document since this process read it (ETag mismatch); it was not deleted.", KsctlErrorCategory.ResourceBusy, ex);
        }
        _etags[id] = null;

        var lockBlob = _container.GetBlobClient(LockBlobName(id));
        _locks.TryGetValue(id, out var held);
        try
        {
            await lockBlob.DeleteAsync(DeleteSnapshotsOption.None, held is null ? null : new BlobRequestConditions { LeaseId = held.LeaseId }, cancellationToken).ConfigureAwait(false);
            held?.MarkBlobDeleted();
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 409 or 412)
        {
            // Gone already, or leased by an operation that just started: it keeps its lock blob.
        }
        return true;
    }

    public async IAsyncEnumerable<ClusterState> ListAsync(ClusterQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var ids = await ListIdentitiesAsync(query, cancellationToken).ConfigureAwait(false);
        if (ids.Count == 0) yield break;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var gate = new SemaphoreSlim(Math.Max(1, Options.MaxParallelDownloads));
        var downloads = ids.Select(async id =>
        {
            await gate.WaitAsync(stop.Token).ConfigureAwait(false);
            try { return await ReadAsync(id, stop.Token).ConfigureAwait(false); }
            finally { gate.Release(); }
        }).ToList();
        try
        {
            foreach (var download in downloads)
            {
                // A document deleted between listing and downloading is simply not there any more.
                if (await download.ConfigureAwait(false) is { } state) yield return state;
            }
        }
        finally
        {
            stop.Cancel();
            try { await Task.WhenAll(downloads).ConfigureAwait(false); } catch (Exception) { /* the consumer stopped, or the error was already thrown */ }
        }
    }

    /// <summary>The identities of the documents matching the query, from the blob names alone.</summary>
    internal Task<List<ClusterId>> ListIdentitiesAsync(ClusterQuery query, CancellationToken cancellationToken) =>
        Guard(() => ListIdsAsync(query, cancellationToken), cancellationToken);

    private async Task<List<ClusterId>> ListIdsAsync(ClusterQuery query, CancellationToken cancellationToken)
    {
        var prefix = query.Provider is { } p
            ? p.ToString().ToLowerInvariant() + "/" + (query.Type is { } t ? (t == ClusterType.Managed ? "managed/" : "selfmanaged/") : string.Empty)
            : null;
        var ids = new List<ClusterId>();
        try
        {
            await foreach (var item in _container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix }, cancellationToken).ConfigureAwait(false))
            {
                if (TryParseDocumentName(item.Name) is { } id && query.Matches(id)) ids.Add(id);
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404) { } // no container yet: no clusters
        return ids;
    }

    internal static ClusterId? TryParseDocumentName(string blobName)
    {
        var parts = blobName.Split('/');
        if (parts.Length != 4 || parts[3] != DocumentName) return null;
        if (!Enum.TryParse<CloudProvider>(parts[0], ignoreCase: true, out var provider) || !Enum.IsDefined(provider)) return null;
        if (parts[0] != provider.ToString().ToLowerInvariant()) return null;
        ClusterType type;
        if (parts[1] == "managed") type = ClusterType.Managed;
        else if (parts[1] == "selfmanaged") type = ClusterType.SelfManaged;
        else return null;
        var space = parts[2].IndexOf(' ');
        if (space <= 0 || space == parts[2].Length - 1) return null;
        var id = new ClusterId(provider, type, parts[2][..space], parts[2][(space + 1)..]);
        // A blob name no valid identity maps to was not written by Ksctl: never read through it.
        return id.Problem() is null ? id : null;
    }

    public async Task<IClusterLock> AcquireLockAsync(ClusterId id, string operation, bool breakStale, CancellationToken cancellationToken)
    {
        var acquired = await Guard(async () =>
        {
            await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
            return await AzureBlobClusterLock.AcquireAsync(this, _container, id, LockBlobName(id), operation, breakStale, cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        _locks[id] = acquired;
        return acquired;
    }

    internal void Forget(AzureBlobClusterLock held) => _locks.TryRemove(new KeyValuePair<ClusterId, AzureBlobClusterLock>(held.Cluster, held));

    internal void Warn(ClusterId cluster, string message) =>
        Options.Events?.Report(new KsctlEvent { Level = KsctlLogLevel.Warning, Component = "state-store", Message = message, Cluster = cluster.ToString() });

    public Task<string?> LockHolderAsync(ClusterId id, CancellationToken cancellationToken) =>
        AzureBlobClusterLock.LeasedByAsync(_container.GetBlobClient(LockBlobName(id)), cancellationToken);

    /// <summary>A held lock must still be ours (renewed now); without one, nobody else may hold it.</summary>
    private async Task EnsureMayWriteAsync(ClusterId id, CancellationToken cancellationToken)
    {
        if (_locks.TryGetValue(id, out var held))
        {
            await held.EnsureHeldAsync(cancellationToken).ConfigureAwait(false);
            return;
        }
        if (await AzureBlobClusterLock.LeasedByAsync(_container.GetBlobClient(LockBlobName(id)), cancellationToken).ConfigureAwait(false) is { } holder)
            throw new ClusterLockedException(id.ToString(), holder);
    }

    private Task EnsureContainerAsync(CancellationToken cancellationToken)
    {
        lock (_containerGate)
        {
            if (_containerReady is { IsCompletedSuccessfully: true }) return Task.CompletedTask;
            if (_containerReady is null || _containerReady.IsFaulted || _containerReady.IsCanceled)
                _containerReady = CreateContainerAsync(cancellationToken);
            return _containerReady;
        }
    }

    private async Task CreateContainerAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 403)
        {
            // Data-plane roles that may not create containers: the container must exist; the next call says so if not.
        }
    }

    private ISecretProtector? Protector => _protector.Value;

    /// <summary>The state key's protector (null when none is configured), for other documents kept in this container.</summary>
    internal ISecretProtector? SecretProtector => _protector.Value;

    /// <summary>Runs a blob operation with this store's error translation (for other documents kept in this container).</summary>
    internal Task<T> GuardAsync<T>(Func<Task<T>> operation, CancellationToken cancellationToken) => Guard(operation, cancellationToken);

    /// <summary>Creates the container on first write.</summary>
    internal Task EnsureContainerReadyAsync(CancellationToken cancellationToken) => EnsureContainerAsync(cancellationToken);

    /// <summary>The bytes to upload: the shared document, with every secret replaced by its protected form. The live state is not touched.</summary>
    private (byte[] Bytes, string? KeyId) SerializeProtected(ClusterState state, string source)
    {
        // With a state key every document is sealed (even one without secrets); without one, a document with secrets is refused.
        var protector = Protector;
        return (StateDocument.Encode(state, protector, source, required: true), protector?.KeyId);
    }

    private string Source(string blobName) => $"{Description}/{blobName}";

    private async Task<T> Guard<T>(Func<Task<T>> operation, CancellationToken cancellationToken)
    {
        try
        {
            return await operation().ConfigureAwait(false);
        }
        catch (Exception ex) when (BlobErrors.Translate(ex, Description, cancellationToken) is { } translated)
        {
            throw translated;
        }
    }
}
