using Ksctl.Core.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Aws.Eks;

/// <summary>Polls with growing delays against a deadline (no fixed sleeps), logging progress at every poll.</summary>
internal static class EksWait
{
    /// <summary>Polls <paramref name="poll"/> until it returns true, or throws KsctlOperationTimeout after <paramref name="limit"/>.</summary>
    public static async Task UntilAsync(EksTimings timings, string what, TimeSpan limit, ILogger logger, Func<CancellationToken, Task<(bool Done, string Status)>> poll, CancellationToken ct)
    {
        var started = DateTimeOffset.UtcNow;
        var delay = timings.FirstPoll;
        string status;
        while (true)
        {
            (var done, status) = await poll(ct).ConfigureAwait(false);
            if (done) return;
            var elapsed = DateTimeOffset.UtcNow - started;
            if (elapsed >= limit) break;
            logger.LogInformation("Waiting for {What}: {Status} after {Elapsed:0} s (up to {Limit:0} min).", what, status, elapsed.TotalSeconds, limit.TotalMinutes);
            await Task.Delay(delay, ct).ConfigureAwait(false);
            delay = timings.Next(delay);
        }
        throw new KsctlException("KsctlOperationTimeout", KsctlErrorCategory.OperationTimeout,
            $"{what} was still {status} after {limit.TotalMinutes:0.#} minutes; run the command again to keep waiting (finished steps are skipped).", what);
    }

    /// <summary>
    /// Runs <paramref name="action"/>, repeating it while <paramref name="retryable"/> says the error is one that
    /// passes (IAM propagation, a resource still in use), until <paramref name="limit"/>; then the last error is raised.
    /// </summary>
    public static async Task<T> RetryAsync<T>(EksTimings timings, string what, TimeSpan limit, ILogger logger, Func<CancellationToken, Task<T>> action, Func<AwsApiException, bool> retryable, CancellationToken ct)
    {
        var started = DateTimeOffset.UtcNow;
        var delay = timings.FirstPoll;
        while (true)
        {
            try { return await action(ct).ConfigureAwait(false); }
            catch (AwsApiException e) when (retryable(e) && DateTimeOffset.UtcNow - started < limit)
            {
                logger.LogInformation("{What}: {Code} ({Message}); trying again in {Delay:0.#} s.", what, e.Code, e.Message, delay.TotalSeconds);
                await Task.Delay(delay, ct).ConfigureAwait(false);
                delay = timings.Next(delay);
            }
        }
    }
}
