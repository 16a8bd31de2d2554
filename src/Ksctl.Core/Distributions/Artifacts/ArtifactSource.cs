using Ksctl.Core.Diagnostics;
using Ksctl.Core.Remote;

namespace Ksctl.Core.Distributions.Artifacts;

/// <summary>
/// Where machines get binaries from. Official download locations by default; for air-gapped sites a local folder
/// (uploaded over SSH) or an HTTP mirror, both laid out as <c>&lt;component&gt;/&lt;version&gt;/&lt;file&gt;</c>, e.g.
/// <c>k3s/v1.33.1+k3s1/k3s</c>, <c>etcd/v3.5.21/etcd</c>, <c>etcd/v3.5.21/etcdctl</c>.
/// </summary>
public sealed class ArtifactSource
{
    private ArtifactSource(string? folder, Uri? mirror)
    {
        Folder = folder;
        Mirror = mirror;
    }

    public static readonly ArtifactSource Official = new(null, null);

    public string? Folder { get; }
    public Uri? Mirror { get; }
    public bool IsOfficial => Folder is null && Mirror is null;

    /// <summary>Parses -ArtifactSource; throws <see cref="InvalidSpecException"/> for a missing folder or a bad URL.</summary>
    public static ArtifactSource Parse(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return Official;
        if (Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            return new ArtifactSource(null, new Uri(uri.AbsoluteUri.TrimEnd('/') + "/"));
        var full = Path.GetFullPath(value);
        return Directory.Exists(full)
            ? new ArtifactSource(full, null)
            : throw new InvalidSpecException("ArtifactSource", $"'{value}' is neither an http(s) URL nor an existing folder.");
    }

    /// <summary>
    /// Installs a component's files into <c>/usr/local/bin</c> (mode 0755), skipping files whose content is already
    /// there. From a folder they are uploaded; from a mirror each is downloaded by the machine; from the official
    /// location <paramref name="officialScript"/> (which knows the upstream packaging, e.g. a tarball) runs instead.
    /// </summary>
    public async Task InstallAsync(IRemoteShell shell, string component, string version, IReadOnlyList<string> files, string officialScript, CancellationToken cancellationToken)
    {
        if (IsOfficial)
        {
            await shell.RunAsync(new RemoteScript($"{component}:download", "set -euo pipefail\n" + officialScript, retries: 2), cancellationToken).ConfigureAwait(false);
            return;
        }
        foreach (var file in files)
        {
            var target = ShellQuote.Quote($"/usr/local/bin/{file}");
            if (Folder is not null)
            {
                var local = Path.Combine(Folder, component, version, file);
                if (!File.Exists(local))
                    throw new KsctlException("KsctlArtifactMissing", KsctlErrorCategory.ObjectNotFound,
                        $"The artifact folder has no {component}/{version}/{file} (looked for '{local}').", local);
                var bytes = await File.ReadAllBytesAsync(local, cancellationToken).ConfigureAwait(false);
                var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes)).ToLowerInvariant();
                var check = await shell.RunAsync(new RemoteScript($"{component}:check-{file}",
                    $"if [ -f {target} ] && sha256sum {target} | grep -q '^{hash} '; then echo same; else echo different; fi\n"),
                    cancellationToken).ConfigureAwait(false);
                if (check.StandardOutput.Trim() != "same")
                    await shell.UploadAsync(bytes, $"/usr/local/bin/{file}", (UnixFileMode)0b111_101_101, cancellationToken).ConfigureAwait(false);
                continue;
            }
            var url = new Uri(Mirror!, $"{component}/{Uri.EscapeDataString(version)}/{file}").AbsoluteUri;
            await shell.RunAsync(new RemoteScript($"{component}:download-{file}",
                $"set -euo pipefail\ncurl -fsSL --retry 3 --connect-timeout 20 -o {target}.ksctl-download {ShellQuote.Quote(url)}\nchmod 0755 {target}.ksctl-download\nmv -f {target}.ksctl-download {target}\n",
                retries: 2), cancellationToken).ConfigureAwait(false);
        }
    }
}
