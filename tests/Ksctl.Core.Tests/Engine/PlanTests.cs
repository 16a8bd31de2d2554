using Ksctl.Core.Engine;

namespace Ksctl.Core.Tests.Engine;

public class PlanTests
{
    private static PlanStep Step(string name, params string[] dependsOn) =>
        new(name, (_, _) => Task.CompletedTask) { DependsOn = dependsOn };

    [Fact]
    public void Duplicate_step_names_are_rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Plan("create", Samples.LocalId(), [Step("a"), Step("b"), Step("a")]));
        Assert.Contains("two steps named 'a'", ex.Message);
    }

    [Fact]
    public void Unknown_dependency_is_rejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => new Plan("create", Samples.LocalId(), [Step("a"), Step("b", "ghost")]));
        Assert.Contains("'b' depends on unknown step 'ghost'", ex.Message);
    }

    [Theory]
    [InlineData("self")]
    [InlineData("pair")]
    [InlineData("long")]
    public void Cycles_are_rejected(string shape)
    {
        PlanStep[] steps = shape switch
        {
            "self" => [Step("a", "a")],
            "pair" => [Step("root"), Step("a", "b"), Step("b", "a")],
            _ => [Step("root"), Step("a", "root", "d"), Step("b", "a"), Step("c", "b"), Step("d", "c"), Step("e", "root")],
        };
        var ex = Assert.Throws<ArgumentException>(() => new Plan("create", Samples.LocalId(), steps));
        Assert.Contains("cycle", ex.Message);
    }

    [Fact]
    public void Topological_order_puts_every_step_after_its_dependencies_and_keeps_declaration_order_for_ties()
    {
        // Declared in an order that violates the dependencies on purpose.
        var plan = new Plan("create", Samples.LocalId(),
        [
            Step("kubeconfig", "cp-0", "worker-1"),
            Step("worker-1", "cp-0"),
            Step("cp-0", "vm", "lb"),
            Step("vm", "network"),
            Step("lb", "network"),
            Step("network"),
            Step("unrelated"),
        ]);
        var order = plan.TopologicalOrder().Select(s => s.Name).ToList();
        Assert.Equal(plan.Steps.Count, order.Count);
        Assert.Equal(order.Count, order.Distinct().Count());
        foreach (var s in plan.Steps)
            foreach (var d in s.DependsOn)
                Assert.True(order.IndexOf(d) < order.IndexOf(s.Name), $"{d} must come before {s.Name}: {string.Join(",", order)}");
        Assert.True(order.IndexOf("vm") < order.IndexOf("lb"), "ties keep declaration order");
    }

    [Fact]
    public void Render_lists_every_step_with_description_dependencies_and_resources()
    {
        var plan = new Plan("create", Samples.LocalId(),
        [
            new PlanStep("kubeconfig", (_, _) => Task.CompletedTask) { DependsOn = ["kind:cluster"], Description = "capture the kubeconfig", Resources = ["context kind-demo"] },
            new PlanStep("kind:cluster", (_, _) => Task.CompletedTask) { Description = "create kind cluster", Resources = ["container demo-control-plane", "container demo-worker"] },
        ]);
        var text = plan.Render();
        var lines = text.Split('\n').Select(l => l.TrimEnd()).ToList();
        Assert.Contains("Plan: create demo (Local/Managed, LOCAL)", lines[0]);
        Assert.Contains("2 step(s)", lines[0]);
        var first = lines.FindIndex(l => l.Contains("1. kind:cluster: create kind cluster"));
        var second = lines.FindIndex(l => l.Contains("2. kubeconfig: capture the kubeconfig  [after kind:cluster]"));
        Assert.True(first > 0 && second > first, text);
        Assert.Contains("+ container demo-control-plane", lines[first + 1]);
        Assert.Contains("+ container demo-worker", lines[first + 2]);
        Assert.Contains("+ context kind-demo", lines[second + 1]);
    }

    [Fact]
    public void Record_keys_are_prefixed_by_the_operation()
    {
        var plan = new Plan("delete", Samples.LocalId(), [Step("kind:cluster")]);
        Assert.Equal("delete/kind:cluster", plan.RecordKey(plan["kind:cluster"]));
    }
}
