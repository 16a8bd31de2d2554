using Ksctl.Core.Remote;

namespace Ksctl.Core.Distributions.Artifacts;

/// <summary>
/// The official downloads and the upstream checksum file each is verified against before it is installed:
/// k3s's release asset <c>sha256sum-&lt;arch&gt;.txt</c> (as k3s's install.sh verifies), etcd's release
/// <c>SHA256SUMS</c>, and the <c>.sha256</c> published beside each Kubernetes binary on dl.k8s.io. The base
/// addresses can be moved (a test serves the same layout locally); they must be https.
/// </summary>
public static class OfficialArtifacts
{
    public const string GitHub = "https://github.com";
    public const string KubernetesDownloads = "https://dl.k8s.io";

    /// <summary>k3s: <c>k3s</c> (amd64) or <c>k3s-arm64</c>, listed in <c>sha256sum-&lt;arch&gt;.txt</c> of the release.</summary>
    public static ArtifactSet K3s(string version, string baseUrl = GitHub)
    {
        var release = $"{Https(baseUrl)}/k3s-io/k3s/releases/download/{Uri.EscapeDataString(version)}";
        return new("k3s", version, ["k3s"], ArtifactScripts.Header + Arch + $$"""
            case "$arch" in amd64) asset=k3s ;; *) asset="k3s-$arch" ;; esac
            release={{ShellQuote.Quote(release)}}
            fetch "$tmp/sums" "$release/sha256sum-$arch.txt"
            want=$(awk -v f="$asset" '$2 == f { print $1 }' "$tmp/sums")
            [ -n "$want" ] || missing "sha256sum-$arch.txt of the release lists no $asset"
            if ! matches /usr/local/bin/k3s "$want"; then
              fetch "$tmp/k3s" "$release/$asset"
              matches "$tmp/k3s" "$want" || mismatch "$asset" "$want" "$tmp/k3s"
              place "$tmp/k3s" k3s
            fi
            """ + "\n");
    }

    /// <summary>etcd: the release tarball, listed in the release's <c>SHA256SUMS</c>, unpacked only once verified.</summary>
    public static ArtifactSet Etcd(string version, string baseUrl = GitHub)
    {
        var release = $"{Https(baseUrl)}/etcd-io/etcd/releases/download/{Uri.EscapeDataString(version)}";
        return new("etcd", version, ["etcd", "etcdctl"], ArtifactScripts.Header + Arch + $$"""
            tarball={{ShellQuote.Quote($"etcd-{version}-linux-")}}"$arch.tar.gz"
            release={{ShellQuote.Quote(release)}}
            fetch "$tmp/sums" "$release/SHA256SUMS"
            want=$(awk -v f="$tarball" '$2 == f { print $1 }' "$tmp/sums")
            [ -n "$want" ] || missing "SHA256SUMS of the release lists no $tarball"
            fetch "$tmp/$tarball" "$release/$tarball"
            matches "$tmp/$tarball" "$want" || mismatch "$tarball" "$want" "$tmp/$tarball"
            tar -xzf "$tmp/$tarball" -C "$tmp" --strip-components=1
            place "$tmp/etcd" etcd
            place "$tmp/etcdctl" etcdctl
            """ + "\n");
    }

    /// <summary>Kubernetes binaries (kubeadm, kubelet, kubectl): each checked against the <c>.sha256</c> beside it.</summary>
    public static ArtifactSet Kubernetes(string version, IReadOnlyList<string> files, string baseUrl = KubernetesDownloads)
    {
        var release = $"{Https(baseUrl)}/release/{Uri.EscapeDataString(version)}/bin/linux";
        if (files.Any(f => !System.Text.RegularExpressions.Regex.IsMatch(f, "^[a-z0-9][a-z0-9-]{0,63}\\z")))
            throw new ArgumentException("Kubernetes binary names are lowercase letters, digits and '-'.", nameof(files));
        var body = string.Concat(files.Select(f => $$"""
            want=$(fetch_text {{ShellQuote.Quote($"{release}/")}}"$arch"{{ShellQuote.Quote($"/{f}.sha256")}} | awk '{ print $1 }')
            [ -n "$want" ] || missing {{ShellQuote.Quote($"{f}.sha256 is empty")}}
            if ! matches {{ShellQuote.Quote($"/usr/local/bin/{f}")}} "$want"; then
              fetch "$tmp/{{f}}" {{ShellQuote.Quote($"{release}/")}}"$arch"{{ShellQuote.Quote($"/{f}")}}
              matches "$tmp/{{f}}" "$want" || mismatch {{ShellQuote.Quote(f)}} "$want" "$tmp/{{f}}"
              place "$tmp/{{f}}" {{ShellQuote.Quote(f)}}
            fi

            """));
        return new("kubernetes", version, files, ArtifactScripts.Header + Arch + body);
    }

    private const string Arch = """
        case "$(uname -m)" in
          x86_64|amd64) arch=amd64 ;;
          aarch64|arm64) arch=arm64 ;;
          *) echo "unsupported architecture $(uname -m)" >&2; exit 1 ;;
        esac

        """;

    private static string Https(string baseUrl) =>
        Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps
            ? baseUrl.TrimEnd('/')
            : throw new ArgumentException($"Official download locations must be https ({baseUrl}).", nameof(baseUrl));
}
