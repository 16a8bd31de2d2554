using Ksctl.Core.Diagnostics;
using Ksctl.Server.Api;

namespace Ksctl.Server.Operations;

public enum OperationStatus { Running, Succeeded, Failed }

public sealed record OperationStep(string Name, string Status, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, string? Error);

public sealed record OperationError(string ErrorId, string Message);

/// <summary>A progress event of an operation (the SSE stream's items): a step started/finished, a log line, the end.</summary>
public sealed record OperationEvent(long Sequence, string Kind, DateTimeOffset Time, string Message, string? Step, int? Percent, string? Status);

/// <summary>What GET /api/v1/operations/{id} answers.</summary>
public sealed record OperationDocument(
    string Id, string Kind, ClusterRef Cluster, string RequestedBy, string Status,
    DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt, IReadOnlyList<OperationStep> Steps, IReadOnlyList<OperationError> Errors);

/// <summary>What the shared store keeps of an operation (<see cref="OperationStore"/>): its document and its newest events.</summary>
public sealed record OperationRecord(OperationDocument Operation, IReadOnlyList<OperationEvent> Events);

/// <summary>
/// One create/delete/resize the server runs: its steps with times (from the plan executor's events), its errors with
/// their Ksctl ids, and the event history the SSE stream replays to a late subscriber before following it live.
/// </summary>
public sealed class ServerOperation
{
    private readonly object _gate = new();
    private readonly List<OperationEvent> _events = [];
    private readonly List<string> _stepOrder = [];
    private readonly Dictionary<string, OperationStep> _steps = new(StringComparer.Ordinal);
    private readonly List<OperationError> _errors = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private const int MaxEvents = 2000;

    public ServerOperation(string id, string kind, ClusterRef cluster, string requestedBy, DateTimeOffset createdAt)
    {
        Id = id; Kind = kind; Cluster = cluster; RequestedBy = requestedBy; CreatedAt = createdAt;
    }

    public string Id { get; }
    public string Kind { get; }
    public ClusterRef Cluster { get; }
    public string RequestedBy { get; }
    public DateTimeOffset CreatedAt { get; }
    public OperationStatus Status { get; private set; } = OperationStatus.Running;
    public DateTimeOffset? FinishedAt { get; private set; }

    public OperationDocument ToDocument()
    {
        lock (_gate)
            return new OperationDocument(Id, Kind, Cluster, RequestedBy, Status.ToString(), CreatedAt, FinishedAt,
                _stepOrder.Select(n => _steps[n]).ToList(), _errors.ToList());
    }

    /// <summary>
    /// The record to store, with the newest <paramref name="maxEvents"/> events (the End event is always among them),
    /// and a task that completes at the next change (so a writer waits on changes, not on a clock).
    /// </summary>
    public OperationRecord ToRecord(int maxEvents, out Task changed)
    {
        lock (_gate)
        {
            changed = _changed.Task;
            return new OperationRecord(
                new OperationDocument(Id, Kind, Cluster, RequestedBy, Status.ToString(), CreatedAt, FinishedAt, _stepOrder.Select(n => _steps[n]).ToList(), _errors.ToList()),
                _events.Skip(Math.Max(0, _events.Count - maxEvents)).ToList());
        }
    }

    /// <summary>Applies one Core event (called on the executor's threads).</summary>
    public void Apply(KsctlEvent e)
    {
        lock (_gate)
        {
            if (e.Step is { } step && e.Kind != KsctlEventKind.Log)
            {
                if (!_steps.TryGetValue(step, out var current)) { _stepOrder.Add(step); current = new OperationStep(step, "Pending", null, null, null); }
                _steps[step] = e.Kind switch
                {
                    KsctlEventKind.StepStarted => current with { Status = "Running", StartedAt = e.Timestamp },
                    KsctlEventKind.StepCompleted => current with { Status = "Done", StartedAt = current.StartedAt ?? e.Timestamp, FinishedAt = e.Timestamp },
                    KsctlEventKind.StepSkipped => current with { Status = "Skipped", FinishedAt = e.Timestamp },
                    _ => current with { Status = "Failed", FinishedAt = e.Timestamp, Error = e.Message },
                };
            }
            else if (e.Level < KsctlLogLevel.Information) return;
            Append(e.Kind.ToString(), e.Timestamp, e.Message, e.Step, e.Percent, null);
        }
    }

    public void Complete(DateTimeOffset at, IReadOnlyList<OperationError> errors)
    {
        lock (_gate)
        {
            _errors.AddRange(errors);
            Status = errors.Count == 0 ? OperationStatus.Succeeded : OperationStatus.Failed;
            FinishedAt = at;
            Append("End", at, errors.Count == 0 ? $"{Kind} succeeded" : $"{Kind} failed: {string.Join("; ", errors.Select(x => x.Message))}", null, null, Status.ToString());
        }
    }

    private void Append(string kind, DateTimeOffset time, string message, string? step, int? percent, string? status)
    {
        var sequence = _events.Count == 0 ? 1 : _events[^1].Sequence + 1;
        if (_events.Count >= MaxEvents && kind is not "End") return;
        _events.Add(new OperationEvent(sequence, kind, time, message, step, percent, status));
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }

    /// <summary>Every event from the first, then the live ones until the operation ends (or the caller goes away).</summary>
    public async IAsyncEnumerable<OperationEvent> FollowAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var next = 0;
        while (true)
        {
            List<OperationEvent> batch;
            Task changed;
            bool finished;
            lock (_gate)
            {
                batch = _events.Skip(next).ToList();
                next = _events.Count;
                changed = _changed.Task;
                finished = Status != OperationStatus.Running;
            }
            foreach (var e in batch) yield return e;
            if (finished) yield break;
            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
