using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Ksctl.Core.Model;
using Ksctl.Core.Storage;
using Ksctl.Core.Storage.Protection;

namespace Ksctl.Core.Backup;

/// <summary>
/// The stored description of one backup (JSON beside the snapshot, or beside a -Path file): the
/// <see cref="EtcdBackup"/> fields, how the snapshot is encrypted, and (with a state key) an HMAC tag over the rest,
/// so nobody without the key can change what a restore will trust. Read back strictly: every field checked.
/// </summary>
internal static partial class BackupRecord
{
    public const string PlainEncoding = "none";

    [GeneratedRegex("^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}\\z")]
    private static partial Regex IdPattern();

    [GeneratedRegex("^[0-9a-f]{64}\\z")]
    private static partial Regex Sha256Pattern();

    [GeneratedRegex("^(db-[0-9]{1,3})\\z")]
    private static partial Regex MemberPattern();

    public static bool IsValidId(string? id) => id is not null && IdPattern().IsMatch(id);

    public static string NewId(DateTimeOffset now) =>
        $"{now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture)}-{Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3)).ToLowerInvariant()}";

    /// <summary>The associated data of a snapshot encrypted in a store: the cluster and the backup id.</summary>
    public static string Purpose(ClusterId cluster, string id) => $"backup:{cluster.Canonical}:{id}";

    public static byte[] Encode(EtcdBackup backup, string encoding, IStateAuthenticator? authenticator)
    {
        var document = new Document { Backup = backup, Encoding = encoding };
        if (authenticator is not null) document.Integrity = authenticator.Seal(JsonSerializer.SerializeToUtf8Bytes(document, StateSerializer.Options));
        return JsonSerializer.SerializeToUtf8Bytes(document, StateSerializer.Options);
    }

    /// <summary>
    /// Parses and checks a stored record found for <paramref name="expected"/> (null: any cluster, for a file given by
    /// path). With a state key, the tag must verify. Throws <see cref="BackupInvalidException"/>.
    /// </summary>
    public static (EtcdBackup Backup, string Encoding) Decode(ReadOnlySpan<byte> json, ClusterId? expected, string source, IStateAuthenticator? authenticator)
    {
        Document? document;
        try { document = JsonSerializer.Deserialize<Document>(json, StateSerializer.Options); }
        catch (JsonException ex) { throw new BackupInvalidException(source, $"its description is not valid JSON ({ex.Message})"); }
        if (document?.Backup is not { } b || document.Encoding is null) throw new BackupInvalidException(source, "its description is empty");
        if (authenticator is not null)
        {
            var tag = document.Integrity ?? throw new BackupInvalidException(source, "its description carries no integrity tag, but a state key is configured and every backup written with it is sealed");
            document.Integrity = null;
            if (authenticator.Verify(JsonSerializer.SerializeToUtf8Bytes(document, StateSerializer.Options), tag) is { } problem)
                throw new BackupInvalidException(source, problem);
        }
        if (Problem(b) is { } rule) throw new BackupInvalidException(source, rule);
        if (expected is not null && b.Cluster != expected)
            throw new BackupInvalidException(source, $"it belongs to cluster {b.Cluster.Canonical}, not {expected.Canonical}");
        return (b, document.Encoding);
    }

    private static string? Problem(EtcdBackup b)
    {
        if (b.Cluster is null || b.Cluster.Name is null || b.Cluster.Region is null || b.Cluster.Problem() is not null) return "its cluster identity is invalid";
        if (!IsValidId(b.Id)) return "its id is not a Ksctl backup id";
        if (b.Revision < 0 || b.TotalKeys < 0) return "its revision or key count is negative";
        if (b.Size <= 0 || b.Size > EtcdSnapshot.MaxBytes) return $"its size {b.Size} is outside 1..{EtcdSnapshot.MaxBytes}";
        if (b.Sha256 is null || !Sha256Pattern().IsMatch(b.Sha256)) return "its SHA-256 is not 64 lowercase hex digits";
        if (b.Member is null || !MemberPattern().IsMatch(b.Member)) return "its member is not a datastore node (db-N)";
        if (string.IsNullOrEmpty(b.Location)) return "it has no location";
        return null;
    }

    private sealed class Document
    {
        public EtcdBackup? Backup { get; set; }
        public string? Encoding { get; set; }
        public string? Integrity { get; set; }
    }
}
