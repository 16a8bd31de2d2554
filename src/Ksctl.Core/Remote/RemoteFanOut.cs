namespace Ksctl.Core.Remote;

/// <summary>Runs work on many machines at once, bounded, and reports every machine's outcome (one failure does not hide the others).</summary>
public static class RemoteFanOut
{
    /// <summary>
    /// Runs <paramref name="action"/> for every item with at most <paramref name="maxParallelism"/> at once. Results are in
    /// input order. Cancellation is not a per-machine failure: it throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public static async Task<IReadOnlyList<RemoteMachineResult<T>>> ForEachAsync<TItem, T>(
        IReadOnlyList<TItem> items, Func<TItem, string> machineName, Func<TItem, CancellationToken, Task<T>> action,
        int maxParallelism, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        var results = new RemoteMachineResult<T>[items.Count];
        var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, maxParallelism), CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, items.Count), options, async (i, ct) =>
        {
            var name = machineName(items[i]);
            try
            {
                results[i] = new RemoteMachineResult<T> { Machine = name, Value = await action(items[i], ct).ConfigureAwait(false) };
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex)
            {
                results[i] = new RemoteMachineResult<T> { Machine = name, Error = ex };
            }
        }).ConfigureAwait(false);
        return results;
    }

    /// <summary>Runs one script on every already-open shell.</summary>
    public static Task<IReadOnlyList<RemoteMachineResult<RemoteCommandResult>>> RunOnAllAsync(
        IReadOnlyList<IRemoteShell> shells, RemoteScript script, int maxParallelism, CancellationToken cancellationToken = default) =>
        ForEachAsync(shells, s => s.Machine, (s, ct) => s.RunAsync(script, ct), maxParallelism, cancellationToken);

    /// <summary>Connects to every machine, runs one script, disconnects.</summary>
    public static Task<IReadOnlyList<RemoteMachineResult<RemoteCommandResult>>> RunOnAllAsync(
        this IRemoteShellFactory factory, IReadOnlyList<RemoteMachine> machines, RemoteScript script, int maxParallelism,
        CancellationToken cancellationToken = default) =>
        ForEachAsync(machines, m => m.DisplayName, async (m, ct) =>
        {
            await using var shell = await factory.ConnectAsync(m, ct).ConfigureAwait(false);
            return await shell.RunAsync(script, ct).ConfigureAwait(false);
        }, maxParallelism, cancellationToken);

    /// <summary>Returns the values when every machine succeeded; otherwise throws the only error, or an AggregateException of all.</summary>
    public static IReadOnlyList<T> ThrowIfAnyFailed<T>(this IReadOnlyList<RemoteMachineResult<T>> results)
    {
        var errors = results.Where(r => r.Error is not null).Select(r => r.Error!).ToList();
        if (errors.Count == 1) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(errors[0]).Throw();
        if (errors.Count > 1) throw new AggregateException($"{errors.Count} of {results.Count} machines failed.", errors);
        return results.Select(r => r.Value!).ToList();
    }
}
