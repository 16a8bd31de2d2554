namespace Ksctl.Core.Reconcile;

/// <summary>
/// How patiently the reconciler resumes a failed operation: the first retry after <see cref="FirstBackoff"/>, each next
/// one after twice the previous wait, never more than <see cref="MaxBackoff"/>; after <see cref="MaxAttempts"/> failed
/// attempts it gives up and says so (the cluster's LastErrors and the reconcile log) until reconciliation is set again.
/// </summary>
public sealed record ReconcilePolicy
{
    public static readonly ReconcilePolicy Default = new();

    public TimeSpan FirstBackoff { get; init; } = TimeSpan.FromMinutes(1);
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromMinutes(30);
    public int MaxAttempts { get; init; } = 6;

    /// <summary>The wait after the <paramref name="attempts"/>-th failure: 1, 2, 4... minutes, capped.</summary>
    public TimeSpan BackoffAfter(int attempts)
    {
        var factor = Math.Pow(2, Math.Max(0, attempts - 1));
        var ticks = Math.Min(FirstBackoff.Ticks * factor, MaxBackoff.Ticks);
        return TimeSpan.FromTicks((long)ticks);
    }
}
