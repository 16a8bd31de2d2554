using System.Runtime.CompilerServices;
using System.Text.Json;
using Ksctl.Core.Storage;
using Ksctl.Core.Storage.Records;

namespace Ksctl.Server.Operations;

/// <summary>
/// Operation records in the shared state store (Core's <see cref="RecordStore"/>, kind "operations"), so that every
/// replica on the store answers GET /operations/{id} and follows its events, whichever replica runs it. The replica
/// running an operation writes its record at each change (one write at a time: changes made during a write go into
/// the next one, so a busy operation costs one write per store round trip, not one per event); the others read it.
/// At most <see cref="MaxEvents"/> events and <see cref="MaxRecords"/> records are kept (the oldest go first).
/// </summary>
public sealed class OperationStore(IStateStore store, TimeProvider time, ILogger<OperationStore> logger)
{
    public const int MaxEvents = 500;
    public const int MaxRecords = 1000;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly RecordStore _records = RecordStore.For(store, "operations");
    private int _completions;

    /// <summary>How often a replica that does not run an operation re-reads its record while following it.</summary>
    public TimeSpan FollowInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Writes the operation's record at every change until it has ended and its final record is written.</summary>
    public async Task KeepAsync(ServerOperation operation)
    {
        long written = -1;
        while (true)
        {
            var record = operation.ToRecord(MaxEvents, out var changed);
            var version = record.Events.Count == 0 ? 0 : record.Events[^1].Sequence;
            var finished = record.Operation.Status != nameof(OperationStatus.Running);
            if (version != written)
            {
                try
                {
                    await _records.WriteAsync(operation.Id, JsonSerializer.SerializeToUtf8Bytes(record, Json), CancellationToken.None).ConfigureAwait(false);
                    written = version;
                }
                catch (Exception ex)
                {
                    // The operation goes on; other replicas see an older record until the next write succeeds.
                    logger.LogWarning(ex, "The record of operation {Operation} could not be written to the store.", operation.Id);
                    if (finished) return;
                }
            }
            if (finished && version == written) break;
            await changed.ConfigureAwait(false);
        }
        if (Interlocked.Increment(ref _completions) % 50 == 0) await PruneAsync().ConfigureAwait(false);
    }

    /// <summary>The stored record, or null when there is none (or it is not a record of this id).</summary>
    public async Task<OperationRecord?> ReadAsync(string id, CancellationToken cancellationToken)
    {
        byte[]? bytes;
        try { bytes = await _records.ReadAsync(id, cancellationToken).ConfigureAwait(false); }
        catch (Ksctl.Core.Diagnostics.InvalidSpecException) { return null; } // not an id's shape: no such operation
        if (bytes is null) return null;
        OperationRecord? record;
        try { record = JsonSerializer.Deserialize<OperationRecord>(bytes, Json); }
        catch (JsonException ex)
        {
            logger.LogWarning("The stored record of operation {Operation} is not readable: {Reason}", id, ex.Message);
            return null;
        }
        // Read back from a shared store: only a record of this very operation, with a known status, is believed.
        if (record?.Operation is not { } op || op.Id != id || !Enum.TryParse<OperationStatus>(op.Status, out _) || record.Events is null) return null;
        return record;
    }

    /// <summary>The newest stored records (ids start with their UTC start time, so they sort by it).</summary>
    public async Task<IReadOnlyList<OperationRecord>> NewestAsync(int count, CancellationToken cancellationToken)
    {
        var names = (await _records.ListAsync(cancellationToken).ConfigureAwait(false)).Reverse().Take(count).ToList();
        var records = await Task.WhenAll(names.Select(n => ReadAsync(n, cancellationToken))).ConfigureAwait(false);
        return records.OfType<OperationRecord>().ToList();
    }

    /// <summary>Events of an operation another replica runs: those stored, then those written later, until its End.</summary>
    public async IAsyncEnumerable<OperationEvent> FollowAsync(OperationRecord first, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var record = first;
        long next = 0;
        while (record is not null)
        {
            foreach (var e in record.Events.Where(e => e.Sequence > next).OrderBy(e => e.Sequence))
            {
                next = e.Sequence;
                yield return e;
            }
            if (record.Operation.Status != nameof(OperationStatus.Running)) yield break;
            // The store cannot notify: the record is read again after a short wait.
            await Task.Delay(FollowInterval, time, cancellationToken).ConfigureAwait(false);
            record = await ReadAsync(first.Operation.Id, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task PruneAsync()
    {
        try
        {
            var names = await _records.ListAsync(CancellationToken.None).ConfigureAwait(false);
            foreach (var old in names.Take(Math.Max(0, names.Count - MaxRecords)))
                await _records.DeleteAsync(old, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) { logger.LogWarning(ex, "Old operation records could not be pruned."); }
    }
}
