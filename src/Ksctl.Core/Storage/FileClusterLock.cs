using System.Diagnostics;
using System.Text.Json;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;

namespace Ksctl.Core.Storage;

/// <summary>
/// A lock file created with CreateNew (atomic on every OS we support) recording who holds it; the holder touches it
/// every <see cref="HeartbeatInterval"/> so that a process on another host can tell a live holder from a dead one.
/// A holder is alive when its process runs on this host, or, on another host, when the file was touched within
/// <see cref="FreshFor"/>. A live holder's lock is never taken. A stale one is reported, and taken over only with
/// -BreakStaleLock, under a break guard (<c>lock.break</c>, held with an OS file lock that dies with its process) in
/// which the breaker re-reads the lock and deletes it only if it is still the stale holder's: two processes breaking
/// at once cannot both win.
/// </summary>
internal sealed class FileClusterLock : IClusterLock
{
    private readonly string _path;
    private readonly string _token;
    private readonly Action _onReleased;
    private readonly Timer _heartbeat;
    private int _released;

    private FileClusterLock(ClusterId cluster, string path, string token, string holder, Action onReleased)
    {
        Cluster = cluster;
        _path = path;
        _token = token;
        Holder = holder;
        _onReleased = onReleased;
        _heartbeat = new Timer(_ => Touch(), null, HeartbeatInterval, HeartbeatInterval);
    }

    public ClusterId Cluster { get; }
    public string Holder { get; }

    private static readonly TimeSpan TornLockAge = TimeSpan.FromSeconds(10);
    /// <summary>How often a holder touches its lock file.</summary>
    internal static TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>A lock of another host touched this recently is alive (generous: clocks of two hosts differ).</summary>
    internal static readonly TimeSpan FreshFor = TimeSpan.FromMinutes(5);

    internal const string BreakGuardSuffix = ".break";

    public static FileClusterLock Acquire(ClusterId cluster, string path, string operation, bool breakStale, Action onReleased)
    {
        var me = LockRecord.ForThisProcess(operation);
        // Each retry follows a change someone else made (a release, a half-written record, a break in progress).
        for (var attempt = 0; attempt < 50; attempt++)
        {
            try
            {
                var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
                if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                using (var stream = new FileStream(path, options))
                {
                    JsonSerializer.Serialize(stream, me);
                    stream.Flush(flushToDisk: true);
                }
                return new FileClusterLock(cluster, path, me.Token, me.Describe(), onReleased);
            }
            catch (IOException ex) when (AlreadyExists(ex) || File.Exists(path))
            {
                if (!File.Exists(path)) continue; // released between our CreateNew and now
                var holder = LockRecord.TryRead(path);
                if (holder is null)
                {
                    // Gone (released between our attempts) or being written: try again. But a lock file still
                    // unreadable long after it was created was torn by a holder killed while taking it: stale.
                    if (!File.Exists(path)) continue;
                    if (DateTime.UtcNow - File.GetLastWriteTimeUtc(path) < TornLockAge) { Thread.Sleep(5); continue; }
                    if (!breakStale)
                        throw new ClusterLockedException(cluster.ToString(), $"stale lock file '{path}' that cannot be read (its holder was stopped while taking it); re-run with -BreakStaleLock to take it over");
                    if (!TryBreak(path, expectedToken: null)) Thread.Sleep(5);
                    continue;
                }
                var staleness = holder.Staleness(File.GetLastWriteTimeUtc(path));
                if (staleness is null)
                    throw new ClusterLockedException(cluster.ToString(), $"{holder.Describe()}, which is alive{(holder.IsThisHost ? " (its process runs)" : $" (it refreshed the lock within {FreshFor.TotalMinutes:0} minutes)")}, so the lock is not broken, even with -BreakStaleLock");
                if (!breakStale)
                    throw new ClusterLockedException(cluster.ToString(), $"stale lock of {holder.Describe()}: {staleness}; re-run with -BreakStaleLock to take it over");
                // Losing the guard means another process is breaking it now: look again once it is done.
                if (!TryBreak(path, holder.Token)) Thread.Sleep(5);
            }
        }
        throw new ClusterLockedException(cluster.ToString(), "another process that keeps taking and releasing the lock");
    }

    /// <summary>CreateNew failed because the file exists (EEXIST on Unix, ERROR_FILE_EXISTS on Windows).</summary>
    private static bool AlreadyExists(IOException ex) => ex.HResult is 17 or unchecked((int)0x80070050);

    /// <summary>
    /// Deletes the lock file only if, under the break guard, it still is the stale one that was judged
    /// (<paramref name="expectedToken"/>, or still unreadable for a torn one). False when someone else is breaking it.
    /// </summary>
    private static bool TryBreak(string path, string? expectedToken)
    {
        FileStream guard;
        try
        {
            // FileShare.None is an exclusive OS lock (flock on Unix): released by the OS if this process dies.
            var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            guard = new FileStream(path + BreakGuardSuffix, options);
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
        using (guard)
        {
            var current = LockRecord.TryRead(path);
            var same = expectedToken is null
                ? current is null && File.Exists(path) && DateTime.UtcNow - File.GetLastWriteTimeUtc(path) >= TornLockAge
                : current?.Token == expectedToken;
            if (!same) return false;
            try { File.Delete(path); } catch (IOException) { return false; }
            return true;
        }
    }

    /// <summary>The holder of the lock file at <paramref name="path"/> if it is (as far as we can tell) still running.</summary>
    public static string? LiveHolder(string path)
    {
        if (LockRecord.TryRead(path) is not { } holder) return null;
        DateTime touched;
        try { touched = File.GetLastWriteTimeUtc(path); } catch (IOException) { return null; }
        return holder.Staleness(touched) is null ? holder.Describe() : null;
    }

    /// <summary>The heartbeat: a live holder keeps its lock file's time recent (only while the file is still its own).</summary>
    private void Touch()
    {
        if (Volatile.Read(ref _released) != 0) return;
        try
        {
            if (LockRecord.TryRead(_path)?.Token == _token) File.SetLastWriteTimeUtc(_path, DateTime.UtcNow);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { /* the next tick tries again */ }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            await _heartbeat.DisposeAsync().ConfigureAwait(false);
            // Only remove the file if it is still ours (a -BreakStaleLock elsewhere may have replaced it).
            if (LockRecord.TryRead(_path)?.Token == _token)
            {
                try { File.Delete(_path); } catch (IOException) { }
            }
            _onReleased();
        }
    }

    internal sealed record LockRecord(string Token, int Pid, string Host, string Operation, DateTimeOffset Since, DateTimeOffset? ProcessStart)
    {
        public static LockRecord ForThisProcess(string operation)
        {
            using var self = Process.GetCurrentProcess();
            return new LockRecord(Guid.NewGuid().ToString("N"), Environment.ProcessId, Environment.MachineName, operation,
                DateTimeOffset.UtcNow, new DateTimeOffset(self.StartTime.ToUniversalTime(), TimeSpan.Zero));
        }

        public static LockRecord? TryRead(string path)
        {
            try { return JsonSerializer.Deserialize<LockRecord>(File.ReadAllBytes(path)) is { Token: not null, Host: not null, Operation: not null } r ? r : null; }
            catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException) { return null; }
        }

        public bool IsThisHost => string.Equals(Host, Environment.MachineName, StringComparison.OrdinalIgnoreCase);

        public string Describe() => $"pid {Pid} on {Host}, {Operation} since {Since:yyyy-MM-ddTHH:mm:ssZ}";

        /// <summary>
        /// Null while the holder is alive; else why it is stale. This host: its pid is gone or is now another process.
        /// Another host (a shared folder): the lock file was not refreshed for <see cref="FreshFor"/>.
        /// </summary>
        public string? Staleness(DateTime lastTouchedUtc)
        {
            if (!IsThisHost)
                return DateTime.UtcNow - lastTouchedUtc < FreshFor ? null : $"its holder on another host has not refreshed it since {lastTouchedUtc:yyyy-MM-ddTHH:mm:ssZ}";
            try
            {
                using var p = Process.GetProcessById(Pid);
                if (p.HasExited) return "that process is no longer running";
                if (ProcessStart is { } started && Math.Abs((p.StartTime.ToUniversalTime() - started.UtcDateTime).TotalSeconds) > 2)
                    return $"pid {Pid} is now another process";
                return null;
            }
            catch (ArgumentException) { return "that process is no longer running"; }
            catch (InvalidOperationException) { return "that process is no longer running"; }
        }
    }
}
