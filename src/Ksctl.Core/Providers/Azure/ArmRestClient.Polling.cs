using System.Text.Json;
using Azure.Core;
using Ksctl.Core.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Azure;

/// <summary>
/// Waiting for ARM's long-running operations (learn.microsoft.com "Track asynchronous Azure operations"): the
/// <c>Azure-AsyncOperation</c> URL answers <c>{"status": "InProgress"|"Succeeded"|"Failed"|"Canceled", "error": {...}}</c>;
/// the <c>Location</c> URL answers 202 while running and 200/204 when done. Retry-After is honoured, and every wait is
/// bounded by the operation's deadline (KsctlOperationTimeout, resumable).
/// </summary>
internal sealed partial class ArmRestClient
{
    private static readonly TimeSpan MaxPoll = TimeSpan.FromSeconds(30);

    private async Task PollOperationAsync(Uri operation, string what, DateTimeOffset deadline, TimeSpan? first, CancellationToken ct)
    {
        var delay = first;
        string? last = null;
        var polls = 0;
        while (true)
        {
            delay = await WaitAsync(delay, deadline, what, ct).ConfigureAwait(false);
            var (_, text, response) = await SendAsync(RequestMethod.Get, operation, what + " (operation status)", ct).ConfigureAwait(false);
            polls++;
            using var doc = ParseStatus(text, what);
            var status = doc.RootElement.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
            switch (status)
            {
                case "Succeeded":
                    _logger.LogInformation("Azure {What}: done after {Polls} status check(s).", what, polls);
                    return;
                case "Failed" or "Canceled":
                    throw (ArmError.From(doc.RootElement) ?? new ArmError(status, "the operation ended without an error body")).ToOperationException(what);
            }
            if (status != last) _logger.LogInformation("Azure {What}: {Status}.", what, status ?? "(no status yet)");
            last = status;
            delay = RetryAfter(response) ?? delay;
        }
    }

    private static JsonDocument ParseStatus(string text, string what)
    {
        try
        {
            return JsonDocument.Parse(string.IsNullOrWhiteSpace(text) ? "{}" : text);
        }
        catch (JsonException e)
        {
            throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult, $"Azure {what}: the operation status is not JSON: {e.Message}", "Azure", e);
        }
    }

    /// <summary>The Location form: 202 while running, 200/204 when done.</summary>
    private async Task PollLocationAsync(Uri location, string what, DateTimeOffset deadline, TimeSpan? first, CancellationToken ct)
    {
        var delay = first;
        while (true)
        {
            delay = await WaitAsync(delay, deadline, what, ct).ConfigureAwait(false);
            var (status, _, response) = await SendAsync(RequestMethod.Get, location, what + " (operation status)", ct).ConfigureAwait(false);
            if (status != 202)
            {
                _logger.LogInformation("Azure {What}: done.", what);
                return;
            }
            delay = RetryAfter(response) ?? delay;
        }
    }

    /// <summary>Waits before the next poll: ARM's Retry-After if it gave one, else growing by half, never below the floor.</summary>
    private async Task<TimeSpan> WaitAsync(TimeSpan? hint, DateTimeOffset deadline, string what, CancellationToken ct)
    {
        var delay = hint ?? _endpoints.MinimumPollInterval;
        if (delay < _endpoints.MinimumPollInterval) delay = _endpoints.MinimumPollInterval;
        if (delay > MaxPoll) delay = MaxPoll;
        if (_time.GetUtcNow() + delay > deadline)
            throw new KsctlException("KsctlOperationTimeout", KsctlErrorCategory.OperationTimeout,
                $"Azure {what} had not finished by its deadline. Re-run the command to keep waiting (nothing is created twice).", "Azure");
        await Task.Delay(delay, _time, ct).ConfigureAwait(false);
        return TimeSpan.FromMilliseconds(Math.Min(MaxPoll.TotalMilliseconds, delay.TotalMilliseconds * 1.5));
    }
}
