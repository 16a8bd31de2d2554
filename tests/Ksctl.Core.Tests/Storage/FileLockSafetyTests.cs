using System.Diagnostics;
using System.Text.Json;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Storage;

namespace Ksctl.Core.Tests.Storage;

/// <summary>
/// Issue #12 item 6 for the file lock: a live holder's lock is never broken, even with -BreakStaleLock; a stale one is
/// named with that switch; and two processes (or threads) breaking the same stale lock at once: exactly one wins.
/// </summary>
public sealed class FileLockSafetyTests : IDisposable
{
    private readonly TempDir _dir = new("ksctl-locks");

    public void Dispose() => _dir.Dispose();

    /// <summary>A lock file as a holder would have written it.</summary>
    private static void PlantLock(FileStateStore store, ClusterId id, int pid, string host, DateTimeOffset? processStart = null)
    {
        var dir = store.ClusterDirectory(id);
        Directory.CreateDirectory(dir);
        var record = new { Token = Guid.NewGuid().ToString("N"), Pid = pid, Host = host, Operation = "create", Since = DateTimeOffset.UtcNow.AddHours(-1), ProcessStart = processStart };
        File.WriteAllText(Path.Combine(dir, "lock"), JsonSerializer.Serialize(record));
    }

    /// <summary>The pid of a process that has exited (so a lock naming it on this host is stale).</summary>
    private static int DeadPid()
    {
        using var p = Process.Start(new ProcessStartInfo("/bin/true") { UseShellExecute = false })!;
        p.WaitForExit();
        return p.Id;
    }

    [Fact]
    public async Task A_stale_lock_names_its_holder_and_the_BreakStaleLock_switch()
    {
        var store = new FileStateStore(_dir.Combine("state"));
        var id = Samples.LocalId("stale");
        var dead = DeadPid();
        PlantLock(store, id, dead, Environment.MachineName, DateTimeOffset.UtcNow.AddHours(-2));

        var ex = await Assert.ThrowsAsync<ClusterLockedException>(() => store.AcquireLockAsync(id, "delete", breakStale: false, default));
        Assert.Contains($"pid {dead} on {Environment.MachineName}", ex.Message);
        Assert.Contains("re-run with -BreakStaleLock", ex.Message);
        Assert.DoesNotContain("-Force", ex.Message);

        await using var taken = await store.AcquireLockAsync(id, "delete", breakStale: true, default);
        Assert.StartsWith($"pid {Environment.ProcessId} ", taken.Holder);
    }

    [Fact]
    public async Task A_live_holder_in_another_process_is_never_broken_even_with_BreakStaleLock()
    {
        var root = _dir.Combine("live");
        using var child = ChildProcess.Start("lock", root, "held");
        try
        {
            Assert.StartsWith("locked ", await child.StandardOutput.ReadLineAsync());
            var ex = await Assert.ThrowsAsync<ClusterLockedException>(() => new FileStateStore(root).AcquireLockAsync(Samples.LocalId("held"), "delete", breakStale: true, default));
            Assert.Contains($"pid {child.Id}", ex.Message);
            Assert.Contains("alive", ex.Message);
            Assert.Contains("even with -BreakStaleLock", ex.Message);
        }
        finally { child.Kill(); child.WaitForExit(); }
    }

    [Fact]
    public async Task A_lock_of_another_host_is_alive_while_fresh_and_breakable_only_once_stale()
    {
        var store = new FileStateStore(_dir.Combine("shared"));
        var id = Samples.LocalId("remote");
        PlantLock(store, id, 4242, "some-other-host");
        var lockPath = Path.Combine(store.ClusterDirectory(id), "lock");

        var fresh = await Assert.ThrowsAsync<ClusterLockedException>(() => store.AcquireLockAsync(id, "delete", breakStale: true, default));
        Assert.Contains("pid 4242 on some-other-host", fresh.Message);
        Assert.Contains("alive", fresh.Message);

        // Not refreshed for long: its holder (a host we cannot ask) is taken to be gone.
        File.SetLastWriteTimeUtc(lockPath, DateTime.UtcNow.AddMinutes(-30));
        var stale = await Assert.ThrowsAsync<ClusterLockedException>(() => store.AcquireLockAsync(id, "delete", breakStale: false, default));
        Assert.Contains("has not refreshed it since", stale.Message);
        Assert.Contains("-BreakStaleLock", stale.Message);
        await using var taken = await store.AcquireLockAsync(id, "delete", breakStale: true, default);
        Assert.Contains(Environment.ProcessId.ToString(), File.ReadAllText(lockPath));
    }

    [Fact]
    public async Task Threads_racing_to_break_one_stale_lock_have_exactly_one_winner()
    {
        var store = new FileStateStore(_dir.Combine("race"));
        var dead = DeadPid();
        for (var round = 0; round < 25; round++)
        {
            var id = Samples.LocalId($"race-{round}");
            PlantLock(store, id, dead, Environment.MachineName, DateTimeOffset.UtcNow.AddHours(-2));
            using var go = new ManualResetEventSlim();
            var contenders = Enumerable.Range(0, 6).Select(_ => Task.Run(async () =>
            {
                go.Wait();
                try { return (IClusterLock?)await store.AcquireLockAsync(id, "delete", breakStale: true, default); }
                catch (ClusterLockedException) { return null; }
            })).ToArray();
            go.Set();
            var results = await Task.WhenAll(contenders);
            var winners = results.Where(r => r is not null).ToList();
            Assert.True(winners.Count == 1, $"round {round}: {winners.Count} winners");
            foreach (var w in winners) await w!.DisposeAsync();
        }
    }

    [Fact]
    public async Task Two_processes_racing_to_break_one_stale_lock_have_exactly_one_winner()
    {
        var root = _dir.Combine("procs");
        var store = new FileStateStore(root);
        var dead = DeadPid();
        for (var round = 0; round < 3; round++)
        {
            var name = $"pair-{round}";
            PlantLock(store, Samples.LocalId(name), dead, Environment.MachineName, DateTimeOffset.UtcNow.AddHours(-2));
            var go = _dir.Combine($"go-{round}");
            var children = new[] { ChildProcess.Start("break", root, name, go), ChildProcess.Start("break", root, name, go) };
            try
            {
                File.WriteAllText(go, "");
                var lines = await Task.WhenAll(children.Select(c => c.StandardOutput.ReadLineAsync()));
                Assert.True(lines.Count(l => l?.StartsWith("won ", StringComparison.Ordinal) == true) == 1, string.Join(" | ", lines));
                Assert.Single(lines, l => l?.StartsWith("locked ", StringComparison.Ordinal) == true && l.Contains("alive"));
            }
            finally
            {
                foreach (var c in children) { c.StandardInput.Close(); if (!c.WaitForExit(30_000)) c.Kill(); c.Dispose(); }
            }
        }
    }

    [Fact]
    public async Task A_holder_keeps_its_lock_file_fresh()
    {
        var saved = FileClusterLock.HeartbeatInterval;
        FileClusterLock.HeartbeatInterval = TimeSpan.FromMilliseconds(50);
        try
        {
            var store = new FileStateStore(_dir.Combine("beat"));
            var id = Samples.LocalId("beat");
            await using var held = await store.AcquireLockAsync(id, "create", false, default);
            var lockPath = Path.Combine(store.ClusterDirectory(id), "lock");
            File.SetLastWriteTimeUtc(lockPath, DateTime.UtcNow.AddHours(-1));
            // Waits for the heartbeat's touch (a busy machine may delay a 50 ms timer by seconds); fails if it never comes.
            await Eventually.TrueAsync(() => DateTime.UtcNow - File.GetLastWriteTimeUtc(lockPath) < TimeSpan.FromMinutes(1), "the holder to touch its lock file");
        }
        finally { FileClusterLock.HeartbeatInterval = saved; }
    }

    [Fact]
    public async Task A_new_state_file_is_followed_by_a_flush_of_its_folder()
    {
        var store = new FileStateStore(_dir.Combine("durable"));
        var id = Samples.LocalId("durable");
        var synced = new System.Collections.Concurrent.ConcurrentBag<string>();
        var dir = store.ClusterDirectory(id);
        Action<string> hook = d => { if (d == dir) synced.Add(d); };
        SecureFile.DirectorySynced += hook;
        try { await store.WriteAsync(Samples.State(id), default); }
        finally { SecureFile.DirectorySynced -= hook; }
        Assert.Single(synced);
        Assert.True(File.Exists(store.DocumentPath(id)));
    }
}
