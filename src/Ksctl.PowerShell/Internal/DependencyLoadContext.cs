using System.Reflection;
using System.Runtime.Loader;

namespace Ksctl.PowerShell.Internal;

/// <summary>
/// The private load context for Ksctl.Core and every third-party assembly it uses, all from the module's
/// <c>Dependencies/</c> folder. Anything not found there (the framework) comes from the default context.
/// </summary>
internal sealed class DependencyLoadContext : AssemblyLoadContext
{
    public const string ContextName = "KsctlDependencies";

    public DependencyLoadContext(string dependencyDirectory) : base(ContextName, isCollectible: false)
    {
        DependencyDirectory = dependencyDirectory;
    }

    public string DependencyDirectory { get; }

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        var path = Path.Combine(DependencyDirectory, assemblyName.Name + ".dll");
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        var path = Path.Combine(DependencyDirectory, unmanagedDllName);
        return File.Exists(path) ? LoadUnmanagedDllFromPath(path) : IntPtr.Zero;
    }
}
