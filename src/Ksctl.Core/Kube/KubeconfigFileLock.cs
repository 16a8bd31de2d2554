using Ksctl.Core.Diagnostics;
using Ksctl.Core.Storage;

namespace Ksctl.Core.Kube;

/// <summary>
/// kubectl's own convention for serialising writers of a kubeconfig (client-go tools/clientcmd/loader.go,
/// <c>lockFile</c>/<c>unlockFile</c>/<c>lockName</c>): the file <c>&lt;kubeconfig&gt;.lock</c>, named after the path as
/// given (so a symlinked ~/.kube/config is locked as ~/.kube/config.lock, as kubectl does), created with
/// O_CREATE|O_EXCL and removed when the write is done. kubectl gives up at once on an existing lock; Ksctl waits
/// a bounded number of attempts for the other writer, then names the lock file so a user can remove one left by a
/// crashed process (the convention records no owner, so Ksctl never removes it by itself).
/// </summary>
internal sealed class KubeconfigFileLock : IDisposable
{
    public const int DefaultAttempts = 60;
    private readonly string _lockPath;

    private KubeconfigFileLock(string lockPath) => _lockPath = lockPath;

    public static string LockName(string path) => path + ".lock";

    public static async Task<KubeconfigFileLock> AcquireAsync(string path, CancellationToken cancellationToken, int attempts = DefaultAttempts)
    {
        var lockPath = LockName(path);
        SecureFile.EnsureDirectory(Path.GetDirectoryName(Path.GetFullPath(lockPath))!);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
                if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                new FileStream(lockPath, options).Dispose();
                return new KubeconfigFileLock(lockPath);
            }
            catch (IOException) when (attempt < attempts)
            {
                // Another writer (kubectl or Ksctl) holds it: a kubeconfig write takes milliseconds. It may also have
                // removed its lock between our failed create and any check of the file, so the next attempt decides.
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(10 * attempt, 250)), cancellationToken).ConfigureAwait(false);
            }
            catch (IOException ex) when (File.Exists(lockPath))
            {
                throw new KsctlException("KsctlKubeconfigLocked", KsctlErrorCategory.ResourceBusy,
                    $"The kubeconfig {path} is locked by another writer ({lockPath} exists, kubectl's lock-file convention). " +
                    $"If no kubectl or Ksctl is running, remove {lockPath} and run the command again.", path, ex)
                {
                    RecommendedAction = $"Remove {lockPath} if no kubectl or Ksctl process is writing the kubeconfig.",
                };
            }
        }
    }

    public void Dispose()
    {
        try { File.Delete(_lockPath); } catch (IOException) { }
    }
}
