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
    /// With an <paramref name="activity"/>, the operation shows as a parent progress record and each running step as
    /// a child record. After Ctrl+C nothing more is written, but the queue is still drained until the work has ended —
    /// recorded its status and released its lock — so the prompt never returns while the operation still runs.
    /// </summary>
    internal T Run<T>(Func<CancellationToken, Task<T>> work, string? activity = null)
    {
        if (_stop.IsCancellationRequested) throw new PipelineStoppedException();
        var progress = activity is null ? null : new ProgressTracker(activity, () => Interlocked.Increment(ref _nextActivityId), r => Write(() => WriteProgress(r)));
        var task = Task.Run(() => work(_stop.Token));
        task.ContinueWith(_ => _queue.Add(PumpItem.Done), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        while (true)
        {
            var item = _queue.Take();
            if (item.IsDone) break;
            Emit(item, progress);
        }
        progress?.Complete();
        if (Quiet) throw new PipelineStoppedException();
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
            if (!item.IsDone) Emit(item, null);
    }

    /// <summary>True once Ctrl+C (or Stop()) was asked for: from then on nothing is written.</summary>
    private bool Quiet => _silenced || _stop.IsCancellationRequested || Stopping;
    private bool _silenced;

    /// <summary>
    /// Writes unless the pipeline is stopping. The engine marks the pipeline stopped before it calls StopProcessing,
    /// so a Write* can throw before <see cref="_stop"/> is cancelled: that too silences every later write.
    /// </summary>
    private void Write(Action write)
    {
        if (Quiet) return;
        try { write(); }
        catch (PipelineStoppedException) { _silenced = true; }
    }

    private void Emit(PumpItem item, ProgressTracker? progress)
    {
        // Step events feed the progress bars only: Core also logs every step, and those log lines are the verbose text.
        if (item.IsStep)
        {
            progress?.Handle(item);
            return;
        }
        switch (item.Level)
        {
            case "Trace" or "Debug": Write(() => WriteDebug(item.Message)); break;
            case "Warning": Write(() => WriteWarning(item.Message)); break;
            default: Write(() => WriteVerbose(item.Message)); break; // Information, and Error (the error itself comes as an ErrorRecord)
        }
    }

    /// <summary>
    /// The confirmation of a cmdlet with -Force. ShouldProcess decides, so -WhatIf, $WhatIfPreference (also one set by
    /// an advanced function called with -WhatIf) and an explicit -Confirm always apply; -Force only skips the prompt
    /// that ConfirmImpact would otherwise raise (the guideline's ShouldContinue role).
    /// </summary>
    internal bool ShouldProcessUnlessForced(bool force, string description, string warning, string caption)
    {
        if (force && !ExplicitConfirm() && !WhatIfInEffect())
        {
            WriteVerbose(description);
            return true;
        }
        return ShouldProcess(description, warning, caption);
    }

    private bool ExplicitConfirm() =>
        MyInvocation.BoundParameters.TryGetValue("Confirm", out var c) && c is SwitchParameter { IsPresent: true };

    /// <summary>-WhatIf when given (-WhatIf:$false included), else $WhatIfPreference as seen from the caller's scope.</summary>
    private bool WhatIfInEffect()
    {
        if (MyInvocation.BoundParameters.TryGetValue("WhatIf", out var w)) return w is SwitchParameter { IsPresent: true };
        return LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference"));
    }

    /// <summary>
    /// Runs a mutating Core operation in the foreground (events pumped here, output written here) or, with -AsJob, as a
    /// <see cref="OperationJob"/> that is returned at once. Foreground failures throw, for the caller's WriteFailure.
    /// </summary>
    internal void Execute<T>(bool asJob, string activity, object? target, Func<ClusterManager, CancellationToken, Task<T>> work, Func<T, object?> output)
    {
        if (!asJob)
        {
            var manager = GetManager();
            var result = Run(ct => work(manager, ct), activity);
            if (output(result) is { } o) WriteObject(o);
            return;
        }
        var job = new OperationJob(MyInvocation.Line, $"{MyInvocation.MyCommand.Name} {target}", activity, target);
        job.Start(GetSettings(), async (manager, ct) => output(await work(manager, ct).ConfigureAwait(false)));
        JobRepository.Add(job);
        WriteObject(job);
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
