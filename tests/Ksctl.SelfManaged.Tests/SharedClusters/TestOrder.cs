using Xunit.Abstractions;
using Xunit.Sdk;

namespace Ksctl.SelfManaged.Tests.SharedClusters;

/// <summary>Where a test runs in a class whose tests share one cluster: readers first, the resize and the removal last.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class OrderAttribute(int order) : Attribute
{
    public int Order { get; } = order;
}

/// <summary>
/// Runs a class's tests by their <see cref="OrderAttribute"/> (xunit's default order is by id, not by declaration), so
/// tests that only read a shared cluster run before the ones that change or remove it.
/// </summary>
public sealed class ByOrderAttribute : ITestCaseOrderer
{
    public const string Name = "Ksctl.SelfManaged.Tests.SharedClusters.ByOrderAttribute";
    public const string Assembly = "Ksctl.SelfManaged.Tests";

    public IEnumerable<TTestCase> OrderTestCases<TTestCase>(IEnumerable<TTestCase> testCases) where TTestCase : ITestCase =>
        testCases.OrderBy(t => t.TestMethod.Method.GetCustomAttributes(typeof(OrderAttribute).AssemblyQualifiedName!)
                .Select(a => (int)a.GetConstructorArguments().First()).DefaultIfEmpty(int.MaxValue).First())
            .ThenBy(t => t.TestMethod.Method.Name, StringComparer.Ordinal);
}
