using System.Text.Json.Nodes;
using Xunit;

namespace Ksctl.PowerShell.Tests;

/// <summary>New-KsctlCluster -Reconcile (and the spec file's 'reconcile') record the opt-in the server's reconciler reads.</summary>
[Collection(PowerShellCollection.Name)]
public sealed class ReconcileParameterTests
{
    [Fact]
    public void Reconcile_switch_and_spec_field_are_recorded_in_the_clusters_spec()
    {
        using var session = new KsctlSession();
        session.RunClean("New-KsctlCluster -Name opted -Provider Local -Reconcile -Confirm:$false");
        session.RunClean("New-KsctlCluster -Name plain -Provider Local -Confirm:$false");
        var spec = Path.Combine(session.Root, "spec.yaml");
        File.WriteAllText(spec, "name: fromspec\nprovider: Local\nreconcile: true\n");
        session.RunClean($"New-KsctlCluster -SpecPath '{spec}' -Confirm:$false");
        session.RunClean($"New-KsctlCluster -SpecPath '{spec}' -Name overridden -Reconcile:$false -Confirm:$false");

        bool Recorded(string name) => JsonNode.Parse(File.ReadAllText(session.StateFiles().Single(f => f.Contains($"{name} LOCAL") && f.EndsWith("state.json"))))!["spec"]!["reconcile"]?.GetValue<bool>() ?? false;
        Assert.True(Recorded("opted"));
        Assert.False(Recorded("plain"));
        Assert.True(Recorded("fromspec"));
        Assert.False(Recorded("overridden"));
    }
}
