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
    /// Installs one file of a component on the machine at <paramref name="target"/> (mode 0755), unless the same
    /// content is already there. <paramref name="officialUrl"/> is used when no folder or mirror is configured.
    /// </summary>
    public async Task InstallAsync(IRemoteShell shell, string component, string version, string file, string target, string officialUrl, CancellationToken cancellationToken)
    {
        if (Folder is not null)
        {
            var local = Path.Combine(Folder, component, version, file);
            if (!File.Exists(local))
                throw new KsctlException("KsctlArtifactMissing", KsctlErrorCategory.ObjectNotFound,
                    $"The artifact folder has no {component}/{version}/{file} (looked for '{local}').", local);
            var bytes = await File.ReadAllBytesAsync(local, cancellationToken).ConfigureAwait(false);
            var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes)).ToLowerInvariant();
            var check = await shell.RunAsync(new RemoteScript($"{component}:check-{file}",
                $"if [ -f {ShellQuote.Quote(target)} ] && sha256sum {ShellQuote.Quote(target)} | grep -q '^{hash} '; then echo same; else echo different; fi\n"),
                cancellationToken).ConfigureAwait(false);
            if (check.StandardOutput.Trim() == "same") return;
            await shell.UploadAsync(bytes, target, (UnixFileMode)0b111_101_101, cancellationToken).ConfigureAwait(false);
            return;
        }
        var url = Mirror is not null ? new Uri(Mirror, $"{component}/{Uri.EscapeDataString(version)}/{file}").AbsoluteUri : officialUrl;
        var t = ShellQuote.Quote(target);
        await shell.RunAsync(new RemoteScript($"{component}:download-{file}",
            $"""
            set -euo pipefail
            tmp={t}.ksctl-download
            curl -fsSL --retry 3 --connect-timeout 20 -o "$tmp" {ShellQuote.Quote(url)}
            chmod 0755 "$tmp"
            mv -f "$tmp" {t}
            """ + "\n", retries: 2), cancellationToken).ConfigureAwait(false);
    }
}
