using System.Security.Cryptography;
using System.Text;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Remote;

namespace Ksctl.Core.Distributions.Artifacts;

/// <summary>
/// Where machines get binaries from. Official download locations by default (each verified against its upstream
/// checksum file, <see cref="OfficialArtifacts"/>); for air-gapped sites a local folder (uploaded over SSH) or an
/// https mirror, both laid out as <c>&lt;component&gt;/&lt;version&gt;/&lt;file&gt;</c> with a <c>SHA256SUMS</c> beside
/// the files, e.g. <c>k3s/v1.33.1+k3s1/k3s</c>, <c>k3s/v1.33.1+k3s1/SHA256SUMS</c>. The list is checked on the machine
/// before anything is installed, so a binary changed in the folder, on the way or on the mirror is refused.
/// Plain http mirrors only behind an explicit switch (-AllowInsecureArtifactSource).
/// </summary>
public sealed class ArtifactSource
{
    public const string ChecksumFile = "SHA256SUMS";

    private ArtifactSource(string? folder, Uri? mirror)
    {
        Folder = folder;
        Mirror = mirror;
    }

    public static readonly ArtifactSource Official = new(null, null);

    public string? Folder { get; }
    public Uri? Mirror { get; }
    public bool IsOfficial => Folder is null && Mirror is null;

    /// <summary>
    /// Parses -ArtifactSource; throws <see cref="InvalidSpecException"/> for a missing folder, a URL that is not
    /// https (http only with <paramref name="allowInsecure"/>), or a URL carrying credentials, a query or a fragment.
    /// </summary>
    public static ArtifactSource Parse(string? value, bool allowInsecure = false)
    {
        if (string.IsNullOrWhiteSpace(value)) return Official;
        if (Uri.TryCreate(value, UriKind.Absolute, out var uri) && !uri.IsFile)
        {
            if (uri.Scheme == Uri.UriSchemeHttp && !allowInsecure)
                throw new InvalidSpecException("ArtifactSource", $"'{value}' is plain http: binaries installed as root must come over https (or pass -AllowInsecureArtifactSource to accept an http mirror on a network you trust).");
            if (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
                throw new InvalidSpecException("ArtifactSource", $"'{value}' is neither an https URL nor an existing folder.");
            if (uri.UserInfo.Length > 0 || uri.Query.Length > 0 || uri.Fragment.Length > 0)
                throw new InvalidSpecException("ArtifactSource", $"'{value}' may not carry credentials, a query or a fragment (the machines would see them).");
            return new ArtifactSource(null, new Uri(uri.AbsoluteUri.TrimEnd('/') + "/"));
        }
        var full = Path.GetFullPath(value);
        return Directory.Exists(full)
            ? new ArtifactSource(full, null)
            : throw new InvalidSpecException("ArtifactSource", $"'{value}' is neither an https URL nor an existing folder.");
    }

    /// <summary>Whether this source may fetch over plain http (set when parsed with the switch).</summary>
    private bool AllowsHttp => Mirror?.Scheme == Uri.UriSchemeHttp;

    /// <summary>
    /// Installs a component's files into <c>/usr/local/bin</c> (mode 0755), skipping files already there with the
    /// listed hash. Throws KsctlArtifactMissing (absent file or list entry) or KsctlArtifactChecksumMismatch.
    /// </summary>
    public async Task InstallAsync(IRemoteShell shell, ArtifactSet set, CancellationToken cancellationToken)
    {
        try
        {
            if (IsOfficial)
                await shell.RunAsync(new RemoteScript($"{set.Component}:download", set.OfficialScript, retries: 2), cancellationToken).ConfigureAwait(false);
            else if (Folder is not null)
                await InstallFromFolderAsync(shell, set, cancellationToken).ConfigureAwait(false);
            else
                await shell.RunAsync(new RemoteScript($"{set.Component}:download", ArtifactScripts.FromMirror(
                    new Uri(Mirror!, $"{set.Component}/{Uri.EscapeDataString(set.Version)}").AbsoluteUri, AllowsHttp, set.Files), retries: 2), cancellationToken).ConfigureAwait(false);
        }
        catch (RemoteScriptException ex) when (ex.ExitCode == ArtifactScripts.MismatchExit)
        {
            throw new KsctlException("KsctlArtifactChecksumMismatch", KsctlErrorCategory.SecurityError,
                $"{set.Component} {set.Version} was refused on {ex.Machine}: {ex.StandardErrorTail.Trim()}. Check the artifact source ({Describe()}).", ex.Machine, ex);
        }
        catch (RemoteScriptException ex) when (ex.ExitCode == ArtifactScripts.MissingExit)
        {
            throw new KsctlException("KsctlArtifactMissing", KsctlErrorCategory.ObjectNotFound,
                $"{set.Component} {set.Version} is not available from {Describe()}: {ex.StandardErrorTail.Trim()}.", ex.Machine, ex);
        }
    }

    /// <summary>
    /// The older form (component, version, files, official script without checksum): kept so callers can move to
    /// <see cref="ArtifactSet"/>; a folder or mirror is still verified against its SHA256SUMS.
    /// </summary>
    public Task InstallAsync(IRemoteShell shell, string component, string version, IReadOnlyList<string> files, string officialScript, CancellationToken cancellationToken) =>
        InstallAsync(shell, new ArtifactSet(component, version, files, "set -euo pipefail\n" + officialScript), cancellationToken);

    private string Describe() => Folder ?? Mirror?.AbsoluteUri ?? "the official download locations";

    private async Task InstallFromFolderAsync(IRemoteShell shell, ArtifactSet set, CancellationToken ct)
    {
        var local = Path.Combine(Folder!, set.Component, set.Version);
        var sumsPath = Path.Combine(local, ChecksumFile);
        if (!File.Exists(sumsPath))
            throw new KsctlException("KsctlArtifactMissing", KsctlErrorCategory.ObjectNotFound,
                $"The artifact folder has no {set.Component}/{set.Version}/{ChecksumFile} (looked for '{sumsPath}'); make it with: cd '{local}' && sha256sum * > {ChecksumFile}", sumsPath);
        var stage = $"{ArtifactScripts.Staging}/{set.Component}-{Convert.ToHexString(RandomNumberGenerator.GetBytes(6)).ToLowerInvariant()}";
        var sums = await File.ReadAllBytesAsync(sumsPath, ct).ConfigureAwait(false);
        await shell.UploadAsync(sums, $"{stage}/{ChecksumFile}", (UnixFileMode)0b110_000_000, ct).ConfigureAwait(false);
        var needed = await shell.RunAsync(new RemoteScript($"{set.Component}:check", ArtifactScripts.NeededFiles($"{stage}/{ChecksumFile}", set.Files)), ct).ConfigureAwait(false);
        foreach (var file in needed.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!set.Files.Contains(file)) continue; // only names we asked about; the machine's answer is not trusted further
            var path = Path.Combine(local, file);
            if (!File.Exists(path))
                throw new KsctlException("KsctlArtifactMissing", KsctlErrorCategory.ObjectNotFound,
                    $"The artifact folder has no {set.Component}/{set.Version}/{file} (looked for '{path}').", path);
            await shell.UploadAsync(await File.ReadAllBytesAsync(path, ct).ConfigureAwait(false), $"{stage}/{file}", (UnixFileMode)0b111_000_000, ct).ConfigureAwait(false);
        }
        await shell.RunAsync(new RemoteScript($"{set.Component}:install", ArtifactScripts.InstallStaged(stage, set.Files)), ct).ConfigureAwait(false);
    }


}
