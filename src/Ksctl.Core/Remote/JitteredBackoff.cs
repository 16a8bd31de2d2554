namespace Ksctl.Core.Remote;

/// <summary>Exponential backoff with "equal jitter": each delay is between half and all of min(max, initial * 2^n).</summary>
internal sealed class JitteredBackoff(TimeSpan initial, TimeSpan max)
{
    private int _attempt;

    public TimeSpan Next()
    {
        var ceiling = initial.TotalMilliseconds * Math.Pow(2, Math.Min(_attempt++, 30));
        ceiling = Math.Min(ceiling, max.TotalMilliseconds);
        var half = ceiling / 2;
        return TimeSpan.FromMilliseconds(half + Random.Shared.NextDouble() * half);
    }

    /// <summary>The next delay, but never past <paramref name="deadline"/>.</summary>
    public TimeSpan Next(DateTimeOffset deadline, TimeProvider time)
    {
        var d = Next();
        var left = deadline - time.GetUtcNow();
        if (left < TimeSpan.Zero) left = TimeSpan.Zero;
        return d < left ? d : left;
    }
}
