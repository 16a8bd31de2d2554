using System.Security.Cryptography;

namespace Ksctl.Core.Storage.Protection;

/// <summary>
/// Where the state key comes from: a key file, or the environment. The key is 32 random bytes, written as base64
/// (a key file may also hold the 32 raw bytes). The user keeps it (a secret store, an Automation variable); Ksctl
/// never stores it next to the state.
/// </summary>
public static class StateKey
{
    /// <summary>Base64 of the 32-byte key.</summary>
    public const string EnvironmentVariable = "KSCTL_STATE_KEY";
    /// <summary>Path of a file holding the key.</summary>
    public const string FileEnvironmentVariable = "KSCTL_STATE_KEY_FILE";
    public const int KeySizeInBytes = 32;

    /// <summary>A new random key, base64 (for KSCTL_STATE_KEY or a key file).</summary>
    public static string Generate() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(KeySizeInBytes));

    /// <summary>Writes a new random key to <paramref name="path"/> (0600 on Unix) and returns its protector.</summary>
    public static ISecretProtector CreateKeyFile(string path)
    {
        var key = Generate();
        SecureFile.WriteAtomic(path, System.Text.Encoding.ASCII.GetBytes(key + "\n"));
        return FromBase64(key, path);
    }

    /// <summary>A protector for a base64 key. <paramref name="source"/> names where it came from in errors.</summary>
    public static ISecretProtector FromBase64(string base64Key, string source = EnvironmentVariable)
    {
        byte[] key;
        try { key = Convert.FromBase64String(base64Key.Trim()); }
        catch (FormatException ex) { throw new StateKeyInvalidException(source, $"it is not base64 (expected {KeySizeInBytes} bytes as base64).", ex); }
        return FromBytes(key, source);
    }

    /// <summary>A protector for a 32-byte key.</summary>
    public static ISecretProtector FromBytes(ReadOnlySpan<byte> key, string source = "key")
    {
        if (key.Length != KeySizeInBytes)
            throw new StateKeyInvalidException(source, $"it has {key.Length} bytes; a state key has {KeySizeInBytes} bytes (256 bits).");
        return new AesGcmSecretProtector(key);
    }

    /// <summary>A protector for the key in a file: base64 text, or exactly 32 raw bytes.</summary>
    public static ISecretProtector FromFile(string path)
    {
        byte[] content;
        try { content = File.ReadAllBytes(path); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StateKeyInvalidException(path, $"the key file cannot be read: {ex.Message}", ex);
        }
        // Exactly 32 bytes is a raw key (a base64 key is 44 characters, so the two never look alike).
        if (content.Length == KeySizeInBytes) return FromBytes(content, path);
        return FromBase64(System.Text.Encoding.ASCII.GetString(content), path);
    }

    /// <summary>
    /// The configured key: <paramref name="keyFilePath"/> if given, else <c>KSCTL_STATE_KEY</c>, else the file named
    /// by <c>KSCTL_STATE_KEY_FILE</c>; null when none is set.
    /// </summary>
    public static ISecretProtector? Resolve(string? keyFilePath = null)
    {
        if (!string.IsNullOrWhiteSpace(keyFilePath)) return FromFile(keyFilePath);
        var env = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(env)) return FromBase64(env, EnvironmentVariable);
        var file = Environment.GetEnvironmentVariable(FileEnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(file)) return FromFile(file);
        return null;
    }
}
