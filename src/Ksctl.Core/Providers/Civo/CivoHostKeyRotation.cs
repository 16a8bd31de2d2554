using Ksctl.Core.Diagnostics;
using Ksctl.Core.Distributions;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Providers.CloudMachines;
using Ksctl.Core.Remote;
using Ksctl.Core.Remote.Keys;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Civo;

/// <summary>
/// The host key of a Civo instance. Ksctl puts a generated key in the instance's first-boot <c>script</c> so the very
/// first connection is pinned; but Civo returns that script (GET /v2/instances/:id, civogo instance.go <c>Script</c>)
/// to anyone holding the API key. So once the pinned connection stands, Ksctl generates a second key, installs it
/// over that connection, restarts sshd and pins the new key: the key in the script is dead.
/// <para>
/// The new key is saved in state (<c>ssh-host-key-next/&lt;node&gt;</c>) before it is installed, so a run interrupted
/// between installing and pinning still recognises the machine: a mismatch presenting exactly that key adopts it.
/// </para>
/// </summary>
internal sealed class CivoHostKeyRotation(ILogger logger, TimeProvider time)
{
    internal const string NextSecretPrefix = "ssh-host-key-next/";
    internal const string RotatedResourcePrefix = "civo:hostkey-rotated:";
    private const string KeyPath = "/etc/ssh/ssh_host_ecdsa_key";

    public static bool IsRotated(ClusterState state, string nodeKey) => state.Resources.ContainsKey(RotatedResourcePrefix + nodeKey);

    /// <summary>
    /// The first SSH connection to a new instance, pinned. Civo runs the first-boot script at the end of cloud-init,
    /// after sshd has started with keys the image made: an instance that is already ACTIVE may for a while present
    /// another host key (or not yet accept the login key). Nothing is run and nothing is trusted then; Ksctl waits for
    /// the pinned key, and only if it never appears within <see cref="CivoTimings.FirstBoot"/> does the mismatch surface
    /// as the security error it is.
    /// </summary>
    public async Task<IRemoteShell> FirstConnectAsync(StepContext ctx, string key, string name, MachineAccess access, CancellationToken ct)
    {
        var timings = CivoTimings.Current;
        var deadline = time.GetUtcNow() + timings.FirstBoot;
        var delay = TimeSpan.FromSeconds(1);
        while (true)
        {
            var remote = ctx.Session.Read(s => CloudMachineKeys.Connection(s, s.Nodes.First(x => x.Key == key)));
            try
            {
                return await access.ReconnectAsync(ctx, key, remote, ct).ConfigureAwait(false);
            }
            catch (HostKeyMismatchException e) when (PendingFingerprint(ctx, key) == e.ActualFingerprint)
            {
                // An earlier run installed the next key and stopped before pinning it: that key, and only it, is adopted.
                logger.LogInformation("Civo instance {Name} presents the host key Ksctl rotated to in an earlier run; pinning it.", name);
                await PinAsync(ctx, key).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HostKeyMismatchException or RemoteAuthenticationException && time.GetUtcNow() + delay < deadline)
            {
                logger.LogInformation("Civo instance {Name} does not present its pinned host key and login yet (its first-boot script has not run): {Reason}; trying again in {Delay} s.",
                    name, e.Message, (int)delay.TotalSeconds);
                await Task.Delay(delay, time, ct).ConfigureAwait(false);
                delay = timings.Next(delay);
            }
        }
    }

    /// <summary>Installs a new host key over <paramref name="shell"/>, restarts sshd, and pins the new key once the machine presents it.</summary>
    public async Task RotateAsync(StepContext ctx, string key, string name, IRemoteShell shell, MachineAccess access, CancellationToken ct)
    {
        if (ctx.Session.Read(s => IsRotated(s, key))) return;
        var next = ctx.Session.Read(s => s.Secrets.GetValueOrDefault(NextSecretPrefix + key)) is { } pem ? SshKeyPair.FromPrivateKeyPem(pem) : null;
        if (next is null)
        {
            next = SshKeyPair.CreateHostKey();
            var made = next;
            ctx.Mutate(s => s.Secrets[NextSecretPrefix + key] = made.PrivateKeyPem);
            await ctx.Session.CheckpointAsync().ConfigureAwait(false);
        }
        // The private key travels as a file upload (0600, atomic), never inside a script's text.
        await shell.UploadAsync(System.Text.Encoding.ASCII.GetBytes(next.PrivateKeyPem.Replace("\r", "", StringComparison.Ordinal)), KeyPath + ".ksctl-next",
            UnixFileMode.UserRead | UnixFileMode.UserWrite, ct).ConfigureAwait(false);
        await shell.RunAsync(new RemoteScript("machine:rotate-host-key", Script(next.PublicKey), retries: 1), ct).ConfigureAwait(false);

        // sshd restarts asynchronously: until it does, the machine still presents the first key.
        var timings = CivoTimings.Current;
        var deadline = time.GetUtcNow() + timings.FirstBoot;
        var delay = TimeSpan.FromMilliseconds(500);
        var remote = ctx.Session.Read(s => CloudMachineKeys.Connection(s, s.Nodes.First(x => x.Key == key))) with { HostKeyFingerprint = next.Fingerprint };
        while (true)
        {
            try
            {
                await access.ReconnectAsync(ctx, key, remote, ct).ConfigureAwait(false);
                break;
            }
            catch (HostKeyMismatchException e) when (time.GetUtcNow() + delay < deadline)
            {
                logger.LogDebug("Civo instance {Name} does not present its new host key yet ({Reason}); trying again.", name, e.Message);
                await Task.Delay(delay, time, ct).ConfigureAwait(false);
                delay = timings.Next(delay);
            }
        }
        await PinAsync(ctx, key).ConfigureAwait(false);
        logger.LogInformation("Civo instance {Name} now presents a host key that appears nowhere in Civo ({Fingerprint}); pinned.", name, next.Fingerprint);
    }

    private static string? PendingFingerprint(StepContext ctx, string key) =>
        ctx.Session.Read(s => s.Secrets.GetValueOrDefault(NextSecretPrefix + key)) is { } pem ? SshKeyPair.FromPrivateKeyPem(pem).Fingerprint : null;

    /// <summary>The pending key becomes the node's pinned key; the first key's private half is dropped (it is public now).</summary>
    private static async Task PinAsync(StepContext ctx, string key)
    {
        ctx.Mutate(s =>
        {
            if (!s.Secrets.Remove(NextSecretPrefix + key, out var pem)) return;
            s.Nodes.First(n => n.Key == key).HostKey = SshKeyPair.FromPrivateKeyPem(pem).Fingerprint;
            s.Secrets.Remove(CloudMachineKeys.HostKeySecretPrefix + key);
            s.Resources[RotatedResourcePrefix + key] = "yes";
        });
        await ctx.Session.CheckpointAsync().ConfigureAwait(false);
    }

    /// <summary>Puts the uploaded key in place of the first one (the sshd_config.d file of the first-boot script names this path) and restarts sshd.</summary>
    internal static string Script(string publicKey)
    {
        if (publicKey.IndexOfAny(['\'', '\n', '\r']) >= 0) throw new ArgumentException("Not one OpenSSH public key line.", nameof(publicKey));
        return $"""
            set -eu
            umask 077
            chmod 0600 {KeyPath}.ksctl-next
            mv -f {KeyPath}.ksctl-next {KeyPath}
            printf '%s\n' '{publicKey}' > {KeyPath}.pub
            chmod 0644 {KeyPath}.pub
            systemctl restart ssh 2>/dev/null || systemctl restart sshd 2>/dev/null || service ssh restart

            """;
    }
}
