namespace Ksctl.Core.Remote;

/// <summary>Timeouts, backoff and trust policy for SSH connections and scripts.</summary>
public sealed record RemoteShellOptions
{
    /// <summary>Give up connecting after this long (all attempts included); a new machine may need minutes to boot.</summary>
    public TimeSpan ConnectDeadline { get; init; } = TimeSpan.FromMinutes(3);
    /// <summary>Timeout of one connection attempt (TCP + key exchange + authentication).</summary>
    public TimeSpan ConnectAttemptTimeout { get; init; } = TimeSpan.FromSeconds(15);
    /// <summary>First delay between connection attempts; doubles up to <see cref="ConnectBackoffMax"/>, with jitter.</summary>
    public TimeSpan ConnectBackoffInitial { get; init; } = TimeSpan.FromMilliseconds(500);
    public TimeSpan ConnectBackoffMax { get; init; } = TimeSpan.FromSeconds(15);
    /// <summary>First delay between script attempts; doubles up to <see cref="ScriptBackoffMax"/>, with jitter.</summary>
    public TimeSpan ScriptBackoffInitial { get; init; } = TimeSpan.FromSeconds(2);
    public TimeSpan ScriptBackoffMax { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>When a machine has no pinned host key: accept and report the key it presents (true), or refuse (false).</summary>
    public bool AllowTrustOnFirstUse { get; init; }
    /// <summary>
    /// Retry a refused key until the connect deadline instead of failing at once: for freshly created cloud machines,
    /// whose sshd may answer before cloud-init has installed the authorized key. Off for machines that already exist.
    /// </summary>
    public bool RetryAuthenticationFailures { get; init; }
    /// <summary>How many machines a fan-out works on at once.</summary>
    public int MaxParallelism { get; init; } = 8;
    /// <summary>How much of the error output an exception quotes.</summary>
    public int ErrorTailChars { get; init; } = 2000;
    /// <summary>Secret values redacted from every message and log line, in addition to each script's own.</summary>
    public IReadOnlyList<string> Secrets { get; init; } = [];
}
