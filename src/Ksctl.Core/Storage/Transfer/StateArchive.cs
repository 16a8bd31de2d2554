using System.Text;
using System.Text.Json;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Storage.Protection;

namespace Ksctl.Core.Storage.Transfer;

/// <summary>
/// A file holding the state documents of one or more clusters, to move them between stores:
/// <c>{ "format": "ksctl-state-export", "version": 1, "keyId": …, "exportedAt": …, "clusters": [ &lt;state document&gt;… ] }</c>.
/// Each document is the store's own JSON; every secret in it is encrypted (AES-GCM, the cluster and secret name as
/// associated data) with an explicit key file, so the archive can travel. A document without secrets needs no key.
/// </summary>
public static class StateArchive
{
    public const string Format = "ksctl-state-export";
    public const int Version = 1;

    /// <summary>
    /// Writes the documents of <paramref name="states"/> to <paramref name="path"/> (0600, atomically). When any has
    /// secrets, <paramref name="keyPath"/> is required; a key file that does not exist yet is created with a new key.
    /// </summary>
    public static ExportResult Write(IReadOnlyList<ClusterState> states, string path, string? keyPath)
    {
        ArgumentNullException.ThrowIfNull(states);
        ISecretProtector? protector = null;
        var keyCreated = false;
        if (states.Any(s => s.Secrets.Count > 0))
        {
            if (string.IsNullOrWhiteSpace(keyPath))
                throw new KsctlException("KsctlStateKeyMissing", KsctlErrorCategory.SecurityError,
                    $"The exported clusters hold secrets ({string.Join(", ", states.Where(s => s.Secrets.Count > 0).Select(s => s.Id.Name))}), " +
                    "which an export file keeps only encrypted: give -KeyPath, a key file (created with a new key if it does not exist).", path)
                { RecommendedAction = "Add -KeyPath <file>, and keep that file: Import-KsctlState needs it." };
            if (File.Exists(keyPath)) protector = StateKey.FromFile(keyPath);
            else { protector = StateKey.CreateKeyFile(keyPath); keyCreated = true; }
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("format", Format);
            writer.WriteNumber("version", Version);
            writer.WriteString("exportedAt", DateTimeOffset.UtcNow);
            if (protector is not null) writer.WriteString("keyId", protector.KeyId);
            writer.WriteStartArray("clusters");
            foreach (var state in states)
            {
                var bytes = StateSerializer.Serialize(state);
                if (protector is not null)
                {
                    // A private copy through the one serializer; the live state is not touched. With a key every
                    // document is also sealed, so an archive that travels cannot be changed on the way unnoticed.
                    var copy = StateSerializer.Deserialize(bytes, path);
                    copy.Secrets = copy.Secrets.ToDictionary(kv => kv.Key, kv => protector.Protect(kv.Value, Purpose(copy.Id, kv.Key)), StringComparer.Ordinal);
                    copy.Integrity = null;
                    copy.Integrity = ((IStateAuthenticator)protector).Seal(StateSerializer.Serialize(copy));
                    bytes = StateSerializer.Serialize(copy);
                }
                using var doc = JsonDocument.Parse(bytes);
                doc.RootElement.WriteTo(writer);
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        SecureFile.WriteAtomic(path, buffer.ToArray());
        return new ExportResult(Path.GetFullPath(path), states.Select(s => s.Id).ToList(), protector?.KeyId, keyCreated);
    }

    /// <summary>Reads an archive; its secrets are decrypted with <paramref name="keyPath"/> (required when it has any).</summary>
    public static IReadOnlyList<ClusterState> Read(string path, string? keyPath)
    {
        byte[] content;
        try { content = File.ReadAllBytes(path); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            var notFound = ex is FileNotFoundException or DirectoryNotFoundException;
            throw new KsctlException(notFound ? "KsctlImportFileNotFound" : "KsctlImportFileUnreadable",
                notFound ? KsctlErrorCategory.ObjectNotFound : KsctlErrorCategory.ReadError, $"Cannot read the export file '{path}': {ex.Message}", path, ex);
        }
        // Strict UTF-8 first: JsonDocument leaves invalid sequences inside strings to fail later, as non-Ksctl errors.
        try { _ = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetCharCount(content); }
        catch (DecoderFallbackException ex) { throw Invalid(path, "it is not UTF-8 text", ex); }
        JsonDocument archive;
        try { archive = JsonDocument.Parse(content); }
        catch (JsonException ex) { throw Invalid(path, $"it is not JSON ({ex.Message})", ex); }
        using (archive)
        {
            var root = archive.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("format", out var format) || format.ValueKind != JsonValueKind.String || format.GetString() != Format)
                throw Invalid(path, $"it is not a Ksctl state export (no \"format\": \"{Format}\")");
            if (!root.TryGetProperty("version", out var version) || version.ValueKind != JsonValueKind.Number || !version.TryGetInt32(out var v) || v < 1)
                throw Invalid(path, "it has no version");
            if (v > Version)
                throw new KsctlException("KsctlStateSchemaTooNew", KsctlErrorCategory.InvalidData,
                    $"The export file '{path}' has version {v}; this Ksctl reads up to {Version}. Update Ksctl.", path);
            if (!root.TryGetProperty("clusters", out var clusters) || clusters.ValueKind != JsonValueKind.Array)
                throw Invalid(path, "it has no clusters array");

            // A key given (or needed) makes the archive authenticated: every document must then carry its tag.
            ISecretProtector? protector = string.IsNullOrWhiteSpace(keyPath) ? null : StateKey.FromFile(keyPath);
            var states = new List<ClusterState>();
            var seen = new HashSet<ClusterId>();
            foreach (var element in clusters.EnumerateArray())
            {
                if (element.ValueKind != JsonValueKind.Object) throw Invalid(path, "an entry of its clusters array is not a state document");
                ClusterState state;
                try { state = StateSerializer.Deserialize(Encoding.UTF8.GetBytes(element.GetRawText()), path); }
                catch (InvalidOperationException ex) { throw Invalid(path, $"an entry is not valid UTF-8 JSON ({ex.Message})", ex); }
                var cluster = state.Id is null ? "(no id)" : state.Id.ToString();
                StateDocument.CheckShape(state, cluster, path);
                if (!seen.Add(state.Id!)) throw Invalid(path, $"it holds cluster {state.Id} twice");
                var needsKey = state.Integrity is not null || state.Secrets.Values.Any(v => v.StartsWith(AesGcmSecretProtector.Prefix, StringComparison.Ordinal));
                if (needsKey && protector is null)
                    throw new KsctlException("KsctlStateKeyMissing", KsctlErrorCategory.SecurityError,
                        $"The export file '{path}' holds encrypted secrets: give -KeyPath, the key file it was exported with.", path);
                if (protector is not null) StateDocument.Verify(state, () => protector, $"{path}: cluster {state.Id}", required: false);
                foreach (var name in state.Secrets.Keys.ToList())
                {
                    var value = state.Secrets[name];
                    if (!value.StartsWith(AesGcmSecretProtector.Prefix, StringComparison.Ordinal)) continue;
                    try { state.Secrets[name] = protector!.Unprotect(value, Purpose(state.Id!, name)); }
                    catch (StateKeyInvalidException ex)
                    {
                        throw new StateKeyInvalidException(path, $"cluster {state.Id}, secret '{name}': {ex.Reason}", ex);
                    }
                }
                states.Add(state);
            }
            return states;
        }
    }

    /// <summary>
    /// Writes <paramref name="state"/> into <paramref name="store"/> under the cluster's lock. An existing cluster is
    /// replaced only with <paramref name="force"/>; otherwise <see cref="ClusterExistsException"/>.
    /// </summary>
    public static async Task ImportAsync(IStateStore store, ClusterState state, bool force, CancellationToken cancellationToken)
    {
        StorePaths.CheckIdentity(state.Id);
        await using var clusterLock = await store.AcquireLockAsync(state.Id, "import", breakStale: false, cancellationToken).ConfigureAwait(false);
        var existing = await store.ReadAsync(state.Id, cancellationToken).ConfigureAwait(false);
        if (existing is not null && !force) throw new ClusterExistsException(state.Id.ToString(), store.Description);
        await store.WriteAsync(state, cancellationToken).ConfigureAwait(false);
    }

    private static string Purpose(ClusterId id, string secret) => $"export:{id}:{secret}";

    private static KsctlException Invalid(string path, string reason, Exception? inner = null) =>
        new("KsctlImportFileInvalid", KsctlErrorCategory.InvalidData, $"The export file '{path}' cannot be imported: {reason}.", path, inner);
}

/// <summary>What <see cref="StateArchive.Write"/> wrote.</summary>
public sealed record ExportResult(string Path, IReadOnlyList<ClusterId> Clusters, string? KeyId, bool KeyCreated);

/// <summary>Import found the cluster in the target store and -Force was not given.</summary>
public sealed class ClusterExistsException(string cluster, string store)
    : KsctlException("KsctlClusterExists", KsctlErrorCategory.ResourceExists,
        $"Cluster {cluster} already exists in {store}; it was not overwritten. Use -Force to replace it.", cluster)
{
}
