namespace Ksctl.Core.Remote;

/// <summary>The fixed bash programs that carry scripts and uploads over an exec channel.</summary>
internal static class RemoteWrappers
{
    /// <summary>Exit code of the wrapper itself failing (no temp file, no bash): distinct from the script's own codes.</summary>
    public const int WrapperFailure = 125;

    /// <summary>The root-owned 0700 directory of the wrapper's script and pid files: /tmp is world-writable, so a file
    /// that root later reads, writes or runs could be swapped or pre-planted there by another local user.</summary>
    public const string RunDirectory = "/run/ksctl/remote";

    /// <summary>
    /// Reads the script from standard input into a root-owned temp file (0600, in <see cref="RunDirectory"/>, removed on
    /// exit) and runs it with bash as root (through <c>sudo -n</c> when the SSH user is not root), its standard input at
    /// EOF, in a session of its own whose id is kept in run-$1.pid there while it runs. Cancellation and timeouts terminate that whole process group
    /// through the file (<see cref="KillCommand"/>), because OpenSSH refuses "signal" channel requests for root sessions
    /// and a signal to the SSH session would not reach a sudo'ed script anyway. A script that arrives truncated is not run.
    /// </summary>
    private const string ScriptWrapper = """
        umask 077
        as_root() { if [ "$EUID" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }
        d=/run/ksctl/remote
        if ! { as_root mkdir -p "$d" && as_root chown root:root "$d" && as_root chmod 0700 "$d"; }; then exit 125; fi
        f=$(as_root mktemp "$d/script.XXXXXXXX") || exit 125
        p="$d/run-$1.pid"
        trap 'as_root rm -f "$f" "$p"' EXIT
        # shellcheck disable=SC2016 # expanded by the inner sh
        stop() { as_root sh -c 'if [ -s "$1" ]; then kill -TERM "-$(cat "$1")"; fi' ksctl-stop "$p" 2>/dev/null; }
        trap 'trap "" TERM INT HUP; stop; exit 143' TERM INT HUP
        as_root tee "$f" >/dev/null || exit 125
        n=$(as_root stat -c %s "$f")
        if [ "$n" != "$2" ]; then echo "ksctl: script truncated in transit ($n of $2 bytes); not run" >&2; exit 125; fi
        # shellcheck disable=SC2016 # expanded by the inner bash
        as_root setsid -w bash -c 'echo $$ > "$1"; exec bash "$2"' ksctl-run "$p" "$f" </dev/null &
        wait $!
        """;

    /// <summary>Terminates a running script's whole process group (see <see cref="ScriptWrapper"/>).</summary>
    private const string KillWrapper = """
        as_root() { if [ "$EUID" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }
        p="/run/ksctl/remote/run-$1.pid"
        # shellcheck disable=SC2016 # expanded by the inner sh (dash's kill takes no "--")
        as_root sh -c 'if [ -s "$1" ]; then kill -TERM "-$(cat "$1")"; fi' ksctl-stop "$p" 2>/dev/null || true
        """;

    /// <summary>
    /// Writes standard input to "$1" as root (sudo -n when the SSH user is not root) atomically: a temp file in the same
    /// folder, chmod "$2", rename; only when exactly "$3" bytes arrived, so an interrupted upload never replaces the file
    /// with a truncated one.
    /// </summary>
    private const string UploadWrapper = """
        set -eu
        as_root() { if [ "$EUID" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }
        p="$1"; m="$2"; n="$3"
        as_root mkdir -p -- "$(dirname -- "$p")"
        t=$(as_root mktemp -- "$p.ksctl-XXXXXX")
        trap 'as_root rm -f -- "$t"' EXIT
        as_root tee -- "$t" >/dev/null
        got=$(as_root stat -c %s -- "$t")
        if [ "$got" != "$n" ]; then echo "upload of $p incomplete: $got of $n bytes" >&2; exit 1; fi
        as_root chmod "$m" -- "$t"
        as_root mv -f -- "$t" "$p"
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
