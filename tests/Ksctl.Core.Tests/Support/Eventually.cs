namespace Ksctl.Core.Tests.Support;

/// <summary>
/// Waits for a condition another process or thread makes true. The budget is a test budget (tens of seconds), not a
/// performance bound: it only turns a hang into a failure naming what never happened; it never returns quietly.
/// </summary>
public static class Eventually
{
    public static readonly TimeSpan Budget = TimeSpan.FromSeconds(60);

    public static async Task TrueAsync(Func<bool> condition, string what, TimeSpan? budget = null)
    {
        var limit = budget ?? Budget;
        var deadline = DateTime.UtcNow + limit;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Waited {limit.TotalSeconds:0} s for {what}; it never happened.");
            await Task.Delay(10);
        }
    }

    /// <summary>Live processes (zombies excluded: they run no more) whose environment holds <paramref name="entry"/> ("NAME=value").</summary>
    public static IReadOnlyList<int> ProcessesWithEnvironment(string entry)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var environ = File.ReadAllText(Path.Combine(dir, "environ"));
                if (environ.Split('\0').Contains(entry, StringComparer.Ordinal)) found.Add(pid);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { /* exited meanwhile */ }
        }
        return found;
    }
}
