using System.Diagnostics;
using System.Text.Json;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;

namespace Ksctl.Core.Storage;

/// <summary>
/// A lock file created with CreateNew (atomic on every OS we support) recording who holds it. A holder whose
/// process is gone on this host is stale: reported, and only taken over when the caller says so (-Force).
/// </summary>
internal sealed class FileClusterLock : IClusterLock
{
    private readonly string _path;
    private readonly string _token;
    private readonly Action _onReleased;
    private int _released;

    private FileClusterLock(ClusterId cluster, string path, string token, string holder, Action onReleased)
    {
        Cluster = cluster;
        _path = path;
        _token = token;
        Holder = holder;
        _onReleased = onReleased;
    }

    public ClusterId Cluster { get; }
    public string Holder { get; }

    private static readonly TimeSpan TornLockAge = TimeSpan.FromSeconds(10);

    public static FileClusterLock Acquire(ClusterId cluster, string path, string operation, bool breakStale, Action onReleased)
    {
        var me = LockRecord.ForThisProcess(operation);
        for (var attempt = 0; attempt < 3; attempt++)
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
            catch (IOException) when (File.Exists(path))
            {
                var holder = LockRecord.TryRead(path);
                if (holder is null)
                {
                    // Gone (released between our attempts) or being written: try again. But a lock file still
                    // unreadable long after it was created was torn by a holder killed while taking it: stale.
                    if (!File.Exists(path) || DateTime.UtcNow - File.GetLastWriteTimeUtc(path) < TornLockAge) continue;
                    if (!breakStale)
                        throw new ClusterLockedException(cluster.ToString(), $"stale lock file '{path}' that cannot be read (its holder was stopped while taking it); re-run with -Force to take it over");
                    File.Delete(path);
                    continue;
                }
                if (!holder.IsStale()) throw new ClusterLockedException(cluster.ToString(), holder.Describe());
                if (!breakStale)
                    throw new ClusterLockedException(cluster.ToString(), $"stale lock of {holder.Describe()}, a process that is no longer running; re-run with -Force to take it over");
                File.Delete(path);
            }
        }
        throw new ClusterLockedException(cluster.ToString(), "another process that keeps taking and releasing the lock");
    }

    /// <summary>The holder of the lock file at <paramref name="path"/> if it is (as far as we can tell) still running.</summary>
    public static string? LiveHolder(string path) =>
        LockRecord.TryRead(path) is { } holder && !holder.IsStale() ? holder.Describe() : null;

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            // Only remove the file if it is still ours (a -Force elsewhere may have replaced it).
            if (LockRecord.TryRead(_path)?.Token == _token)
            {
                try { File.Delete(_path); } catch (IOException) { }
            }
            _onReleased();
        }
        return ValueTask.CompletedTask;
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
            try { return JsonSerializer.Deserialize<LockRecord>(File.ReadAllBytes(path)); }
            catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException) { return null; }
        }

        public string Describe() => $"pid {Pid} on {Host}, {Operation} since {Since:yyyy-MM-ddTHH:mm:ssZ}";

        /// <summary>Stale only when we can tell: same host, and that pid is gone or is now a different process.</summary>
        public bool IsStale()
        {
            if (!string.Equals(Host, Environment.MachineName, StringComparison.OrdinalIgnoreCase)) return false;
            try
            {
                using var p = Process.GetProcessById(Pid);
                if (p.HasExited) return true;
                if (ProcessStart is { } started)
                    return Math.Abs((p.StartTime.ToUniversalTime() - started.UtcDateTime).TotalSeconds) > 2;
                return false;
            }
            catch (ArgumentException) { return true; }
            catch (InvalidOperationException) { return true; }
        }
    }
}
