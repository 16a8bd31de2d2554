namespace Ksctl.Core.Providers.Civo;

/// <summary>
/// How often and how long Ksctl polls Civo. Civo builds in tens of seconds to minutes and budgets requests per
/// minute, so polls start at seconds and grow; one poll serves every instance of a cluster. Tests substitute shorter
/// deadlines (an instance that never becomes ACTIVE) through <see cref="Use"/>, and a test assembly whose emulator
/// answers at once polls in milliseconds through <see cref="UseForProcess"/>; nothing else changes them.
/// </summary>
internal sealed record CivoTimings
{
    public static readonly CivoTimings Default = new();
    private static readonly AsyncLocal<CivoTimings?> Override = new();
    private static CivoTimings? _process;

    public TimeSpan FirstPoll { get; init; } = TimeSpan.FromSeconds(2);
    public TimeSpan MaxPoll { get; init; } = TimeSpan.FromSeconds(15);
    public TimeSpan ClusterActive { get; init; } = TimeSpan.FromMinutes(20);
    public TimeSpan ClusterGone { get; init; } = TimeSpan.FromMinutes(10);
    public TimeSpan InstanceActive { get; init; } = TimeSpan.FromMinutes(10);
    public TimeSpan InstanceGone { get; init; } = TimeSpan.FromMinutes(10);
    /// <summary>How long an ACTIVE instance may take to run its first-boot script (cloud-init finishing, then the script).</summary>
    public TimeSpan FirstBoot { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>How long a firewall or network may stay "in use" after what used it is gone (Civo detaches lazily).</summary>
    public TimeSpan InUse { get; init; } = TimeSpan.FromMinutes(5);

    public static CivoTimings Current => Override.Value ?? Volatile.Read(ref _process) ?? Default;

    /// <summary>
    /// The timings of every flow of this process that has no <see cref="Use"/> of its own (null: the defaults again).
    /// For a test assembly: its emulator builds in a few polls, so waiting real seconds between them only costs time.
    /// </summary>
    public static void UseForProcess(CivoTimings? timings) => Volatile.Write(ref _process, timings);

    /// <summary>Sets the timings for the calling flow (and the tasks it starts) until disposed.</summary>
    public static IDisposable Use(CivoTimings timings)
    {
        var previous = Override.Value;
        Override.Value = timings;
        return new Restore(previous);
    }

    private sealed class Restore(CivoTimings? previous) : IDisposable
    {
        public void Dispose() => Override.Value = previous;
    }

    /// <summary>The next delay: ×1.5 up to <see cref="MaxPoll"/>.</summary>
    public TimeSpan Next(TimeSpan delay) => TimeSpan.FromMilliseconds(Math.Min(MaxPoll.TotalMilliseconds, delay.TotalMilliseconds * 1.5));
}
