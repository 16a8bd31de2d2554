namespace Ksctl.Core.Model;

public enum StepOutcome { Done, Failed }

/// <summary>What the executor recorded about one step of one operation (the checkpoint).</summary>
public sealed class StepRecord
{
    public StepOutcome Outcome { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset FinishedAt { get; set; }
    public int Attempts { get; set; }
    public string? Error { get; set; }
}
