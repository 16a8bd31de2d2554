using Ksctl.Core.Diagnostics;

namespace Ksctl.Core.Providers.Civo;

/// <summary>Deadline-based polling with growing delays (Civo builds and deletes asynchronously; no fixed sleeps).</summary>
internal static class CivoPolling
{
    /// <summary>
    /// Calls <paramref name="probe"/> until it returns done, or throws KsctlOperationTimeout with
    /// <paramref name="timeoutMessage"/> (given the last status seen) once <paramref name="timeout"/> has passed.
    /// Delays start at <see cref="CivoTimings.FirstPoll"/> (seconds: Civo budgets requests per minute).
    /// </summary>
    public static async Task<T> UntilAsync<T>(TimeProvider time, TimeSpan timeout, Func<CancellationToken, Task<(bool Done, T Value, string? Status)>> probe,
        Func<string?, string> timeoutMessage, string target, CancellationToken ct)
    {
        var timings = CivoTimings.Current;
        var deadline = time.GetUtcNow() + timeout;
        var delay = timings.FirstPoll;
        while (true)
        {
            var (done, value, status) = await probe(ct).ConfigureAwait(false);
            if (done) return value;
            if (time.GetUtcNow() >= deadline)
                throw new KsctlException("KsctlOperationTimeout", KsctlErrorCategory.OperationTimeout, timeoutMessage(status), target);
            var left = deadline - time.GetUtcNow();
            await Task.Delay(delay < left ? delay : left > TimeSpan.Zero ? left : TimeSpan.Zero, time, ct).ConfigureAwait(false);
            delay = timings.Next(delay);
        }
    }
}
