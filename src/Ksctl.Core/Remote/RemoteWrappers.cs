namespace Ksctl.Core.Remote;

/// <summary>The fixed bash programs that carry scripts and uploads over an exec channel.</summary>
internal static class RemoteWrappers
{
    /// <summary>Exit code of the wrapper itself failing (no temp file, no bash): distinct from the script's own codes.</summary>
    public const int WrapperFailure = 125;

    /// <summary>
    /// Reads the script from standard input into a private temp file (0600, removed on exit) and runs it with bash, its
    /// standard input at EOF. The script runs as a background job so a termination signal (cancellation, timeout) is
    /// handled at once: the whole process group is terminated, not only the wrapper.
    /// </summary>
    private const string ScriptWrapper = """
        umask 077
        f=$(mktemp "${TMPDIR:-/tmp}/ksctl-script.XXXXXXXX") || exit 125
        trap 'rm -f "$f"' EXIT
        trap 'trap "" TERM INT HUP; kill -TERM 0 2>/dev/null; exit 143' TERM INT HUP
        cat > "$f" || exit 125
        bash "$f" </dev/null &
        wait $!
        """;

    /// <summary>Writes standard input to "$1" atomically (temp file in the same folder, chmod "$2", rename).</summary>
    private const string UploadWrapper = """
        set -eu
        p="$1"; m="$2"
        mkdir -p -- "$(dirname -- "$p")"
        t=$(mktemp -- "$p.ksctl-XXXXXX")
        trap 'rm -f -- "$t"' EXIT
        cat > "$t"
        chmod "$m" -- "$t"
        mv -f -- "$t" "$p"
        trap - EXIT
        """;

    public static string ScriptCommand { get; } = "bash -c " + ShellQuote.Quote(Normalize(ScriptWrapper)) + " ksctl-script";

    public static string UploadCommand(string remotePath, UnixFileMode mode) =>
        "bash -c " + ShellQuote.Quote(Normalize(UploadWrapper)) + " ksctl-upload " + ShellQuote.Quote(remotePath) + " " + ShellQuote.Octal(mode);

    private static string Normalize(string s) => s.Replace("\r\n", "\n", StringComparison.Ordinal);
}
