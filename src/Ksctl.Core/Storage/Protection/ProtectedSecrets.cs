using Ksctl.Core.Model;

namespace Ksctl.Core.Storage.Protection;

/// <summary>
/// The one way stores protect the secrets of the documents they write and reveal them after reading, whatever the
/// store (file, Azure Blob) and the protector (AES-GCM state key, DPAPI). A value without an envelope is plaintext
/// (an older document, or a store without protection) and is kept as it is; it is protected on the next write.
/// </summary>
internal static class ProtectedSecrets
{
    private static readonly string[] Envelopes = [AesGcmSecretProtector.Prefix, DpapiSecretProtector.Prefix];

    public static bool IsEnvelope(string value) => Envelopes.Any(p => value.StartsWith(p, StringComparison.Ordinal));

    /// <summary>
    /// The document's bytes with every secret protected; the live state is not touched. With <paramref name="required"/>
    /// (a shared store) a secret is never written in plaintext: no protector is an error.
    /// </summary>
    public static byte[] Serialize(ClusterState state, ISecretProtector? protector, string source, bool required)
    {
        var plain = StateSerializer.Serialize(state);
        if (state.Secrets.Count == 0) return plain;
        if (protector is null) return required ? throw new StateKeyMissingException(source) : plain;
        // A private deep copy through the one serializer: the same document shape, whatever ClusterState grows.
        var copy = StateSerializer.Deserialize(plain, source);
        copy.Secrets = copy.Secrets.ToDictionary(s => s.Key, s => protector.Protect(s.Value, s.Key), StringComparer.Ordinal);
        return StateSerializer.Serialize(copy);
    }

    /// <summary>Reveals every protected secret of a document just read, in place.</summary>
    public static void Reveal(ClusterState state, Func<ISecretProtector?> protector, string source)
    {
        foreach (var name in state.Secrets.Keys.ToList())
            state.Secrets[name] = Reveal(state.Secrets[name], name, protector, $"{source}: secret '{name}'");
    }

    /// <summary>One value: plaintext as it is, an envelope through the protector that made it.</summary>
    public static string Reveal(string value, string purpose, Func<ISecretProtector?> protector, string source)
    {
        if (!IsEnvelope(value)) return value;
        var p = protector() ?? throw new StateKeyMissingException(source);
        if (!p.IsProtected(value))
            throw new StateKeyInvalidException(source, $"it was protected with {value[..value.IndexOf(':', "ksctl-".Length)]}, not this store's {p.KeyId}");
        try { return p.Unprotect(value, purpose); }
        catch (StateKeyInvalidException ex) { throw new StateKeyInvalidException(source, ex.Reason, ex); }
    }
}
