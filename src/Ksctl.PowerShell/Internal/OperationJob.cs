using System.Management.Automation;
using Ksctl.Core.Clusters;
using Ksctl.Core.Diagnostics;

namespace Ksctl.PowerShell.Internal;

/// <summary>
/// The PowerShell job -AsJob returns (like Az's -AsJob): the Core operation runs on a worker with its own manager and
/// token; its log lines land in the job's Verbose/Debug/Warning streams, its steps in Progress (the same parent/child
/// records as in the foreground), a failure in Error, and the result in Output for Receive-Job. Stop-Job cancels the
/// token; Core records the cancelled status and releases the lock before the job reports Stopped.
/// </summary>
internal sealed class OperationJob : Job
{
    private readonly CancellationTokenSource _stop = new();
    private readonly object _sync = new();
    private readonly ProgressTracker _progress;
    private readonly object? _target;
    private int _nextActivityId;

    public OperationJob(string command, string name, string activity, object? target) : base(command, name)
    {
        PSJobTypeName = "KsctlJob";
        _target = target;
        _progress = new ProgressTracker(activity, () => ++_nextActivityId, r => Progress.Add(r));
    }

    public override string StatusMessage => JobStateInfo.State.ToString();
    public override bool HasMoreData => Output.Count > 0 || Error.Count > 0 || Verbose.Count > 0 || Warning.Count > 0 || Debug.Count > 0 || Progress.Count > 0;
    public override string Location => Environment.MachineName;

    public override void StopJob()
    {
        if (!IsFinished(JobStateInfo.State)) _stop.Cancel();
    }

    /// <summary>Starts <paramref name="work"/> on a worker; <paramref name="settings"/> builds the job's own manager, which reports here.</summary>
    public void Start(Core.Configuration.KsctlSettings settings, Func<ClusterManager, CancellationToken, Task<object?>> work)
    {
        SetJobState(JobState.Running);
        _ = Task.Run(async () =>
        {
            JobState final;
            try
            {
                using var manager = new ClusterManager(settings, new EventSink(Report));
                var result = await work(manager, _stop.Token).ConfigureAwait(false);
                if (result is not null) Output.Add(PSObject.AsPSObject(result));
                final = JobState.Completed;
            }
            catch (Exception ex) when (ErrorMapper.Unwrap(ex) is OperationCanceledException && _stop.IsCancellationRequested)
            {
                final = JobState.Stopped;
            }
            catch (Exception ex)
            {
                Error.Add(ErrorMapper.ToErrorRecord(ex, _target));
                final = JobState.Failed;
            }
            lock (_sync) _progress.Complete();
            SetJobState(final);
        });
    }

    private void Report(PumpItem item)
    {
        if (item.IsStep)
        {
            lock (_sync) _progress.Handle(item);
            return;
        }
        switch (item.Level)
        {
            case "Trace" or "Debug": Debug.Add(new DebugRecord(item.Message)); break;
            case "Warning": Warning.Add(new WarningRecord(item.Message)); break;
            default: Verbose.Add(new VerboseRecord(item.Message)); break;
        }
    }

    private static bool IsFinished(JobState state) => state is JobState.Completed or JobState.Failed or JobState.Stopped;

    protected override void Dispose(bool disposing)
    {
        if (disposing) _stop.Dispose();
        base.Dispose(disposing);
    }
}
