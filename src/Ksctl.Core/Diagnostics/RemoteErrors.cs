namespace Ksctl.Core.Diagnostics;

/// <summary>
/// The machine presented a host key whose fingerprint differs from the pinned one. The connection was refused before
/// authentication, so nothing ran on it. Never retried: it means the wrong machine or a man in the middle.
/// </summary>
public sealed class HostKeyMismatchException(string machine, string expectedFingerprint, string actualFingerprint)
    : KsctlException("KsctlHostKeyMismatch", KsctlErrorCategory.SecurityError,
        $"Host key of machine {machine} does not match the pinned key: expected {expectedFingerprint}, the machine presented {actualFingerprint}. " +
        "Nothing was run on it. If the machine was legitimately rebuilt, update its pinned host key; otherwise treat this as an attack.", machine)
{
    public string Machine { get; } = machine;
    public string ExpectedFingerprint { get; } = expectedFingerprint;
    public string ActualFingerprint { get; } = actualFingerprint;
}

/// <summary>No host key is pinned for the machine and trust-on-first-use is not allowed. Nothing was run on it.</summary>
public sealed class HostKeyUnknownException(string machine, string actualFingerprint)
    : KsctlException("KsctlHostKeyUnknown", KsctlErrorCategory.SecurityError,
        $"No host key is pinned for machine {machine} and trust-on-first-use is not allowed; it presented {actualFingerprint}. " +
        "Nothing was run on it. Pin the host key (e.g. from 'ssh-keygen -lf' of its public host key) or allow trust-on-first-use.", machine)
{
    public string Machine { get; } = machine;
    public string ActualFingerprint { get; } = actualFingerprint;
}

/// <summary>The machine could not be reached over SSH before the connect deadline.</summary>
public sealed class RemoteConnectionException(string machine, string endpoint, int attempts, TimeSpan waited, string reason, Exception? inner = null)
    : KsctlException("KsctlRemoteUnreachable", KsctlErrorCategory.ConnectionError,
        $"Machine {machine} ({endpoint}) is not reachable over SSH after {attempts} attempt(s) in {waited.TotalSeconds:0.#}s: {reason}", machine, inner)
{
    public string Machine { get; } = machine;
    public string Endpoint { get; } = endpoint;
    public int Attempts { get; } = attempts;
}

/// <summary>The machine refused our key (or the key could not be loaded).</summary>
public sealed class RemoteAuthenticationException(string machine, string user, string reason, Exception? inner = null)
    : KsctlException("KsctlRemoteAuthenticationFailed", KsctlErrorCategory.AuthenticationError,
        $"Machine {machine} refused SSH authentication as '{user}': {reason}", machine, inner)
{
    public string Machine { get; } = machine;
    public string User { get; } = user;
}

/// <summary>
/// A named script failed on a machine after its whole retry budget (non-zero exit, or timed out). The error output is
/// a tail with every known secret redacted.
/// </summary>
public sealed class RemoteScriptException : KsctlException
{
    public RemoteScriptException(string scriptName, string machine, int? exitCode, string standardErrorTail, int attempts, bool timedOut = false, TimeSpan? timeout = null)
        : base(timedOut ? "KsctlRemoteScriptTimeout" : "KsctlRemoteScriptFailed",
            timedOut ? KsctlErrorCategory.OperationTimeout : KsctlErrorCategory.InvalidResult,
            BuildMessage(scriptName, machine, exitCode, standardErrorTail, attempts, timedOut, timeout), machine)
    {
        ScriptName = scriptName;
        Machine = machine;
        ExitCode = exitCode;
        StandardErrorTail = standardErrorTail;
        Attempts = attempts;
        TimedOut = timedOut;
    }

    public string ScriptName { get; }
    public string Machine { get; }
    /// <summary>The exit code of the last attempt; null when it timed out or was killed by a signal.</summary>
    public int? ExitCode { get; }
    public string StandardErrorTail { get; }
    public int Attempts { get; }
    public bool TimedOut { get; }

    private static string BuildMessage(string script, string machine, int? exitCode, string tail, int attempts, bool timedOut, TimeSpan? timeout)
    {
        var what = timedOut
            ? $"timed out after {timeout?.TotalSeconds:0.#}s"
            : exitCode is { } code ? $"exited with code {code}" : "ended without an exit code";
        var err = string.IsNullOrWhiteSpace(tail) ? "(no error output)" : tail.Trim();
        return $"Script '{script}' on machine {machine} {what} (attempt {attempts}): {err}";
    }
}
