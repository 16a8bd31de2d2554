using System.Runtime.InteropServices;

namespace Ksctl.Core.Storage;

/// <summary>Atomic, private file writes: 0600 files and 0700 folders on Unix.</summary>
public static class SecureFile
{
    private const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode PrivateDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public static void EnsureDirectory(string path)
    {
        if (OperatingSystem.IsWindows()) { Directory.CreateDirectory(path); return; }
        if (!Directory.Exists(path)) Directory.CreateDirectory(path, PrivateDirectory);
    }

    /// <summary>
    /// Writes to a temp file in the same folder, flushes it to disk, renames it over the target, then flushes the folder
    /// (on Unix), so a crash or power loss at any point leaves either the old or the new content: without the folder's
    /// fsync the rename itself may be lost, and a new state file vanish, after the write was reported done.
    /// </summary>
    public static void WriteAtomic(string path, ReadOnlySpan<byte> content)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        EnsureDirectory(dir);
        var temp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = PrivateFile;
            using (var stream = new FileStream(temp, options))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
            SyncDirectory(dir);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw;
        }
    }

    /// <summary>Tests: told of each folder flushed after a rename.</summary>
    internal static Action<string>? DirectorySynced { get; set; }

    /// <summary>fsync(2) on the folder, making the rename in it durable. Windows: NTFS journals renames; nothing to do.</summary>
    internal static void SyncDirectory(string dir)
    {
        if (OperatingSystem.IsWindows()) return;
        // O_RDONLY (0) opens a folder on Linux and macOS alike; fsync on that descriptor flushes the folder's entries.
        var fd = Open(dir, 0);
        if (fd < 0) throw new IOException($"Cannot open the folder '{dir}' to flush it (errno {Marshal.GetLastPInvokeError()}).");
        try
        {
            if (Fsync(fd) != 0) throw new IOException($"Cannot flush the folder '{dir}' to disk (errno {Marshal.GetLastPInvokeError()}).");
        }
        finally { _ = Close(fd); }
        DirectorySynced?.Invoke(dir);
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
}
