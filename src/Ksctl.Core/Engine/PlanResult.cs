namespace Ksctl.Core.Engine;

public sealed record StepFailure(string Step, Exception Error)
{
    public override string ToString() => $"{Step}: {Error.Message}";
}

/// <summary>What one execution of a plan did.</summary>
public sealed record PlanResult
{
    /// <summary>Steps that ran and finished in this execution.</summary>
    public required IReadOnlyList<string> Completed { get; init; }
    /// <summary>Steps already done (checkpoint or <see cref="PlanStep.IsAlreadyDone"/>), not run.</summary>
    public required IReadOnlyList<string> Skipped { get; init; }
    public required IReadOnlyList<StepFailure> Failed { get; init; }
    /// <summary>Steps never started (a dependency failed, or cancellation stopped scheduling).</summary>
    public required IReadOnlyList<string> NotRun { get; init; }
    public bool Cancelled { get; init; }
    /// <summary>Measured duration of each step that ran, for critical-path analysis.</summary>
    public required IReadOnlyDictionary<string, TimeSpan> Durations { get; init; }
    public TimeSpan Elapsed { get; init; }

    public bool Succeeded => Failed.Count == 0 && !Cancelled && NotRun.Count == 0;
}
