using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Remote;
using Ksctl.Core.Remote.Keys;

namespace Ksctl.Core.Providers.CloudMachines;

/// <summary>
/// The keys of a self-managed cluster on cloud machines, kept in the state's secrets: one login key per cluster
/// and one host key per node. Each is saved (checkpointed) the moment it is made, before any cloud call uses
/// it, so a resumed create sends the same user data again — a cloud would otherwise refuse the changed body or
/// boot a machine whose host key nobody recorded.
/// </summary>
internal static class CloudMachineKeys
{
    public const string LoginKeySecret = "ssh-login-key";
    public const string HostKeySecretPrefix = "ssh-host-key/";

    public static Task<SshKeyPair> LoginKeyAsync(StepContext context, CancellationToken cancellationToken)
    {
        var comment = $"ksctl-{context.State.Id.Name}-{context.State.Id.Region}".ToLowerInvariant();
        return GetOrCreateAsync(context, LoginKeySecret, comment, () => SshKeyPair.CreateLoginKey(comment), cancellationToken);
    }

    public static Task<SshKeyPair> HostKeyAsync(StepContext context, string nodeKey, CancellationToken cancellationToken) =>
        GetOrCreateAsync(context, HostKeySecretPrefix + nodeKey, "ksctl-host", SshKeyPair.CreateHostKey, cancellationToken);

    /// <summary><see cref="ISelfManagedProvider.Connection"/> for cloud machines: the login key from state and the node's pinned host key.</summary>
    public static RemoteMachine Connection(ClusterState state, NodeState node) => new()
    {
        Name = node.Name,
        Address = node.PublicIP ?? node.PrivateIP ?? throw new InvalidOperationException($"Node {node.Name} has no address recorded."),
        Port = node.SshPort,
        User = node.SshUser ?? "root",
        PrivateKeyPem = state.Secrets.TryGetValue(LoginKeySecret, out var pem)
            ? pem
            : throw new InvalidOperationException($"The login key of cluster {state.Id.Name} is missing from its state."),
        // Never null for a cloud machine: an unpinned key would let trust-on-first-use in.
        HostKeyFingerprint = node.HostKey ?? throw new InvalidOperationException($"Node {node.Name} has no pinned host key in state."),
    };

    /// <summary>Forgets a removed node's host key (a re-created node gets a new machine and a new key).</summary>
    public static void ForgetHostKey(ClusterState state, string nodeKey) => state.Secrets.Remove(HostKeySecretPrefix + nodeKey);

    private static async Task<SshKeyPair> GetOrCreateAsync(StepContext context, string secret, string comment, Func<SshKeyPair> create, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var stored = context.Session.Read(s => s.Secrets.GetValueOrDefault(secret));
        if (stored is not null) return SshKeyPair.FromPrivateKeyPem(stored, comment);
        var made = create(); // outside the state's lock: an RSA key takes a while
        context.Mutate(s =>
        {
            // Parallel machine steps may race for the one login key: the first one written wins for all.
            if (!s.Secrets.TryAdd(secret, made.PrivateKeyPem)) stored = s.Secrets[secret];
        });
        await context.Session.CheckpointAsync().ConfigureAwait(false);
        return stored is null ? made : SshKeyPair.FromPrivateKeyPem(stored, comment);
    }
}
