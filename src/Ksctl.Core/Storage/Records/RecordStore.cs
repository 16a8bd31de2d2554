using System.Text.RegularExpressions;
using Azure;
using Azure.Storage.Blobs.Models;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Storage.AzureBlob;

namespace Ksctl.Core.Storage.Records;

/// <summary>
/// Small JSON documents kept beside the cluster states, shared by everyone on the same store: the server keeps its
/// operation records here so that any replica answers for any operation. File store: <c>&lt;root&gt;/records/&lt;kind&gt;/&lt;name&gt;.json</c>
/// (0600 files in 0700 folders, written atomically); AzureBlob: blobs <c>records/&lt;kind&gt;/&lt;name&gt;.json</c> in the state
/// container (three-part names, which the cluster listing skips). Not for secrets: nothing here is encrypted.
/// </summary>
public sealed partial class RecordStore
{
    private readonly IRecordBackend _backend;

    private RecordStore(IRecordBackend backend) => _backend = backend;

    /// <summary>The records of one <paramref name="kind"/> (lowercase letters and '-') in <paramref name="store"/>.</summary>
    public static RecordStore For(IStateStore store, string kind)
    {
        if (!NamePattern().IsMatch(kind)) throw new ArgumentException($"'{kind}' is not a record kind (lowercase letters, digits, '-').", nameof(kind));
        return store switch
        {
            FileStateStore file => new RecordStore(new FileBackend(Path.Combine(file.Root, "records", kind))),
            AzureBlobStateStore blob => new RecordStore(new BlobBackend(blob, $"records/{kind}/")),
            _ => throw new KsctlException("KsctlNotImplemented", KsctlErrorCategory.NotImplemented, $"The state store '{store.Description}' cannot keep records."),
        };
    }

    /// <summary>The record, or null when there is none.</summary>
    public Task<byte[]?> ReadAsync(string name, CancellationToken cancellationToken) => _backend.ReadAsync(Checked(name), cancellationToken);

    /// <summary>Replaces the record whole (a reader sees the old or the new one).</summary>
    public Task WriteAsync(string name, byte[] content, CancellationToken cancellationToken) => _backend.WriteAsync(Checked(name), content, cancellationToken);

    public Task DeleteAsync(string name, CancellationToken cancellationToken) => _backend.DeleteAsync(Checked(name), cancellationToken);

    /// <summary>Every record's name, in ordinal order.</summary>
    public async Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken) =>
        (await _backend.ListAsync(cancellationToken).ConfigureAwait(false)).Where(n => NamePattern().IsMatch(n)).Order(StringComparer.Ordinal).ToList();

    /// <summary>A name comes from a request path: only this shape ever reaches a file or blob name (no '/', no '..').</summary>
    private static string Checked(string name) =>
        NamePattern().IsMatch(name) ? name : throw new InvalidSpecException("Name", $"'{name}' is not a record name (1-100 lowercase letters, digits and '-').");

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,99}\\z")]
    private static partial Regex NamePattern();

    private interface IRecordBackend
    {
        Task<byte[]?> ReadAsync(string name, CancellationToken cancellationToken);
        Task WriteAsync(string name, byte[] content, CancellationToken cancellationToken);
        Task DeleteAsync(string name, CancellationToken cancellationToken);
        Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken);
    }

    private sealed class FileBackend(string folder) : IRecordBackend
    {
        public async Task<byte[]?> ReadAsync(string name, CancellationToken cancellationToken)
        {
            try { return await File.ReadAllBytesAsync(Path.Combine(folder, name + ".json"), cancellationToken).ConfigureAwait(false); }
            catch (FileNotFoundException) { return null; }
            catch (DirectoryNotFoundException) { return null; }
        }

        /// <summary>
        /// Atomic (a temp file renamed over the record) but not flushed to disk: a record is rewritten at every step of an
        /// operation, and a record lost in a power cut costs a progress view, not a cluster (SecureFile.WriteAtomic's
        /// fsyncs are for state documents).
        /// </summary>
        public async Task WriteAsync(string name, byte[] content, CancellationToken cancellationToken)
        {
            SecureFile.EnsureDirectory(Path.GetDirectoryName(folder)!);
            SecureFile.EnsureDirectory(folder);
            var path = Path.Combine(folder, name + ".json");
            var temp = Path.Combine(folder, $".{name}.{Guid.NewGuid():N}.tmp");
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, Options = FileOptions.Asynchronous };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            try
            {
                await using (var stream = new FileStream(temp, options)) await stream.WriteAsync(content, cancellationToken).ConfigureAwait(false);
                File.Move(temp, path, overwrite: true);
            }
            catch
            {
                try { File.Delete(temp); } catch (IOException) { }
                throw;
            }
        }

        public Task DeleteAsync(string name, CancellationToken cancellationToken)
        {
            File.Delete(Path.Combine(folder, name + ".json"));
            return Task.CompletedTask;
        }

        public Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<string>>(Directory.Exists(folder)
                ? Directory.GetFiles(folder, "*.json").Select(Path.GetFileNameWithoutExtension).OfType<string>().ToList()
                : []);
    }

    private sealed class BlobBackend(AzureBlobStateStore store, string prefix) : IRecordBackend
    {
        public Task<byte[]?> ReadAsync(string name, CancellationToken cancellationToken) => store.GuardAsync(async () =>
        {
            try { return (byte[]?)(await store.Container.GetBlobClient(prefix + name + ".json").DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content.ToArray(); }
            catch (RequestFailedException ex) when (ex.Status == 404) { return null; }
        }, cancellationToken);

        public Task WriteAsync(string name, byte[] content, CancellationToken cancellationToken) => store.GuardAsync(async () =>
        {
            await store.EnsureContainerReadyAsync(cancellationToken).ConfigureAwait(false);
            await store.Container.GetBlobClient(prefix + name + ".json").UploadAsync(BinaryData.FromBytes(content),
                new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" } }, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);

        public Task DeleteAsync(string name, CancellationToken cancellationToken) => store.GuardAsync(async () =>
        {
            try { await store.Container.GetBlobClient(prefix + name + ".json").DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false); }
            catch (RequestFailedException ex) when (ex.Status == 404) { }
            return true;
        }, cancellationToken);

        public Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken) => store.GuardAsync(async () =>
        {
            var names = new List<string>();
            try
            {
                await foreach (var item in store.Container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix }, cancellationToken).ConfigureAwait(false))
                {
                    var rest = item.Name[prefix.Length..];
                    if (!rest.Contains('/') && rest.EndsWith(".json", StringComparison.Ordinal)) names.Add(rest[..^5]);
                }
            }
            catch (RequestFailedException ex) when (ex.Status == 404) { } // no container yet
            return (IReadOnlyList<string>)names;
        }, cancellationToken);
    }
}
