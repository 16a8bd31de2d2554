using Ksctl.Core.Model;
using Ksctl.Core.Storage;

namespace Ksctl.Core.Engine;

/// <summary>
/// The live state of one cluster during one operation, under that cluster's lock. Steps running in parallel
/// mutate it through <see cref="Mutate"/>; <see cref="CheckpointAsync"/> persists it. Both go through one gate so
/// a store never serialises a document that a step is changing.
/// </summary>
public sealed class StateSession
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public StateSession(ClusterState state, IStateStore store)
    {
        State = state;
        Store = store;
    }

    /// <summary>The document. Read freely from the step that owns a value; change it only through <see cref="Mutate"/>.</summary>
    public ClusterState State { get; }
    public IStateStore Store { get; }

    public void Mutate(Action<ClusterState> change)
    {
        _gate.Wait();
        try
        {
            change(State);
            State.UpdatedAt = DateTimeOffset.UtcNow;
        }
        finally { _gate.Release(); }
    }

    public T Read<T>(Func<ClusterState, T> read)
    {
        _gate.Wait();
        try { return read(State); }
        finally { _gate.Release(); }
    }

    /// <summary>Persists the document. Not cancellable on purpose: a checkpoint half-skipped would lose work.</summary>
    public async Task CheckpointAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try { await Store.WriteAsync(State, CancellationToken.None).ConfigureAwait(false); }
        finally { _gate.Release(); }
    }
}
