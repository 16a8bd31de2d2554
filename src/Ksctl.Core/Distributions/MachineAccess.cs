using System.Collections.Concurrent;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Remote;

namespace Ksctl.Core.Distributions;

/// <summary>
/// SSH access to a cluster's machines for one operation: one connection per machine, opened on first use and
/// reused by every later step, closed when the operation ends. A host key learned by trust-on-first-use is
/// written to the node's state at once, so every later connection is pinned to it.
/// </summary>
public sealed class MachineAccess : IAsyncDisposable
{
    private readonly IRemoteShellFactory _factory;
    private readonly Func<ClusterState, NodeState, RemoteMachine> _connection;
    private readonly ConcurrentDictionary<string, Lazy<Task<IRemoteShell>>> _shells = new(StringComparer.Ordinal);

    public MachineAccess(IRemoteShellFactory factory, Func<ClusterState, NodeState, RemoteMachine> connection)
    {
        _factory = factory;
        _connection = connection;
    }

    /// <summary>The shell of the node with <paramref name="key"/> ("cp-0"), which must already be recorded in state.</summary>
    public async Task<IRemoteShell> ShellAsync(StepContext context, string key, CancellationToken cancellationToken)
    {
        var node = context.Session.Read(s => s.Nodes.FirstOrDefault(n => n.Key == key))
            ?? throw new InvalidOperationException($"Node {key} is not in the state yet; its machine step must run first.");
        var machine = context.Session.Read(s => _connection(s, node));
        return await ShellAsync(context, key, machine, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Opens (or reuses) a shell for a machine described explicitly (the provider's own machine step).</summary>
    public async Task<IRemoteShell> ShellAsync(StepContext context, string key, RemoteMachine machine, CancellationToken cancellationToken)
    {
        var lazy = _shells.GetOrAdd(key, _ => new Lazy<Task<IRemoteShell>>(() => _factory.ConnectAsync(machine, cancellationToken)));
        IRemoteShell shell;
        try
        {
            shell = await lazy.Value.ConfigureAwait(false);
        }
        catch
        {
            // A failed connection is not cached: a retry (or a resumed run) connects again.
            _shells.TryRemove(new KeyValuePair<string, Lazy<Task<IRemoteShell>>>(key, lazy));
            throw;
        }
        if (shell.HostKeyLearned)
            context.Mutate(s => { if (s.Nodes.FirstOrDefault(n => n.Key == key) is { HostKey: null } n) n.HostKey = shell.HostKeyFingerprint; });
        return shell;
    }

    /// <summary>
    /// Closes the cached shell of <paramref name="key"/> and connects again to <paramref name="machine"/>: for a host
    /// key that was changed on purpose (a provider rotating it), so later steps use a connection pinned to the new one.
    /// </summary>
    public async Task<IRemoteShell> ReconnectAsync(StepContext context, string key, RemoteMachine machine, CancellationToken cancellationToken)
    {
        if (_shells.TryRemove(key, out var old) && old.IsValueCreated)
        {
            try { await (await old.Value.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false); }
            catch (Exception) { /* a connection that never opened has nothing to close */ }
        }
        return await ShellAsync(context, key, machine, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var lazy in _shells.Values)
        {
            if (!lazy.IsValueCreated) continue;
            try { await (await lazy.Value.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false); }
            catch (Exception) { /* a connection that never opened has nothing to close */ }
        }
        _shells.Clear();
    }
}
