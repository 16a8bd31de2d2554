using System.Reflection;
using Ksctl.Core.Remote;

namespace Ksctl.Remote.Tests;

/// <summary>The assembly-isolation rule: the public API of Remote/ and Distributions/ shows only Core and BCL types.</summary>
public sealed class PublicApiTests
{
    private static readonly string[] OwnNamespaces = ["Ksctl.Core.Remote", "Ksctl.Core.Distributions"];

    [Fact]
    public void Public_signatures_expose_only_core_and_bcl_types()
    {
        var core = typeof(IRemoteShell).Assembly;
        var offenders = new List<string>();
        foreach (var type in core.GetExportedTypes().Where(t => OwnNamespaces.Any(n => t.Namespace?.StartsWith(n, StringComparison.Ordinal) == true)))
        {
            foreach (var t in SignatureTypes(type))
            {
                if (!IsAllowed(t, core)) offenders.Add($"{type.FullName}: {t.FullName} ({t.Assembly.GetName().Name})");
            }
        }
        Assert.True(offenders.Count == 0, string.Join("\n", offenders.Distinct()));
    }

    [Fact]
    public void The_ssh_implementation_is_internal()
    {
        var core = typeof(IRemoteShell).Assembly;
        Assert.False(core.GetType("Ksctl.Core.Remote.SshRemoteShell")!.IsPublic);
    }

    private static IEnumerable<Type> SignatureTypes(Type type)
    {
        const BindingFlags flags = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        if (type.BaseType is { } b) yield return b;
        foreach (var i in type.GetInterfaces()) yield return i;
        foreach (var m in type.GetMethods(flags))
        {
            yield return m.ReturnType;
            foreach (var p in m.GetParameters()) yield return p.ParameterType;
        }
        foreach (var c in type.GetConstructors(flags))
            foreach (var p in c.GetParameters()) yield return p.ParameterType;
        foreach (var p in type.GetProperties(flags)) yield return p.PropertyType;
        foreach (var f in type.GetFields(flags)) yield return f.FieldType;
        foreach (var e in type.GetEvents(flags)) yield return e.EventHandlerType!;
    }

    private static bool IsAllowed(Type t, Assembly core)
    {
        if (t.IsGenericParameter) return true;
        if (t.HasElementType) return IsAllowed(t.GetElementType()!, core);
        if (t.IsGenericType && !t.GetGenericArguments().All(a => IsAllowed(a, core))) return false;
        var name = t.Assembly.GetName().Name ?? "";
        return t.Assembly == core || name is "System.Private.CoreLib" or "netstandard" or "mscorlib" || name.StartsWith("System.", StringComparison.Ordinal);
    }
}
