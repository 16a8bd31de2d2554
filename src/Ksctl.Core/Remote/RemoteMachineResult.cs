namespace Ksctl.Core.Remote;

/// <summary>One machine's outcome in a fan-out: either a value or the error it raised.</summary>
public sealed record RemoteMachineResult<T>
{
    public required string Machine { get; init; }
    public T? Value { get; init; }
    public Exception? Error { get; init; }
    public bool Succeeded => Error is null;
}
