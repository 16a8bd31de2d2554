using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;

namespace Ksctl.Core.Backup;

/// <summary>
/// The checks a snapshot file passes on this side before it is kept or restored, whatever a machine said about it.
/// Upstream sources:
/// <list type="bullet">
/// <item>etcd's <c>snapshot save</c> streams the backend (a bbolt file) and appends the SHA-256 of everything before
/// it; <c>snapshot restore</c> recognises that hash by the file's length (<c>size % 512 == sha256.Size</c>, a bbolt file is
/// a whole number of pages) and refuses a mismatch unless <c>--skip-hash-check</c> (etcd 3.4
/// clientv3/snapshot/v3_snapshot.go, etcd 3.5 etcdutl/snapshot/v3_snapshot.go, "snapshot restore" in the v3.4/v3.5
/// op-guide/recovery.md). <c>snapshot status</c> does NOT check that hash (checked here with etcd 3.4.23: a flipped
/// byte still gives a status), so this class does.</item>
/// <item>A bbolt file starts with a meta page: a 16-byte page header then the meta's magic 0xED0CDAED, little-endian
/// (bbolt page.go / db.go <c>magic</c>).</item>
/// <item><c>snapshot status -w json</c> prints <c>{"hash":..,"revision":..,"totalKey":..,"totalSize":..}</c>
/// (etcdctl/ctlv3/command/printer_json.go DBStatus).</item>
/// </list>
/// </summary>
public static class EtcdSnapshot
{
    /// <summary>
    /// The largest snapshot this version keeps: etcd's default backend quota is 2 GiB (--quota-backend-bytes), and a
    /// snapshot is held in memory once while it is checked and encrypted.
    /// </summary>
    public const long MaxBytes = 1L << 30;
    private const int HashSize = 32;
    private const uint BoltMagic = 0xED0CDAED;
    private const int MinimumBoltFile = 4 * 4096;

    /// <summary>SHA-256 of the whole file, lowercase hex.</summary>
    public static string Sha256Hex(ReadOnlySpan<byte> snapshot) => Convert.ToHexString(SHA256.HashData(snapshot)).ToLowerInvariant();

    /// <summary>Null when <paramref name="snapshot"/> is an intact etcd snapshot, else why not.</summary>
    public static string? Problem(ReadOnlySpan<byte> snapshot)
    {
        if (snapshot.Length > MaxBytes) return $"it has {snapshot.Length} bytes, more than the {MaxBytes} this version keeps";
        if (snapshot.Length < MinimumBoltFile + HashSize) return $"it has only {snapshot.Length} bytes, too few for an etcd snapshot";
        if (snapshot.Length % 512 != HashSize)
            return "it does not end with the SHA-256 etcd's snapshot save appends (a copy of a data folder's db file, or a truncated file)";
        if (BinaryPrimitives.ReadUInt32LittleEndian(snapshot.Slice(16, 4)) != BoltMagic) return "it is not an etcd (bbolt) database: its first page has no bbolt magic";
        var body = snapshot[..^HashSize];
        Span<byte> actual = stackalloc byte[HashSize];
        SHA256.HashData(body, actual);
        if (!CryptographicOperations.FixedTimeEquals(actual, snapshot[^HashSize..]))
            return "its content does not match the SHA-256 etcd appended when it was saved (the file is damaged or was changed)";
        return null;
    }

    /// <summary>What <c>etcdctl snapshot status -w json</c> printed, read strictly: four non-negative integers and nothing else.</summary>
    public static SnapshotStatus ParseStatus(string json, string backup)
    {
        try
        {
            using var doc = JsonDocument.Parse(json.Trim(), new JsonDocumentOptions { MaxDepth = 2 });
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new BackupInvalidException(backup, "etcdctl snapshot status did not print a JSON object");
            long Field(string name)
            {
                if (!root.TryGetProperty(name, out var v) || v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out var n) || n < 0)
                    throw new BackupInvalidException(backup, $"etcdctl snapshot status printed no valid '{name}'");
                return n;
            }
            var status = new SnapshotStatus(Field("hash"), Field("revision"), Field("totalKey"), Field("totalSize"));
            if (status.Hash > uint.MaxValue) throw new BackupInvalidException(backup, "etcdctl snapshot status printed a hash that is no CRC-32");
            return status;
        }
        catch (JsonException ex)
        {
            throw new BackupInvalidException(backup, $"etcdctl snapshot status did not print JSON ({ex.Message})");
        }
    }
}

/// <summary>etcd's own description of a snapshot (etcdctl snapshot status).</summary>
public sealed record SnapshotStatus(long Hash, long Revision, long TotalKeys, long TotalSize);
