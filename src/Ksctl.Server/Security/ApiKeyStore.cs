using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Ksctl.Server.Security;

/// <summary>One API key as stored: its public id, a name for the audit log, its role, and only the SHA-256 of its secret.</summary>
public sealed record ApiKeyRecord
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required ApiRole Role { get; init; }
    /// <summary>Base64 SHA-256 of the whole key string. The key has 256 random bits, so no salt or slow hash is needed.</summary>
    public required string Hash { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? RevokedAt { get; init; }
}

/// <summary>
/// API keys kept hashed in <c>$KSCTL_HOME/server/apikeys.json</c> (0600). A key reads <c>ksk_&lt;id&gt;_&lt;secret&gt;</c>:
/// the id finds the record, the hash of the presented key is compared in constant time
/// (<see cref="CryptographicOperations.FixedTimeEquals"/>). The file is re-read when it changes, so keys created or
/// revoked by <c>ksctl-server apikey ...</c> take effect on a running server.
/// </summary>
public sealed partial class ApiKeyStore(string path, TimeProvider time)
{
    private readonly object _gate = new();
    private List<ApiKeyRecord> _cache = [];
    private DateTime _cacheStamp = DateTime.MinValue;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true, Converters = { new JsonStringEnumConverter() } };

    public string Path { get; } = path;

    public static string DefaultPath(string home) => System.IO.Path.Combine(home, "server", "apikeys.json");

    [GeneratedRegex("^[a-z][a-z0-9-]{0,62}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^ksk_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$")]
    private static partial Regex KeyPattern();

    /// <summary>Creates a key; the returned string is the only time the secret exists outside the caller.</summary>
    public (ApiKeyRecord Record, string Key) Create(string name, ApiRole role)
    {
        if (!NamePattern().IsMatch(name ?? ""))
            throw new ArgumentException($"Invalid API key name '{name}': use lowercase letters, digits and '-', starting with a letter, at most 63 characters.");
        if (!Enum.IsDefined(role)) throw new ArgumentException($"Invalid role '{role}': one of {string.Join(", ", Enum.GetNames<ApiRole>())}.");
        lock (_gate)
        {
            var all = Load();
            if (all.Any(k => k.Name == name && k.RevokedAt is null))
                throw new ArgumentException($"An API key named '{name}' exists already; revoke it first.");
            var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
            var secret = Base64Url(RandomNumberGenerator.GetBytes(32));
            var key = $"ksk_{id}_{secret}";
            var record = new ApiKeyRecord { Id = id, Name = name!, Role = role, Hash = HashOf(key), CreatedAt = time.GetUtcNow() };
            all.Add(record);
            Save(all);
            return (record, key);
        }
    }

    /// <summary>Revokes the live key with this name (or id); false when there is none.</summary>
    public bool Revoke(string nameOrId)
    {
        lock (_gate)
        {
            var all = Load();
            var index = all.FindIndex(k => k.RevokedAt is null && (k.Name == nameOrId || k.Id == nameOrId));
            if (index < 0) return false;
            all[index] = all[index] with { RevokedAt = time.GetUtcNow() };
            Save(all);
            return true;
        }
    }

    public IReadOnlyList<ApiKeyRecord> List()
    {
        lock (_gate) return Load();
    }

    /// <summary>The live record the presented key belongs to, or null. Never throws on hostile input.</summary>
    public ApiKeyRecord? Verify(string? presented)
    {
        if (presented is null || presented.Length > 200) return null;
        var match = KeyPattern().Match(presented);
        if (!match.Success) return null;
        List<ApiKeyRecord> all;
        lock (_gate) all = Cached();
        var record = all.FirstOrDefault(k => k.Id == match.Groups[1].Value && k.RevokedAt is null);
        // The hash is compared even for an unknown id, so an unknown id and a wrong secret take the same time.
        var expected = Convert.FromBase64String(record?.Hash ?? Convert.ToBase64String(new byte[32]));
        var actual = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        return CryptographicOperations.FixedTimeEquals(expected, actual) && record is not null ? record : null;
    }

    private List<ApiKeyRecord> Cached()
    {
        var stamp = File.Exists(Path) ? File.GetLastWriteTimeUtc(Path) : DateTime.MinValue;
        if (stamp != _cacheStamp) { _cache = Load(); _cacheStamp = stamp; }
        return _cache;
    }

    private List<ApiKeyRecord> Load()
    {
        if (!File.Exists(Path)) return [];
        try { return JsonSerializer.Deserialize<List<ApiKeyRecord>>(File.ReadAllText(Path), Json) ?? []; }
        catch (JsonException ex) { throw new InvalidDataException($"The API key file '{Path}' is not valid JSON: {ex.Message}", ex); }
    }

    private void Save(List<ApiKeyRecord> all)
    {
        var dir = System.IO.Path.GetDirectoryName(Path)!;
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(dir);
        else Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var temp = Path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temp, options))
        {
            JsonSerializer.Serialize(stream, all, Json);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, Path, overwrite: true);
        _cacheStamp = DateTime.MinValue;
    }

    private static string HashOf(string key) => Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
