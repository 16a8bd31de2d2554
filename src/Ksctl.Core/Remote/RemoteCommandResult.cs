namespace Ksctl.Core.Remote;

/// <summary>
/// The outcome of a successful script. Output is raw (not redacted): a script may read a secret on purpose (a join token),
/// so the caller decides what is safe to show.
/// </summary>
public sealed record RemoteCommandResult
{
    public required string Machine { get; init; }
    public required string ScriptName { get; init; }
    public int ExitCode { get; init; }
    public string StandardOutput { get; init; } = "";
    public string StandardError { get; init; } = "";
    /// <summary>1 when it succeeded at the first attempt.</summary>
    public int Attempts { get; init; } = 1;
    public TimeSpan Duration { get; init; }

    public override string ToString() => $"{ScriptName} on {Machine}: exit {ExitCode} after {Attempts} attempt(s)";
}
