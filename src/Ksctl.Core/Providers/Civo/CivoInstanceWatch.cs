namespace Ksctl.Core.Providers.Civo;

/// <summary>
/// One list of a region's instances shared by every step of a plan that waits on an instance: eight machines
/// booting in parallel cost one <c>GET /v2/instances</c> per poll, not eight (Civo budgets requests per minute). A
/// caller asks for a list fetched no earlier than a given instant; if one is in flight or was fetched since, it is
/// shared, else a new one is fetched.
/// </summary>
internal sealed class CivoInstanceWatch(Func<CancellationToken, Task<CivoClient>> clients, string region, TimeProvider time)
{
    private readonly object _lock = new();
    private Task<IReadOnlyDictionary<string, CivoMachine>>? _current;
    private DateTimeOffset _currentStarted = DateTimeOffset.MinValue;

    /// <summary>The region's instances by id, from a list whose request started at or after <paramref name="notBefore"/>.</summary>
    public async Task<IReadOnlyDictionary<string, CivoMachine>> ListAsync(DateTimeOffset notBefore, CancellationToken ct)
    {
        Task<IReadOnlyDictionary<string, CivoMachine>> fetch;
        lock (_lock)
        {
            if (_current is null || _currentStarted < notBefore || _current.IsFaulted || _current.IsCanceled)
            {
                _currentStarted = time.GetUtcNow();
                // Not tied to one caller's token: others share it. Each caller still stops waiting on its own token.
                _current = FetchAsync();
            }
            fetch = _current;
        }
        return await fetch.WaitAsync(ct).ConfigureAwait(false);
    }

    private async Task<IReadOnlyDictionary<string, CivoMachine>> FetchAsync()
    {
        var client = await clients(CancellationToken.None).ConfigureAwait(false);
        var all = await client.ListInstancesAsync(region, CancellationToken.None).ConfigureAwait(false);
        var byId = new Dictionary<string, CivoMachine>(StringComparer.Ordinal);
        foreach (var i in all) byId[i.Id] = i;
        return byId;
    }

    /// <summary>The watch of each region for one plan (the steps of a plan share the object that made them).</summary>
    public sealed class PerRegion(Func<CancellationToken, Task<CivoClient>> clients, TimeProvider time)
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, CivoInstanceWatch> _watches = new(StringComparer.Ordinal);
        public CivoInstanceWatch For(string region) => _watches.GetOrAdd(region, r => new CivoInstanceWatch(clients, r, time));
    }
}
