using Ksctl.Core.Remote;

namespace Ksctl.Core.Distributions.Artifacts;

/// <summary>
/// The machine side of every artifact install. Nothing reaches /usr/local/bin before its SHA-256 matched the
/// checksum list it came with; a mismatch exits <see cref="MismatchExit"/> and an absent artifact
/// <see cref="MissingExit"/>, which <see cref="ArtifactSource"/> turns into KsctlArtifactChecksumMismatch and
/// KsctlArtifactMissing. Downloads refuse any protocol but https (unless the user allowed plain http).
/// </summary>
internal static class ArtifactScripts
{
    public const int MismatchExit = 42;
    public const int MissingExit = 44;
    public const string Staging = "/var/lib/ksctl/artifacts";

    /// <summary>Helpers every install script starts with; <c>protocols</c> is what curl may use, redirects included.</summary>
    public static string Header => HeaderFor("=https");

    public static string HeaderFor(string protocols) => $$"""
        set -euo pipefail
        protocols={{ShellQuote.Quote(protocols)}}
        tmp=$(mktemp -d)
        trap 'rm -rf "$tmp"' EXIT
        fetch() {
          local code=0
          curl -fsSL --proto "$protocols" --proto-redir "$protocols" --retry 3 --connect-timeout 20 -o "$1" "$2" || code=$?
          if [ "$code" -eq 22 ]; then missing "$2 was not found"; fi
          if [ "$code" -ne 0 ]; then echo "downloading $2 failed (curl exit $code)" >&2; exit 1; fi
        }
        fetch_text() { fetch "$tmp/text" "$1"; cat "$tmp/text"; }
        sha() { sha256sum "$1" | cut -d' ' -f1; }
        matches() { [ -f "$1" ] && [ "$(sha "$1")" = "$2" ]; }
        missing() { echo "artifact missing: $1" >&2; exit {{MissingExit}}; }
        mismatch() { echo "checksum mismatch: $1 should have SHA-256 $2 but has $(sha "$3"); it was not installed" >&2; exit {{MismatchExit}}; }
        place() {
          install -m 0755 "$1" "/usr/local/bin/$2.ksctl-download"
          mv -f "/usr/local/bin/$2.ksctl-download" "/usr/local/bin/$2"
        }

        """;

    /// <summary>The SHA256SUMS line of a file (sha256sum's format: hash, two spaces or " *", name).</summary>
    private const string Want = """
        want() { awk -v f="$1" '{ name = $2; sub(/^\*/, "", name) } name == f { print $1; exit }' "$sums"; }

        """;

    /// <summary>Prints the files the machine needs (not installed with the listed hash); the list is in <paramref name="sums"/>.</summary>
    public static string NeededFiles(string sums, IEnumerable<string> files) => HeaderFor("=https") + Want + $$"""
        sums={{ShellQuote.Quote(sums)}}
        # Nothing staged outlives a refusal.
        trap 'code=$?; if [ "$code" -ne 0 ]; then rm -rf "$tmp" "$(dirname "$sums")"; else rm -rf "$tmp"; fi' EXIT
        files=({{string.Join(' ', files.Select(ShellQuote.Quote))}})
        for file in "${files[@]}"; do
          hash=$(want "$file")
          [ -n "$hash" ] || missing "SHA256SUMS lists no $file"
          matches "/usr/local/bin/$file" "$hash" || echo "$file"
        done
        """ + "\n";

    /// <summary>Installs each staged file only if its hash is the one SHA256SUMS lists; one already installed with it stays.</summary>
    public static string InstallStaged(string dir, IEnumerable<string> files) => HeaderFor("=https") + Want + $$"""
        dir={{ShellQuote.Quote(dir)}}
        sums="$dir/SHA256SUMS"
        trap 'rm -rf "$tmp" "$dir"; rmdir --ignore-fail-on-non-empty {{Staging}} 2>/dev/null || true' EXIT
        files=({{string.Join(' ', files.Select(ShellQuote.Quote))}})
        for file in "${files[@]}"; do
          hash=$(want "$file")
          [ -n "$hash" ] || missing "SHA256SUMS lists no $file"
          if matches "/usr/local/bin/$file" "$hash"; then continue; fi
          [ -f "$dir/$file" ] || missing "$file was not staged"
          matches "$dir/$file" "$hash" || mismatch "$file" "$hash" "$dir/$file"
          place "$dir/$file" "$file"
        done
        """ + "\n";

    /// <summary>From a mirror: its SHA256SUMS, then each file the machine lacks, verified before it is installed.</summary>
    public static string FromMirror(string baseUrl, bool allowHttp, IEnumerable<string> files) => HeaderFor(allowHttp ? "=http,https" : "=https") + Want + $$"""
        base={{ShellQuote.Quote(baseUrl)}}
        sums="$tmp/SHA256SUMS"
        fetch "$sums" "$base/SHA256SUMS"
        files=({{string.Join(' ', files.Select(ShellQuote.Quote))}})
        for file in "${files[@]}"; do
          hash=$(want "$file")
          [ -n "$hash" ] || missing "$base/SHA256SUMS lists no $file"
          if matches "/usr/local/bin/$file" "$hash"; then continue; fi
          fetch "$tmp/$file" "$base/$file"
          matches "$tmp/$file" "$hash" || mismatch "$file" "$hash" "$tmp/$file"
          place "$tmp/$file" "$file"
        done
        """ + "\n";
}
