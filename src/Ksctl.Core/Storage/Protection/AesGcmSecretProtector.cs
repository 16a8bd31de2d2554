using System.Security.Cryptography;
using System.Text;

namespace Ksctl.Core.Storage.Protection;

/// <summary>
/// AES-256-GCM with a random 12-byte nonce per value and a 16-byte tag. Output:
/// <c>ksctl-aesgcm:v1:&lt;base64(nonce | ciphertext | tag)&gt;</c>. The purpose (the cluster's canonical id and the
/// secret's name, see <see cref="ProtectedSecrets.Purpose"/>) is the associated data. The same key, through a derived
/// MAC key, also seals whole documents (<see cref="IStateAuthenticator"/>). Create through <see cref="StateKey"/>.
/// </summary>
internal sealed class AesGcmSecretProtector : ISecretProtector, IStateAuthenticator, IBlobProtector
{
    public const string TagPrefix = "ksctl-hmac:v1:";
    public const string Prefix = "ksctl-aesgcm:v1:";
    private const int NonceSize = 12;
    private const int TagSize = 16;

    private readonly byte[] _key;
    /// <summary>A separate key for document tags, derived so that a tag never reveals or reuses the encryption key.</summary>
    private readonly byte[] _macKey;

    public AesGcmSecretProtector(ReadOnlySpan<byte> key)
    {
        if (key.Length != StateKey.KeySizeInBytes) throw new ArgumentException("A state key has 32 bytes.", nameof(key));
        _key = key.ToArray();
        // A fingerprint that says nothing about the key: a hash of a fixed label under the key.
        KeyId = Convert.ToHexString(HMACSHA256.HashData(_key, "ksctl-state-key-id"u8)).Substring(0, 16).ToLowerInvariant();
        _macKey = HMACSHA256.HashData(_key, "ksctl-state-integrity:v1"u8);
    }

    public string Seal(ReadOnlySpan<byte> canonical) =>
        $"{TagPrefix}{KeyId}:{Convert.ToBase64String(HMACSHA256.HashData(_macKey, canonical))}";

    public string? Verify(ReadOnlySpan<byte> canonical, string tag)
    {
        if (!tag.StartsWith(TagPrefix, StringComparison.Ordinal)) return "its integrity tag is not in the ksctl-hmac:v1 format";
        var rest = tag.AsSpan(TagPrefix.Length);
        var colon = rest.IndexOf(':');
        if (colon < 0) return "its integrity tag is damaged";
        if (!rest[..colon].SequenceEqual(KeyId)) return $"it was sealed with state key {rest[..colon].ToString()}, not the configured key {KeyId}";
        byte[] given;
        try { given = Convert.FromBase64String(rest[(colon + 1)..].ToString()); }
        catch (FormatException) { return "its integrity tag is damaged (not base64)"; }
        var expected = HMACSHA256.HashData(_macKey, canonical);
        return CryptographicOperations.FixedTimeEquals(given, expected)
            ? null
            : "its integrity tag does not match its content (the document was changed by someone without the state key)";
    }

    public string KeyId { get; }

    public bool IsProtected(string value) => value.StartsWith(Prefix, StringComparison.Ordinal);

    public string Protect(string plaintext, string purpose)
    {
        var plain = Encoding.UTF8.GetBytes(plaintext);
        var output = new byte[NonceSize + plain.Length + TagSize];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using (var aes = new AesGcm(_key, TagSize))
        {
            aes.Encrypt(nonce, plain, output.AsSpan(NonceSize, plain.Length), output.AsSpan(NonceSize + plain.Length, TagSize),
                Encoding.UTF8.GetBytes(purpose));
        }
        CryptographicOperations.ZeroMemory(plain);
        return Prefix + Convert.ToBase64String(output);
    }

    public string Unprotect(string protectedValue, string purpose)
    {
        if (!IsProtected(protectedValue))
            throw new StateKeyInvalidException(purpose, "the value is not in the ksctl-aesgcm:v1 format.");
        byte[] data;
        try { data = Convert.FromBase64String(protectedValue.AsSpan(Prefix.Length).ToString()); }
        catch (FormatException ex) { throw new StateKeyInvalidException(purpose, "the protected value is damaged (not base64).", ex); }
        if (data.Length < NonceSize + TagSize)
            throw new StateKeyInvalidException(purpose, "the protected value is damaged (too short).");
        var cipherLength = data.Length - NonceSize - TagSize;
        var plain = new byte[cipherLength];
        try
        {
            using var aes = new AesGcm(_key, TagSize);
            aes.Decrypt(data.AsSpan(0, NonceSize), data.AsSpan(NonceSize, cipherLength), data.AsSpan(NonceSize + cipherLength, TagSize), plain,
                Encoding.UTF8.GetBytes(purpose));
        }
        catch (CryptographicException ex)
        {
            throw new StateKeyInvalidException(purpose,
                $"the secret was protected with a different key (or was altered). The configured key is {KeyId}; use the key the state was written with.", ex);
        }
        try { return Encoding.UTF8.GetString(plain); }
        finally { CryptographicOperations.ZeroMemory(plain); }
    }

    public string Envelope => Prefix.TrimEnd(':');

    /// <summary>Binary form (etcd snapshots): nonce | ciphertext | tag, the purpose as associated data.</summary>
    public byte[] ProtectBytes(ReadOnlySpan<byte> plaintext, string purpose)
    {
        var output = new byte[NonceSize + plaintext.Length + TagSize];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plaintext, output.AsSpan(NonceSize, plaintext.Length), output.AsSpan(NonceSize + plaintext.Length, TagSize), Encoding.UTF8.GetBytes(purpose));
        return output;
    }

    public byte[] UnprotectBytes(ReadOnlySpan<byte> data, string purpose)
    {
        if (data.Length < NonceSize + TagSize) throw new StateKeyInvalidException(purpose, "the protected value is damaged (too short).");
        var cipherLength = data.Length - NonceSize - TagSize;
        var plain = new byte[cipherLength];
        try
        {
            using var aes = new AesGcm(_key, TagSize);
            aes.Decrypt(data[..NonceSize], data.Slice(NonceSize, cipherLength), data.Slice(NonceSize + cipherLength, TagSize), plain, Encoding.UTF8.GetBytes(purpose));
        }
        catch (CryptographicException ex)
        {
            throw new StateKeyInvalidException(purpose,
                $"the value was protected with a different key (or was altered). The configured key is {KeyId}; use the key the state was written with.", ex);
        }
        return plain;
    }
}
