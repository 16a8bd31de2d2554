namespace Ksctl.Core.Remote;

/// <summary>
/// A named bash script run on a machine. The content is sent over the SSH channel's standard input (never on a command
/// line, never logged), so it may embed secrets; list them in <see cref="Secrets"/> so they are redacted from every
/// message and log line that quotes the script's output.
/// </summary>
public sealed record RemoteScript
{
    public RemoteScript() { }

    [System.Diagnostics.CodeAnalysis.SetsRequiredMembers]
    public RemoteScript(string name, string content, int retries = 0, TimeSpan? timeout = null)
    {
        Name = name;
        Content = content;
        Retries = retries;
        if (timeout is { } t) Timeout = t;
    }

    /// <summary>A short stable name for messages ("etcd:install", "k3s:join").</summary>
    public required string Name { get; init; }
    /// <summary>The bash script. Scripts must be idempotent: they may run again after a failure or a retry.</summary>
    public required string Content { get; init; }
    /// <summary>How many times to run it again after a failed attempt (non-zero exit, timeout, dropped connection).</summary>
    public int Retries { get; init; }
    /// <summary>Timeout of one attempt.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);
    /// <summary>Secret values (tokens, keys) to redact from messages and logs.</summary>
    public IReadOnlyList<string> Secrets { get; init; } = [];

    /// <summary>Never prints the content.</summary>
    public override string ToString() => $"script '{Name}' (retries {Retries}, timeout {Timeout.TotalSeconds:0.#}s)";
}
