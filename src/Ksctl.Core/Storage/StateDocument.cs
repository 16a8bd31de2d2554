using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Storage.Protection;

namespace Ksctl.Core.Storage;

/// <summary>
/// The one way every store turns a live state into stored bytes and back, with the checks that make a stored
/// document trustworthy before anything acts on it:
/// <list type="bullet">
/// <item>its shape: no null where the model has a collection or a required value (a hand-edited <c>"nodes": null</c>
/// is <see cref="StateInvalidException"/>, never a NullReferenceException later);</item>
/// <item>its place: the identity inside must be the one it was found under, and valid;</item>
/// <item>its integrity: with a state key, the whole document carries an HMAC tag (<see cref="IStateAuthenticator"/>)
/// over its canonical form — the same document serialised without the tag — and a missing or wrong tag is refused;</item>
/// <item>its secrets: each encrypted with the cluster's identity and the secret's name as associated data, and never
/// accepted in plaintext where the store requires protection.</item>
/// </list>
/// </summary>
internal static class StateDocument
{
    /// <summary>The bytes to store: secrets protected, then (with a state key) the whole document sealed. The live state is not touched.</summary>
    public static byte[] Encode(ClusterState state, ISecretProtector? protector, string source, bool required)
    {
        var plain = StateSerializer.Serialize(state);
        var authenticator = protector as IStateAuthenticator;
        if (state.Secrets.Count == 0 && authenticator is null) return state.Integrity is null ? plain : Reserialize(state, source, null);
        if (state.Secrets.Count > 0 && protector is null)
            return required ? throw new StateKeyMissingException(source) : Reserialize(state, source, null);
        // A private deep copy through the one serializer: the same document shape, whatever ClusterState grows.
        var copy = StateSerializer.Deserialize(plain, source);
        if (protector is not null)
            copy.Secrets = copy.Secrets.ToDictionary(s => s.Key, s => protector.Protect(s.Value, ProtectedSecrets.Purpose(copy.Id, s.Key)), StringComparer.Ordinal);
        copy.Integrity = null;
        if (authenticator is not null) copy.Integrity = authenticator.Seal(StateSerializer.Serialize(copy));
        return StateSerializer.Serialize(copy);
    }

    private static byte[] Reserialize(ClusterState state, string source, string? integrity)
    {
        var copy = StateSerializer.Deserialize(StateSerializer.Serialize(state), source);
        copy.Integrity = integrity;
        return StateSerializer.Serialize(copy);
    }

    /// <summary>
    /// Parses stored bytes found under <paramref name="expected"/> and checks shape, place and integrity; with
    /// <paramref name="revealSecrets"/> decrypts the secrets, else drops them (a listing shows none).
    /// </summary>
    public static ClusterState Decode(ReadOnlySpan<byte> bytes, ClusterId expected, Func<ISecretProtector?> protector, string source, bool required, bool revealSecrets = true)
    {
        var state = StateSerializer.Deserialize(bytes, source);
        CheckShape(state, expected.ToString(), source);
        if (state.Id != expected)
            throw new StateInvalidException(expected.ToString(), source, $"it names cluster {Describe(state.Id)} but was found where {expected} is kept; a document is only valid in its own place");
        Verify(state, protector, source, required);
        if (!revealSecrets) state.Secrets = new(StringComparer.Ordinal);
        else RevealSecrets(state, protector, source, required);
        return state;
    }

    /// <summary>Checks the tag when a state key is configured, and that no secret is plaintext where protection is required.</summary>
    public static void Verify(ClusterState state, Func<ISecretProtector?> protector, string source, bool required)
    {
        var cluster = state.Id.ToString();
        if (required)
        {
            var plain = state.Secrets.Keys.FirstOrDefault(k => !ProtectedSecrets.IsEnvelope(state.Secrets[k]));
            if (plain is not null)
                throw new StateInvalidException(cluster, source, $"secret '{ClusterId.Printable(plain)}' is stored in plaintext, which this store never writes; it was put there by hand or by another tool");
        }
        if (protector() is IStateAuthenticator authenticator)
        {
            var tag = state.Integrity;
            if (tag is not null && SealedWith(tag) is { } keyId && keyId != authenticator.KeyId)
                throw new StateKeyInvalidException(source,
                    $"the document was sealed with a different key ({ClusterId.Printable(keyId)}). The configured key is {authenticator.KeyId}; use the key the state was written with.");
            if (tag is null)
                throw new StateInvalidException(cluster, source,
                    "it carries no integrity tag, but a state key is configured and every document written with it is sealed. " +
                    "A document from a Ksctl older than the tags, or one written without the key, must be exported with that version and imported (Export-/Import-KsctlState)");
            state.Integrity = null;
            if (authenticator.Verify(StateSerializer.Serialize(state), tag) is { } problem)
                throw new StateInvalidException(cluster, source, problem);
        }
        state.Integrity = null;
    }

    /// <summary>The key id a tag names, or null when it names none.</summary>
    private static string? SealedWith(string tag)
    {
        if (!tag.StartsWith(AesGcmSecretProtector.TagPrefix, StringComparison.Ordinal)) return null;
        var rest = tag[AesGcmSecretProtector.TagPrefix.Length..];
        var colon = rest.IndexOf(':');
        return colon <= 0 ? null : rest[..colon];
    }

    private static void RevealSecrets(ClusterState state, Func<ISecretProtector?> protector, string source, bool required)
    {
        foreach (var name in state.Secrets.Keys.ToList())
            state.Secrets[name] = ProtectedSecrets.Reveal(state.Secrets[name], state.Id, name, protector, $"{source}: secret '{name}'");
    }

    /// <summary>Every member the model declares non-null, checked once here so no later code meets a null.</summary>
    public static void CheckShape(ClusterState state, string cluster, string source)
    {
        string? Problem()
        {
            if (state.Id is null) return "it has no id";
            if (state.Id.Name is null || state.Id.Region is null) return "its id has no name or region";
            if (state.Id.Problem() is { } idProblem) return $"its id is invalid: {idProblem}";
            if (state.Spec is null) return "it has no spec";
            if (state.Spec.Id is null) return "its spec has no id";
            if (state.Spec.Applications is null) return "spec.applications is null";
            if (state.Spec.Machines is null) return "spec.machines is null";
            if (state.Spec.Applications.Any(a => a is null)) return "spec.applications holds a null";
            if (state.Spec.Machines.Any(m => m is null)) return "spec.machines holds a null";
            if (state.Spec.Machines.Any(m => m.Address is null || m.User is null)) return "a machine in spec.machines has no address or user";
            if (state.Nodes is null) return "nodes is null";
            if (state.Nodes.Any(n => n is null)) return "nodes holds a null";
            if (state.Nodes.Any(n => n.Name is null)) return "a node has no name";
            if (state.Resources is null) return "resources is null";
            if (state.Resources.Values.Any(v => v is null)) return "resources holds a null value";
            if (state.Secrets is null) return "secrets is null";
            if (state.Secrets.Values.Any(v => v is null)) return "secrets holds a null value";
            if (state.Steps is null) return "steps is null";
            if (state.Steps.Values.Any(v => v is null)) return "steps holds a null record";
            if (state.LastErrors is null) return "lastErrors is null";
            if (state.LastErrors.Any(e => e is null)) return "lastErrors holds a null";
            if (!Enum.IsDefined(state.Status)) return $"status {(int)state.Status} is not a known status";
            return null;
        }
        if (Problem() is { } problem) throw new StateInvalidException(cluster, source, problem);
    }

    private static string Describe(ClusterId? id) =>
        id is null ? "(none)" : $"{ClusterId.Printable(id.Name)} ({id.Provider}/{id.Type}, {ClusterId.Printable(id.Region)})";
}
