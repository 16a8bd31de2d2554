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
    /// Runs the script from standard input as root, starting as few programs as it can (each costs a fork and an exec
    /// on the machine; tests/Ksctl.Remote.Tests/WrapperProcessCountTests counts them): when the SSH user is not root the
    /// whole wrapper re-runs itself once under <c>sudo -n</c> (<c>$BASH_EXECUTION_STRING</c>) instead of one sudo per
    /// step; the run directory is created only when it is missing; the script is read with bash's own <c>read -N</c>
    /// (bytes, in the C locale), checked against the length sent (a script that arrives truncated is not run) and
    /// written with a builtin into a 0600 file named by the run id (noclobber: never an existing file); it runs with
    /// bash as a job of its own process group (<c>set -m</c>), standard input at EOF, its group id kept in run-$1.pid
    /// while it runs. Cancellation and timeouts terminate that group through the file (<see cref="KillCommand"/>),
    /// because OpenSSH refuses "signal" channel requests for root sessions and a signal to the SSH session would not
    /// reach a sudo'ed script anyway. Steady state as root: this bash, the script's bash and one rm at the end.
    /// </summary>
    private const string ScriptWrapper = """
        [ "$EUID" -eq 0 ] || exec sudo -n bash -c "$BASH_EXECUTION_STRING" "$0" "$@"
        umask 077
        d=/run/ksctl/remote
        if ! [[ -d $d && -O $d && ! -L $d ]]; then
          { mkdir -p "$d" && chown root:root "$d" && chmod 0700 "$d"; } || exit 125
        fi
        f="$d/script-$1"
        p="$d/run-$1.pid"
        trap 'rm -f "$f" "$p"' EXIT
        stop() { local g; if [[ -s $p ]] && read -r g <"$p" && [[ $g =~ ^[0-9]+$ ]]; then kill -TERM "-$g" 2>/dev/null; fi; }
        trap 'trap "" TERM INT HUP; stop; exit 143' TERM INT HUP
        if [[ -v LC_ALL ]]; then saved=$LC_ALL; fi
        LC_ALL=C
        IFS= read -r -d '' -N "$2" body
        if [[ -v saved ]]; then LC_ALL=$saved; else unset LC_ALL; fi
        if [ "${#body}" != "$2" ]; then echo "ksctl: script truncated in transit (${#body} of $2 bytes); not run" >&2; exit 125; fi
        set -o noclobber
        printf '%s' "$body" >"$f" || exit 125
        set +o noclobber
        unset body
        set -m
        bash "$f" </dev/null &
        # The job keeps its own group; with job control off again bash prints no "[1]+ Done" notice on stderr.
        set +m
        echo "$!" >"$p"
        wait "$!"
        """;

    /// <summary>Terminates a running script's whole process group (see <see cref="ScriptWrapper"/>).</summary>
    private const string KillWrapper = """
        [ "$EUID" -eq 0 ] || exec sudo -n bash -c "$BASH_EXECUTION_STRING" "$0" "$@"
        p="/run/ksctl/remote/run-$1.pid"
        if [[ -s $p ]] && read -r g <"$p" && [[ $g =~ ^[0-9]+$ ]]; then kill -TERM "-$g" 2>/dev/null; fi
        exit 0
        """;

    /// <summary>
    /// Writes standard input to "$1" as root (the wrapper re-runs itself under sudo -n when the SSH user is not root)
    /// atomically: a new temp file in the same folder (noclobber), mode "$2", rename; only when exactly "$3" bytes
    /// arrived, so an interrupted upload never replaces the file with a truncated one. Uploads may be binary, so cat
    /// copies and stat measures; a mode without execute or special bits is given by the umask at creation, so chmod runs
    /// only for the others. Steady state: this bash, cat, stat, mv (and chmod for an executable).
    /// </summary>
    private const string UploadWrapper = """
        set -eu
        [ "$EUID" -eq 0 ] || exec sudo -n bash -c "$BASH_EXECUTION_STRING" "$0" "$@"
        p="$1"; m="$2"; n="$3"
        dir=${p%/*}
        [[ -d ${dir:-/} ]] || mkdir -p -- "$dir"
        t="$p.ksctl-$RANDOM$RANDOM$RANDOM"
        trap 'rm -f -- "$t"' EXIT
        if (( (8#$m & 8#7111) == 0 )); then umask "$(printf '%03o' $(( 8#777 & ~8#$m )))"; chmod_needed=false; else umask 077; chmod_needed=true; fi
        set -o noclobber
        cat >"$t"
        got=$(stat -c %s -- "$t")
        if [ "$got" != "$n" ]; then echo "upload of $p incomplete: $got of $n bytes" >&2; exit 1; fi
        if $chmod_needed; then chmod "$m" -- "$t"; fi
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
