namespace Ksctl.Core.Storage.Protection;

/// <summary>
/// Encrypts secret values before a store writes them and decrypts them after it reads them, so a shared store
/// (Azure Blob Storage) never holds a plaintext secret. Implementations are thread-safe.
/// </summary>
public interface ISecretProtector
{
    /// <summary>A short, non-secret fingerprint of the key (for error messages and blob metadata).</summary>
    string KeyId { get; }

    /// <summary>
    /// Encrypts <paramref name="plaintext"/>. <paramref name="purpose"/> (the secret's name) is authenticated with
    /// it, so a value cannot be moved to another entry unnoticed.
    /// </summary>
    string Protect(string plaintext, string purpose);

    /// <summary>Reverses <see cref="Protect"/>; throws <see cref="StateKeyInvalidException"/> when the key is not the one used.</summary>
    string Unprotect(string protectedValue, string purpose);

    /// <summary>True when <paramref name="value"/> has this protector's envelope (it was produced by <see cref="Protect"/>).</summary>
    bool IsProtected(string value);
}
