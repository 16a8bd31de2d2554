using Ksctl.Core.Diagnostics;

namespace Ksctl.Core.Providers.Civo;

/// <summary>Deadline-based polling with growing delays (Civo builds and deletes asynchronously; no fixed sleeps).</summary>
internal static class CivoPolling
{
    private static readonly TimeSpan FirstPoll = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MaxPoll = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Calls <paramref name="probe"/> until it returns a value, or throws KsctlOperationTimeout with
    /// <paramref name="timeoutMessage"/> (given the last status seen) once <paramref name="timeout"/> has passed.
    /// </summary>
    public static async Task<T> UntilAsync<T>(TimeProvider time, TimeSpan timeout, Func<CancellationToken, Task<(bool Done, T Value, string? Status)>> probe,
        Func<string?, string> timeoutMessage, string target, CancellationToken ct)
    {
        var deadline = time.GetUtcNow() + timeout;
        var delay = FirstPoll;
        while (true)
        {
            var (done, value, status) = await probe(ct).ConfigureAwait(false);
            if (done) return value;
            if (time.GetUtcNow() + delay > deadline)
                throw new KsctlException("KsctlOperationTimeout", KsctlErrorCategory.OperationTimeout, timeoutMessage(status), target);
            await Task.Delay(delay, time, ct).ConfigureAwait(false);
            delay = TimeSpan.FromMilliseconds(Math.Min(MaxPoll.TotalMilliseconds, delay.TotalMilliseconds * 1.5));
        }
    }
}
