using System.Security.Cryptography;
using System.Text;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Remote;

namespace Ksctl.Core.Distributions.Etcd;

/// <summary>
/// Turns a machine into an etcd member: uploads the certificates (the key 0600; never the CA key), stages the binaries
/// when they come from a local folder, runs <see cref="EtcdScripts.InstallMember"/>, and polls the member's health.
/// </summary>
public sealed class EtcdInstaller(EtcdArtifactSource artifacts)
{
    /// <summary>Installs take a while and may meet a busy package mirror: a generous retry budget.</summary>
    public const int InstallRetries = 3;

    public EtcdArtifactSource Artifacts { get; } = artifacts;

    public async Task<RemoteCommandResult> InstallMemberAsync(
        IRemoteShell shell, EtcdMember member, IReadOnlyList<EtcdMember> cluster, EtcdCertificates certificates, string clusterToken,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(shell);
        ArgumentNullException.ThrowIfNull(certificates);
        var script = EtcdScripts.InstallMember(member, cluster, clusterToken, Artifacts);

        const UnixFileMode publicMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        const UnixFileMode secretMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        await shell.UploadAsync(Encoding.ASCII.GetBytes(certificates.CaCertificatePem), EtcdScripts.CaCertificatePath, publicMode, cancellationToken).ConfigureAwait(false);
        await shell.UploadAsync(Encoding.ASCII.GetBytes(certificates.CertificatePem), EtcdScripts.CertificatePath, publicMode, cancellationToken).ConfigureAwait(false);
        await shell.UploadAsync(Encoding.ASCII.GetBytes(certificates.PrivateKeyPem), EtcdScripts.PrivateKeyPath, secretMode, cancellationToken).ConfigureAwait(false);

        if (Artifacts.LocalFolder is { } folder)
        {
            foreach (var binary in new[] { "etcd", "etcdctl" })
            {
                await StageBinaryAsync(shell, Path.Combine(folder, binary), $"{EtcdScripts.BinaryDirectory}/{binary}", cancellationToken).ConfigureAwait(false);
            }
        }

        return await shell.RunAsync(new RemoteScript($"etcd:install:{member.Name}", script, InstallRetries, TimeSpan.FromMinutes(5))
        {
            Secrets = [certificates.PrivateKeyPem, certificates.CaPrivateKeyPem],
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Polls the member's health over TLS with the client certificate until it answers or <paramref name="deadline"/>
    /// passes (members only become healthy once a quorum has started). Throws the last failure after the deadline.
    /// </summary>
    public static async Task<RemoteCommandResult> WaitHealthyAsync(IRemoteShell shell, TimeSpan deadline, bool wholeCluster = false,
        CancellationToken cancellationToken = default)
    {
        var until = DateTimeOffset.UtcNow + deadline;
        var backoff = new JitteredBackoff(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5));
        var script = new RemoteScript(wholeCluster ? "etcd:health:cluster" : "etcd:health", EtcdScripts.Health(wholeCluster), 0, TimeSpan.FromSeconds(15));
        while (true)
        {
            try
            {
                return await shell.RunAsync(script, cancellationToken).ConfigureAwait(false);
            }
            catch (RemoteScriptException) when (DateTimeOffset.UtcNow < until)
            {
                await Task.Delay(backoff.Next(until, TimeProvider.System), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Uploads a binary unless the machine already has the same bytes.</summary>
    private static async Task StageBinaryAsync(IRemoteShell shell, string localPath, string remotePath, CancellationToken ct)
    {
        if (!File.Exists(localPath))
        {
            throw new PrerequisiteMissingException(localPath, $"The etcd artifact folder has no '{Path.GetFileName(localPath)}' ({localPath}).");
        }
        var bytes = await File.ReadAllBytesAsync(localPath, ct).ConfigureAwait(false);
        var sha = Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();
        var probe = await shell.RunAsync(new RemoteScript($"etcd:probe:{Path.GetFileName(localPath)}",
            $"if [ -f {ShellQuote.Quote(remotePath)} ]; then sha256sum {ShellQuote.Quote(remotePath)} | cut -d' ' -f1; fi"), ct).ConfigureAwait(false);
        if (probe.StandardOutput.Trim() == sha) return;
        await shell.UploadAsync(bytes, remotePath, (UnixFileMode)0b111_101_101, ct).ConfigureAwait(false);
    }
}
