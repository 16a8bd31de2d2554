using System.Collections.Concurrent;
using System.Management.Automation;
using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.PowerShell.Internal;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// Base of every Ksctl cmdlet. Core work runs on a worker thread; its events are queued and written here, on the
/// pipeline thread (the only thread allowed to call Write*): logs to Verbose/Debug/Warning, plan steps to
/// Write-Progress. Ctrl+C (StopProcessing) cancels the Core token; Core leaves the cluster resumable.
/// Fields hold no Core type, so importing the module never loads Ksctl.Core.
/// </summary>
public abstract class KsctlCmdlet : PSCmdlet, IDisposable
{
    private static int _nextActivityId;
    private readonly CancellationTokenSource _stop = new();
    private readonly BlockingCollection<PumpItem> _queue = new();
    private object? _manager;
    private object? _settings;

    protected CancellationToken StopToken => _stop.Token;

    protected override void StopProcessing() => _stop.Cancel();

    protected override void EndProcessing() => Drain();

    /// <summary>Settings from $KSCTL_HOME; an unreadable configuration stops the command.</summary>
    internal KsctlSettings GetSettings()
    {
        if (_settings is KsctlSettings s) return s;
        try
        {
            s = KsctlSettings.Load();
        }
        catch (Exception ex)
        {
            ThrowTerminatingError(ErrorMapper.ToErrorRecord(ex, "configuration"));
            throw; // unreachable
        }
        _settings = s;
        return s;
    }

    /// <summary>One manager per command invocation; its events are pumped by <see cref="Run{T}"/>.</summary>
    internal ClusterManager GetManager()
    {
        if (_manager is ClusterManager m) return m;
        var settings = GetSettings();
        try
        {
            m = new ClusterManager(settings, new EventSink(item => _queue.Add(item)));
        }
        catch (Exception ex)
        {
            ThrowTerminatingError(ErrorMapper.ToErrorRecord(ex, "configuration"));
            throw;
        }
        _manager = m;
        return m;
    }

    /// <summary>
    /// Runs <paramref name="work"/> on a worker thread and writes its events until it ends; returns its result or
    /// rethrows its exception (a cancellation after Ctrl+C becomes <see cref="PipelineStoppedException"/>).
    /// With an <paramref name="activity"/>, plan steps show as progress under that activity.
    /// </summary>
    internal T Run<T>(Func<CancellationToken, Task<T>> work, string? activity = null)
    {
        if (_stop.IsCancellationRequested) throw new PipelineStoppedException();
        var activityId = activity is null ? 0 : Interlocked.Increment(ref _nextActivityId);
        var task = Task.Run(() => work(_stop.Token));
        task.ContinueWith(_ => _queue.Add(PumpItem.Done), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        var progressShown = false;
        while (true)
        {
            var item = _queue.Take();
            if (item.IsDone) break;
            progressShown |= Emit(item, activity, activityId);
        }
        if (progressShown)
        {
            WriteProgress(new ProgressRecord(activityId, activity!, "Done") { RecordType = ProgressRecordType.Completed, PercentComplete = 100 });
        }
        try
        {
            return task.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            throw new PipelineStoppedException();
        }
    }

    internal void Run(Func<CancellationToken, Task> work, string? activity = null) =>
        Run<bool>(async ct => { await work(ct).ConfigureAwait(false); return true; }, activity);

    /// <summary>Writes events that arrived after the last operation ended.</summary>
    protected void Drain()
    {
        while (_queue.TryTake(out var item))
            if (!item.IsDone) Emit(item, null, 0);
    }

    private bool Emit(PumpItem item, string? activity, int activityId)
    {
        // Step events feed the progress bar only: Core also logs every step, and those log lines are the verbose text.
        if (!item.IsStep)
        {
            switch (item.Level)
            {
                case "Trace" or "Debug": WriteDebug(item.Message); break;
                case "Warning": WriteWarning(item.Message); break;
                default: WriteVerbose(item.Message); break; // Information, and Error (the error itself comes as an ErrorRecord)
            }
            return false;
        }
        if (activity is null) return false;
        var status = string.IsNullOrWhiteSpace(item.Message) ? (item.Step ?? "working") : item.Message;
        var record = new ProgressRecord(activityId, activity, status);
        if (item.Percent is { } p) record.PercentComplete = Math.Clamp(p, 0, 100);
        if (item.Step is not null) record.CurrentOperation = item.Step;
        WriteProgress(record);
        return true;
    }

    /// <summary>The active store's credentials, or null after writing why they cannot be read.</summary>
    internal (Core.Storage.Credentials.CredentialStore Store, IReadOnlyList<Core.Storage.Credentials.StoredCredential> All)? ListCredentials()
    {
        try
        {
            var store = GetManager().Credentials;
            return (store, Run(ct => store.ListAsync(ct)));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, "credentials");
            return null;
        }
    }

    /// <summary>A non-terminating error for one target, or a terminating one when the input itself is wrong.</summary>
    internal void WriteFailure(Exception ex, object? target)
    {
        var unwrapped = ErrorMapper.Unwrap(ex);
        if (unwrapped is PipelineStoppedException) throw unwrapped;
        var record = ErrorMapper.ToErrorRecord(unwrapped, target);
        // A security failure (a host key that is not the pinned one) stops the whole command, not just this record.
        if (record.CategoryInfo.Category == ErrorCategory.SecurityError) ThrowTerminatingError(record);
        WriteError(record);
    }

    public void Dispose()
    {
        (_manager as IDisposable)?.Dispose();
        _stop.Dispose();
        _queue.Dispose();
        GC.SuppressFinalize(this);
    }
}
