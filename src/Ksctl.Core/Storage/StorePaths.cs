using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;

namespace Ksctl.Core.Storage;

/// <summary>
/// The checks that keep a store inside its root whatever identity it is given (from a parameter, a spec file, a
/// folder name, an export file): the identity's rules, then a normalised full-path comparison.
/// </summary>
internal static class StorePaths
{
    /// <summary>Throws <see cref="InvalidSpecException"/> naming Name, Region, Provider or Type when the identity breaks its rules.</summary>
    public static void CheckIdentity(ClusterId id)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (id.Problem() is not { } problem) return;
        var parameter = !Enum.IsDefined(id.Provider) ? "Provider" : !Enum.IsDefined(id.Type) ? "Type" : !ClusterId.IsValidName(id.Name) ? "Name" : "Region";
        throw new InvalidSpecException(parameter, $"the state store refuses the cluster identity: {problem}.");
    }

    /// <summary>True when <paramref name="path"/> (normalised) is below <paramref name="root"/>, not the root itself.</summary>
    public static bool IsStrictlyUnder(string root, string path)
    {
        var fullRoot = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root)) + Path.DirectorySeparatorChar;
        var full = Path.GetFullPath(path);
        var comparison = OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        return full.Length > fullRoot.Length && full.StartsWith(fullRoot, comparison);
    }

    public static void CheckUnder(string root, string path, ClusterId id)
    {
        if (!IsStrictlyUnder(root, path))
            throw new InvalidSpecException("Name", $"the cluster identity {ClusterId.Printable(id.Name)}/{ClusterId.Printable(id.Region)} would leave the state store's folder '{root}'.");
    }
}
