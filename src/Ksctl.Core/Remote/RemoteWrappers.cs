namespace Ksctl.Core.Remote;

/// <summary>The fixed bash programs that carry scripts and uploads over an exec channel.</summary>
internal static class RemoteWrappers
{
    /// <summary>Exit code of the wrapper itself failing (no temp file, no bash): distinct from the script's own codes.</summary>
    public const int WrapperFailure = 125;

    /// <summary>
    /// Reads the script from standard input into a private temp file (0600, removed on exit) and runs it with bash, its
    /// standard input at EOF. The script runs as a background job so a termination signal is handled at once: the whole
    /// process group is terminated, not only the wrapper. The wrapper's pid is kept in ksctl-run-$1.pid while it runs,
    /// because OpenSSH refuses "signal" channel requests for root sessions: cancellation kills it through that file.
    /// </summary>
    private const string ScriptWrapper = """
        umask 077
        d=${TMPDIR:-/tmp}
        f=$(mktemp "$d/ksctl-script.XXXXXXXX") || exit 125
        p="$d/ksctl-run-$1.pid"
        trap 'rm -f "$f" "$p"' EXIT
        trap 'trap "" TERM INT HUP; kill -TERM 0 2>/dev/null; exit 143' TERM INT HUP
        echo $$ > "$p" || exit 125
        cat > "$f" || exit 125
        n=$(wc -c < "$f" | tr -d ' ')
        if [ "$n" != "$2" ]; then echo "ksctl: script truncated in transit ($n of $2 bytes); not run" >&2; exit 125; fi
        bash "$f" </dev/null &
        wait $!
        """;

    /// <summary>Terminates a running script wrapper (and through its trap, its whole process group).</summary>
    private const string KillWrapper = """
        p="${TMPDIR:-/tmp}/ksctl-run-$1.pid"
        if [ -s "$p" ]; then kill -TERM "$(cat "$p")" 2>/dev/null || true; fi
        """;

    /// <summary>
    /// Writes standard input to "$1" atomically (temp file in the same folder, chmod "$2", rename), only when exactly "$3"
    /// bytes arrived: an interrupted upload never replaces the file with a truncated one.
    /// </summary>
    private const string UploadWrapper = """
        set -eu
        p="$1"; m="$2"; n="$3"
        mkdir -p -- "$(dirname -- "$p")"
        t=$(mktemp -- "$p.ksctl-XXXXXX")
        trap 'rm -f -- "$t"' EXIT
        cat > "$t"
        got=$(wc -c < "$t" | tr -d ' ')
        if [ "$got" != "$n" ]; then echo "upload of $p incomplete: $got of $n bytes" >&2; exit 1; fi
        chmod "$m" -- "$t"
        mv -f -- "$t" "$p"
        trap - EXIT
        """;

    /// <param name="runId">Identifies this run for <see cref="KillCommand"/>: letters and digits only.</param>
    /// <param name="length">The script's length in bytes: a truncated script is never run.</param>
    public static string ScriptCommand(string runId, int length) =>
        "bash -c " + ShellQuote.Quote(Normalize(ScriptWrapper)) + " ksctl-script " + CheckRunId(runId) + " " +
        length.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static string KillCommand(string runId) =>
        "bash -c " + ShellQuote.Quote(Normalize(KillWrapper)) + " ksctl-kill " + CheckRunId(runId);

    public static string UploadCommand(string remotePath, UnixFileMode mode, int length) =>
        "bash -c " + ShellQuote.Quote(Normalize(UploadWrapper)) + " ksctl-upload " + ShellQuote.Quote(remotePath) + " " +
        ShellQuote.Octal(mode) + " " + length.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The wrapper programs as bash source, for shellcheck.</summary>
    internal static IReadOnlyDictionary<string, string> Sources { get; } = new Dictionary<string, string>
    {
        ["script"] = Normalize(ScriptWrapper),
        ["kill"] = Normalize(KillWrapper),
        ["upload"] = Normalize(UploadWrapper),
    };

    public static string NewRunId() => Guid.NewGuid().ToString("N");

    private static string CheckRunId(string runId) =>
        runId.Length > 0 && runId.All(char.IsAsciiLetterOrDigit) ? runId : throw new ArgumentException("Invalid run id.", nameof(runId));

    private static string Normalize(string s) => s.Replace("\r\n", "\n", StringComparison.Ordinal);
}
