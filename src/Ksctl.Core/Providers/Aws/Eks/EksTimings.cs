namespace Ksctl.Core.Providers.Aws.Eks;

/// <summary>
/// How often and how long Ksctl polls EKS and IAM. A real EKS control plane takes 8-15 minutes and a node group
/// 2-5; IAM roles take seconds to become usable by EKS. Tests substitute short values through <see cref="Use"/>
/// (as <c>CivoTimings</c> does); nothing else changes them.
/// </summary>
internal sealed record EksTimings
{
    public static readonly EksTimings Default = new();
    private static readonly AsyncLocal<EksTimings?> Override = new();

    public TimeSpan FirstPoll { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan MaxPoll { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan ClusterActive { get; init; } = TimeSpan.FromMinutes(25);
    public TimeSpan ClusterGone { get; init; } = TimeSpan.FromMinutes(20);
    public TimeSpan NodegroupActive { get; init; } = TimeSpan.FromMinutes(20);
    public TimeSpan NodegroupGone { get; init; } = TimeSpan.FromMinutes(20);
    /// <summary>How long a fresh IAM role may be refused by EKS ("could not be assumed") before Ksctl gives up.</summary>
    public TimeSpan RolePropagation { get; init; } = TimeSpan.FromMinutes(2);
    /// <summary>How long a VPC or subnet may stay in use (DependencyViolation) after the cluster's network interfaces go.</summary>
    public TimeSpan NetworkInUse { get; init; } = TimeSpan.FromMinutes(10);
    /// <summary>First delay after a throttled or 5xx answer; doubles per attempt up to <see cref="MaxPoll"/>.</summary>
    public TimeSpan RetryBase { get; init; } = TimeSpan.FromMilliseconds(500);
    public int MaxAttempts { get; init; } = 8;

    /// <summary>The timings set by <see cref="Use"/>, else the defaults paced by the provider's endpoints (tests poll fast).</summary>
    public static EksTimings For(AwsEndpoints endpoints) => Override.Value ?? Default with
    {
        FirstPoll = endpoints.PollInterval,
        MaxPoll = endpoints.PollInterval > Default.MaxPoll ? endpoints.PollInterval : Default.MaxPoll,
        RetryBase = endpoints.RetryDelay,
        MaxAttempts = Math.Max(1, endpoints.MaxErrorRetry),
    };

    /// <summary>Sets the timings for the calling flow (and the tasks it starts) until disposed.</summary>
    public static IDisposable Use(EksTimings timings)
    {
        var previous = Override.Value;
        Override.Value = timings;
        return new Restore(previous);
    }

    private sealed class Restore(EksTimings? previous) : IDisposable
    {
        public void Dispose() => Override.Value = previous;
    }

    /// <summary>The next poll delay: ×1.5 up to <see cref="MaxPoll"/>.</summary>
    public TimeSpan Next(TimeSpan delay) => TimeSpan.FromMilliseconds(Math.Min(MaxPoll.TotalMilliseconds, delay.TotalMilliseconds * 1.5));

    /// <summary>The delay before retry <paramref name="attempt"/> (1-based) of a throttled request.</summary>
    public TimeSpan Backoff(int attempt) =>
        TimeSpan.FromMilliseconds(Math.Min(MaxPoll.TotalMilliseconds, RetryBase.TotalMilliseconds * Math.Pow(2, attempt - 1)));
}
