using System.Management.Automation;
using System.Reflection;
using System.Runtime.Loader;

namespace Ksctl.PowerShell.Internal;

/// <summary>
/// The assembly-isolation bridge. The default load context resolves exactly one name, <c>Ksctl.Core</c>, and only
/// by loading it into <see cref="DependencyLoadContext"/>; Core's own dependencies then load inside that context,
/// so a different YamlDotNet or KubernetesClient in the session never collides with ours. Nothing is loaded at
/// import: Core loads on the first cmdlet call that needs it.
/// </summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    internal const string CoreAssemblyName = "Ksctl.Core";
    private static readonly object Sync = new();
    private static DependencyLoadContext? _context;
    private static bool _registered;

    /// <summary>The module's <c>Dependencies/</c> folder (beside Ksctl.PowerShell.dll).</summary>
    internal static string DependencyDirectory { get; } =
        Path.Combine(Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location) ?? AppContext.BaseDirectory, "Dependencies");

    public void OnImport()
    {
        lock (Sync)
        {
            if (_registered) return;
            AssemblyLoadContext.Default.Resolving += ResolveCore;
            _registered = true;
        }
    }

    public void OnRemove(PSModuleInfo psModuleInfo)
    {
        lock (Sync)
        {
            if (!_registered) return;
            AssemblyLoadContext.Default.Resolving -= ResolveCore;
            _registered = false;
        }
    }

    private static Assembly? ResolveCore(AssemblyLoadContext context, AssemblyName name)
    {
        if (!string.Equals(name.Name, CoreAssemblyName, StringComparison.Ordinal)) return null;
        DependencyLoadContext alc;
        lock (Sync) alc = _context ??= new DependencyLoadContext(DependencyDirectory);
        return alc.LoadFromAssemblyName(name);
    }
}
