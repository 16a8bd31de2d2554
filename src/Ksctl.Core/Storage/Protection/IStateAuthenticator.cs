namespace Ksctl.Core.Storage.Protection;

/// <summary>
/// Authenticates a whole state document with a key derived from the state key, so that whoever can write the store
/// but lacks the key (a writer of a shared container, the sender of an export file) cannot change one byte of what
/// Ksctl acts on — a resource id, an address, the spec — without the document being refused. The tag covers the
/// document's canonical form (see <see cref="StateDocument"/>), secrets in their encrypted form included.
/// </summary>
internal interface IStateAuthenticator
{
    /// <summary>The non-secret fingerprint of the key, as in the tag.</summary>
    string KeyId { get; }

    /// <summary>The tag for <paramref name="canonical"/>: <c>ksctl-hmac:v1:&lt;keyId&gt;:&lt;base64 HMAC-SHA256&gt;</c>.</summary>
    string Seal(ReadOnlySpan<byte> canonical);

    /// <summary>Null when <paramref name="tag"/> is this key's tag for <paramref name="canonical"/>, else why not.</summary>
    string? Verify(ReadOnlySpan<byte> canonical, string tag);
}
