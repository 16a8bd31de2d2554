using System.Security.Cryptography;
using System.Text;

namespace Ksctl.Core.Storage.Protection;

/// <summary>
/// AES-256-GCM with a random 12-byte nonce per value and a 16-byte tag. Output:
/// <c>ksctl-aesgcm:v1:&lt;base64(nonce | ciphertext | tag)&gt;</c>. The secret's name is the associated data.
/// Create through <see cref="StateKey"/>.
/// </summary>
internal sealed class AesGcmSecretProtector : ISecretProtector
{
    public const string Prefix = "ksctl-aesgcm:v1:";
    private const int NonceSize = 12;
    private const int TagSize = 16;

    private readonly byte[] _key;

    public AesGcmSecretProtector(ReadOnlySpan<byte> key)
    {
        if (key.Length != StateKey.KeySizeInBytes) throw new ArgumentException("A state key has 32 bytes.", nameof(key));
        _key = key.ToArray();
        // A fingerprint that says nothing about the key: a hash of a fixed label under the key.
        KeyId = Convert.ToHexString(HMACSHA256.HashData(_key, "ksctl-state-key-id"u8)).Substring(0, 16).ToLowerInvariant();
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
}
