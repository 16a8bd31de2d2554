using Ksctl.Core.Storage;

namespace Ksctl.Core.Kube;

/// <summary>
/// Reads and writes a kubeconfig file the way kubectl leaves it usable: a symlink (a dotfiles repository's
/// ~/.kube/config) is written through to its final target, so the link stays a link (kubectl's os.WriteFile
/// follows links too); the write itself is atomic beside the target (temp file, flush, rename), 0600.
/// </summary>
internal static class KubeconfigWriter
{
    /// <summary>The file a write to <paramref name="path"/> lands in: the final target of a symlink, else the path.</summary>
    public static string ResolveTarget(string path)
    {
        var full = Path.GetFullPath(path);
        var info = new FileInfo(full);
        if (info.LinkTarget is null) return full;
        return info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full;
    }

    public static string ReadOrEmpty(string path)
    {
        var target = ResolveTarget(path);
        return File.Exists(target) ? File.ReadAllText(target) : "";
    }

    public static void Write(string path, string text) =>
        SecureFile.WriteAtomic(ResolveTarget(path), System.Text.Encoding.UTF8.GetBytes(text));
}
