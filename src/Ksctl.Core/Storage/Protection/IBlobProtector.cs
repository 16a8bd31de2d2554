namespace Ksctl.Core.Storage.Protection;

/// <summary>
/// Encrypts large binary values (etcd snapshots) with the state key, without the base64 round trips of
/// <see cref="ISecretProtector"/>'s string form. The purpose is authenticated with the value, as for secrets.
/// </summary>
internal interface IBlobProtector
{
    string KeyId { get; }
    /// <summary>The envelope name written beside the value ("ksctl-aesgcm:v1").</summary>
    string Envelope { get; }
    byte[] ProtectBytes(ReadOnlySpan<byte> plaintext, string purpose);
    /// <summary>Throws <see cref="StateKeyInvalidException"/> when the key or the purpose is not the one used, or the value was altered.</summary>
    byte[] UnprotectBytes(ReadOnlySpan<byte> protectedValue, string purpose);
}
