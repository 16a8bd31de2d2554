using System.Diagnostics;
using System.Management.Automation;
using Xunit;

namespace Ksctl.PowerShell.Tests;

[Collection(PowerShellCollection.Name)]
public sealed class ClusterLifecycleTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public void GetPipedToRemove_EmptiesTheStore()
    {
        using var session = new KsctlSession();
        session.RunClean("New-KsctlCluster one -Provider Local; New-KsctlCluster two -Provider Local -NodeCount 1");
        Assert.Equal(["one", "two"], session.RunClean("Get-KsctlCluster").Output.Select(o => (string)((dynamic)o).Name));

        var removed = session.RunClean("Get-KsctlCluster | Remove-KsctlCluster -Force -PassThru -Verbose");
        Assert.Equal(2, removed.Output.Count);
        Assert.Contains(removed.Verbose, v => v.Contains("Deleting cluster one"));
        Assert.Empty(session.RunClean("Get-KsctlCluster").Output);
        Assert.Empty(session.StateFiles());
        var log = File.ReadAllText(session.KindLog);
        Assert.Contains("delete cluster --name one", log);
        Assert.Contains("delete cluster --name two", log);
    }

    [Fact]
    public void Remove_ByName_WhatIfShowsTheDeletePlan_AndKeepsTheCluster()
    {
        using var session = new KsctlSession();
        session.RunClean("New-KsctlCluster demo -Provider Local");
        var result = session.RunClean("Remove-KsctlCluster demo -WhatIf");
        Assert.Contains("What if: Deleting cluster demo (Local/Managed, LOCAL).", result.HostText);
        Assert.Contains("kind:cluster", result.HostText);
        Assert.Single(session.RunClean("Get-KsctlCluster").Output);

        // -Force does not override -WhatIf.
        session.RunClean("Remove-KsctlCluster demo -Force -WhatIf");
        Assert.Single(session.RunClean("Get-KsctlCluster").Output);

        session.RunClean("Remove-KsctlCluster -Name demo -Provider Local -Confirm:$false");
        Assert.Empty(session.RunClean("Get-KsctlCluster").Output);
    }

    [Fact]
    public void Remove_Missing_IsNonTerminatingNotFound()
    {
        using var session = new KsctlSession();
        session.RunClean("New-KsctlCluster demo -Provider Local");
        var result = session.Run("'missing', 'demo' | ForEach-Object { [pscustomobject]@{ Name = $_ } } | Remove-KsctlCluster -Force -PassThru");
        var error = Assert.Single(result.Errors);
        Assert.Equal("KsctlClusterNotFound", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
        Assert.Equal("demo", (string)((dynamic)result.Single()).Name);
    }

    [Fact]
    public void Get_LiteralMissingIsNotFound_WildcardMissingIsNothing()
    {
        using var session = new KsctlSession();
        session.RunClean("New-KsctlCluster alpha -Provider Local");

        var missing = session.Run("Get-KsctlCluster -Name missing");
        var error = Assert.Single(missing.Errors);
        Assert.Equal("KsctlClusterNotFound", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
        Assert.Empty(missing.Output);

        var wildcard = session.RunClean("Get-KsctlCluster -Name 'zz*'");
        Assert.Empty(wildcard.Output);

        Assert.Single(session.RunClean("Get-KsctlCluster -Name 'AL*'").Output);
        Assert.Single(session.RunClean("Get-KsctlCluster -Name ALPHA").Output);
        Assert.Single(session.RunClean("Get-KsctlCluster alpha -Provider Local -Type Managed -Region local").Output);
        Assert.Empty(session.RunClean("Get-KsctlCluster -Provider Azure").Output);

        var both = session.Run("Get-KsctlCluster alpha, nope");
        Assert.Single(both.Output);
        Assert.Single(both.Errors);
    }

    [Fact]
    public void Get_ReportsAnUnreadableDocument_AndStillListsTheOthers()
    {
        using var session = new KsctlSession();
        foreach (var (name, text) in new[] { ("good", StateDocument("good")), ("broken", "{ not json"), ("future", StateDocument("future").Replace("\"schemaVersion\": 1", "\"schemaVersion\": 99")) })
        {
            var dir = Path.Combine(session.StatePath, "local", "managed", $"{name} LOCAL");
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "state.json"), text);
        }
        var result = session.Run("Get-KsctlCluster");
        Assert.Equal("good", (string)((dynamic)result.Single()).Name);
        Assert.Equal(["KsctlStateCorrupt", "KsctlStateSchemaUnsupported"], result.Errors.Select(e => e.FullyQualifiedErrorId.Split(',')[0]).Order());
        Assert.All(result.Errors, e => Assert.Equal(ErrorCategory.InvalidData, e.CategoryInfo.Category));
    }

    /// <summary>Listing many clusters: every one, each once, and name filters applied (speed is the benchmarks' job).</summary>
    [Fact]
    public void Get_ListsEveryClusterOfALargeStore_AndFiltersByName()
    {
        using var session = new KsctlSession();
        var root = Path.Combine(session.StatePath, "local", "managed");
        for (var i = 0; i < 2_000; i++)
        {
            var name = $"c{i:D5}";
            var dir = Path.Combine(root, $"{name} LOCAL");
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "state.json"), StateDocument(name));
        }
        var all = session.RunClean("Get-KsctlCluster").Output.Select(o => (string)o.Properties["Name"].Value).ToList();
        Assert.Equal(2_000, all.Distinct().Count());
        Assert.Equal(all.Order(StringComparer.Ordinal), all);
        Assert.Single(session.RunClean("Get-KsctlCluster c01242").Output);
        Assert.Equal(1100, session.RunClean("Get-KsctlCluster 'c0*1', 'c01*'").Output.Count);
    }

    internal static string StateDocument(string name) => $$"""
        {
          "schemaVersion": 1,
          "id": { "provider": "Local", "type": "Managed", "name": "{{name}}", "region": "LOCAL" },
          "spec": { "id": { "provider": "Local", "type": "Managed", "name": "{{name}}", "region": "LOCAL" }, "kubernetesVersion": "1.33.1", "nodeCount": 2 },
          "status": "Running",
          "distribution": "Kind",
          "kubernetesVersion": "1.33.1",
          "createdAt": "2026-11-24T06:47:05+00:00",
          "updatedAt": "2026-11-24T06:47:05+00:00",
          "endpoint": "https://127.0.0.1:40000",
          "contextName": "kind-{{name}}",
          "nodes": [
            { "name": "{{name}}-control-plane", "role": "ControlPlane", "index": 0 },
            { "name": "{{name}}-worker", "role": "Worker", "index": 1 }
          ]
        }
        """;
}
