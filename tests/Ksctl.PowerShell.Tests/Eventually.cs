namespace Ksctl.PowerShell.Tests;

/// <summary>
/// Waits for a condition another process or thread makes true (a file a stand-in writes, a state a job records). The
/// budget is a test budget, minutes, not a performance bound: it only turns a hang into a failure naming what never
/// happened. It never returns quietly at its end.
/// </summary>
public static class Eventually
{
    public static void True(Func<bool> condition, TimeSpan budget, string what)
    {
        var deadline = DateTime.UtcNow + budget;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Waited {budget.TotalSeconds:0} s for {what}; it never happened.");
            Thread.Sleep(20);
        }
    }
}
