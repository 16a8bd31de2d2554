namespace Ksctl.Core.Diagnostics;

public enum KsctlEventKind { Log, StepStarted, StepCompleted, StepSkipped, StepFailed }

public enum KsctlLogLevel { Trace, Debug, Information, Warning, Error }

/// <summary>
/// A log or progress event as it crosses the assembly-isolation bridge: Core and BCL types only, so the
/// cmdlet layer can map it to Verbose/Debug/Warning/Information and Write-Progress without seeing ILogger.
/// </summary>
public sealed record KsctlEvent
{
    public KsctlEventKind Kind { get; init; } = KsctlEventKind.Log;
    public KsctlLogLevel Level { get; init; } = KsctlLogLevel.Information;
    public string Component { get; init; } = "ksctl";
    public required string Message { get; init; }
    /// <summary>The cluster the event concerns ("name (Provider/Type, region)"), if any.</summary>
    public string? Cluster { get; init; }
    /// <summary>The plan step the event concerns, if any.</summary>
    public string? Step { get; init; }
    /// <summary>Percent of the plan finished (0-100) for step events.</summary>
    public int? Percent { get; init; }
    public DateTimeOffset Timestamp { get; init; } = DateTimeOffset.UtcNow;
}
