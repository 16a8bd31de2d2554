using Ksctl.Core.Model;

namespace Ksctl.Core.Storage.Protection;

/// <summary>
/// The one way stores protect the secrets of the documents they write and reveal them after reading, whatever the
/// store (file, Azure Blob) and the protector (AES-GCM state key, DPAPI). A value without an envelope is plaintext
/// (a store without protection) and is kept as it is; a store that requires protection refuses it
/// (<see cref="StateDocument.Verify"/>). Whole documents are encoded by <see cref="StateDocument"/>.
/// </summary>
internal static class ProtectedSecrets
{
    private static readonly string[] Envelopes = [AesGcmSecretProtector.Prefix, DpapiSecretProtector.Prefix];

    public static bool IsEnvelope(string value) => Envelopes.Any(p => value.StartsWith(p, StringComparison.Ordinal));

    /// <summary>
    /// The associated data of one secret: the cluster's canonical identity and the secret's name, so an encrypted value
    /// copied to another cluster's document, or to another entry of the same one, does not decrypt.
    /// </summary>
    public static string Purpose(ClusterId id, string secret) => $"state:{id.Canonical}:{secret}";

    /// <summary>One value protected for an explicit purpose (credential documents): plaintext as it is, an envelope through the protector that made it.</summary>
    public static string Reveal(string value, string purpose, Func<ISecretProtector?> protector, string source)
    {
        if (!IsEnvelope(value)) return value;
        var p = protector() ?? throw new StateKeyMissingException(source);
        if (!p.IsProtected(value))
            throw new StateKeyInvalidException(source, $"it was protected with {value[..value.IndexOf(':', "ksctl-".Length)]}, not this store's {p.KeyId}");
        try { return p.Unprotect(value, purpose); }
        catch (StateKeyInvalidException ex) { throw new StateKeyInvalidException(source, ex.Reason, ex); }
    }

    /// <summary>One secret of a cluster's document: plaintext as it is, an envelope through the protector that made it (bound to the cluster and name).</summary>
    public static string Reveal(string value, ClusterId id, string name, Func<ISecretProtector?> protector, string source)
    {
        if (!IsEnvelope(value)) return value;
        var p = protector() ?? throw new StateKeyMissingException(source);
        if (!p.IsProtected(value))
            throw new StateKeyInvalidException(source, $"it was protected with {value[..value.IndexOf(':', "ksctl-".Length)]}, not this store's {p.KeyId}");
        try { return p.Unprotect(value, Purpose(id, name)); }
        catch (StateKeyInvalidException ex) when (p is DpapiSecretProtector)
        {
            // DPAPI file stores written before secrets were bound to their cluster: the value never left this
            // user's own folder, whose documents only this Windows account can write.
            try { return p.Unprotect(value, name); }
            catch (StateKeyInvalidException) { throw new StateKeyInvalidException(source, ex.Reason, ex); }
        }
        catch (StateKeyInvalidException ex) { throw new StateKeyInvalidException(source, ex.Reason, ex); }
    }
}
