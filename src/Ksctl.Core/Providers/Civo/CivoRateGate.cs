using System.Collections.Concurrent;
using System.Globalization;

namespace Ksctl.Core.Providers.Civo;

/// <summary>
/// Civo's per-key request budget, shared by every client of one endpoint and key in the process (the parallel steps
/// of a plan each make their own client). Civo answers with <c>X-RateLimit-Limit</c>, <c>-Remaining</c> and
/// <c>-Reset</c>; once the budget is used it answers 429 until the window resets. After a 429, or an answer that says
/// nothing remains, every request of this key waits for the reset instead of spending the next window on retries.
/// </summary>
internal sealed class CivoRateGate
{
    private static readonly ConcurrentDictionary<string, CivoRateGate> Gates = new(StringComparer.Ordinal);
    /// <summary>A reset further away than this is not believed (a clock far off, a hostile header): wait this long at most.</summary>
    internal static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(90);
    private readonly object _lock = new();
    private DateTimeOffset _closedUntil;

    public static CivoRateGate For(string baseUrl, string token) =>
        Gates.GetOrAdd(baseUrl + "\n" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token))), _ => new CivoRateGate());

    /// <summary>Waits while the budget is known to be used up.</summary>
    public async Task WaitAsync(TimeProvider time, CancellationToken ct)
    {
        while (true)
        {
            TimeSpan wait;
            lock (_lock) wait = _closedUntil - time.GetUtcNow();
            if (wait <= TimeSpan.Zero) return;
            await Task.Delay(wait < MaxWait ? wait : MaxWait, time, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Reads the budget headers of an answer. Returns how long to wait before the next request when the budget is
    /// used (a 429, or Remaining 0), else null.
    /// </summary>
    public TimeSpan? Observe(HttpResponseMessage response, TimeProvider time)
    {
        var now = time.GetUtcNow();
        var remaining = Header(response, "X-RateLimit-Remaining");
        // A 429 that says budget remains is another kind of throttling (Retry-After applies), not the budget.
        var exhausted = remaining is <= 0 || ((int)response.StatusCode == 429 && remaining is null);
        if (!exhausted) return null;
        var until = ResetAt(Header(response, "X-RateLimit-Reset"), now);
        if (until is null) return null;
        lock (_lock) if (until > _closedUntil) _closedUntil = until.Value;
        return until.Value - now;
    }

    /// <summary>
    /// X-RateLimit-Reset as a Unix time in seconds (the usual meaning of the header), or, for a small number, as
    /// seconds from now; a second is added for the header's whole-second rounding. Null when absent.
    /// </summary>
    internal static DateTimeOffset? ResetAt(long? reset, DateTimeOffset now)
    {
        if (reset is not { } value || value < 0) return null;
        var at = value > 1_000_000_000 ? DateTimeOffset.FromUnixTimeSeconds(value) : now + TimeSpan.FromSeconds(value);
        at += TimeSpan.FromSeconds(1);
        if (at < now) return now;
        return at - now > MaxWait ? now + MaxWait : at;
    }

    private static long? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) && long.TryParse(values.FirstOrDefault(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null;
}
