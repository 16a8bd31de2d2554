using System.Management.Automation;

namespace Ksctl.PowerShell.Internal;

/// <summary>
/// Write-Progress for one operation: a parent record for the operation, and a child record (ParentActivityId = the
/// parent's) for each step while it runs, so parallel steps show side by side and disappear when they end.
/// </summary>
internal sealed class ProgressTracker(string activity, Func<int> nextActivityId, Action<ProgressRecord> write)
{
    private readonly int _parentId = nextActivityId();
    private readonly Dictionary<string, int> _running = new(StringComparer.Ordinal);
    private int _percent;
    private bool _shown;

    public int ParentId => _parentId;

    public void Handle(PumpItem item)
    {
        if (item.Percent is { } p) _percent = Math.Clamp(p, 0, 100);
        var step = item.Step ?? "step";
        if (item.Kind == PumpKind.StepStarted)
        {
            if (!_running.TryGetValue(step, out var id)) _running[step] = id = nextActivityId();
            WriteParent();
            var status = string.IsNullOrWhiteSpace(item.Message) ? "running" : item.Message;
            write(new ProgressRecord(id, step, status) { ParentActivityId = _parentId, CurrentOperation = step });
            return;
        }
        if (_running.Remove(step, out var childId))
            write(new ProgressRecord(childId, step, item.IsFailure ? "Failed" : "Done") { ParentActivityId = _parentId, RecordType = ProgressRecordType.Completed });
        WriteParent();
    }

    /// <summary>Completes every open record (children first); nothing when no progress was shown.</summary>
    public void Complete()
    {
        if (!_shown) return;
        foreach (var (step, id) in _running)
            write(new ProgressRecord(id, step, "Done") { ParentActivityId = _parentId, RecordType = ProgressRecordType.Completed });
        _running.Clear();
        write(new ProgressRecord(_parentId, activity, "Done") { RecordType = ProgressRecordType.Completed, PercentComplete = 100 });
    }

    private void WriteParent()
    {
        _shown = true;
        var status = _running.Count == 0 ? $"{_percent}% of the steps done" : $"{_percent}% of the steps done; running: {string.Join(", ", _running.Keys)}";
        write(new ProgressRecord(_parentId, activity, status) { PercentComplete = _percent });
    }
}
