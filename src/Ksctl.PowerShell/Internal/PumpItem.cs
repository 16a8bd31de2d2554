using Ksctl.Core.Diagnostics;

namespace Ksctl.PowerShell.Internal;

/// <summary>What a queued event is: a log line, or a plan step that started or ended.</summary>
internal enum PumpKind { Log, StepStarted, StepEnded }

/// <summary>A Core event copied into cmdlet-layer types, queued by the worker and written by the pipeline thread.</summary>
internal sealed class PumpItem
{
    public static readonly PumpItem Done = new() { IsDone = true };

    public bool IsDone { get; private init; }
    public PumpKind Kind { get; init; }
    public bool IsStep => Kind != PumpKind.Log;
    public bool IsFailure { get; init; }
    public string Level { get; init; } = "Information";
    public string Message { get; init; } = "";
    public string? Step { get; init; }
    public int? Percent { get; init; }
}

/// <summary>The <see cref="IProgress{T}"/> the ClusterManager reports to: enqueues, never blocks, never writes to PowerShell.</summary>
internal sealed class EventSink(Action<PumpItem> enqueue) : IProgress<KsctlEvent>
{
    public void Report(KsctlEvent value) => enqueue(new PumpItem
    {
        Kind = value.Kind switch
        {
            KsctlEventKind.Log => PumpKind.Log,
            KsctlEventKind.StepStarted => PumpKind.StepStarted,
            _ => PumpKind.StepEnded,
        },
        IsFailure = value.Kind == KsctlEventKind.StepFailed,
        Level = value.Level.ToString(),
        Message = value.Message,
        Step = value.Step,
        Percent = value.Percent,
    });
}
