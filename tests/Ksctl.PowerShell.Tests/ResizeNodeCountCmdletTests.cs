using System.Management.Automation;
using System.Text.Json;
using Xunit;

namespace Ksctl.PowerShell.Tests;

/// <summary>
/// Resize-KsctlCluster -NodeCount through the real engine: exactly one of -WorkerCount and -NodeCount; a Local (Kind)
/// cluster's pool is not scaled by Ksctl. (AKS and Civo pools are scaled against their emulators in Ksctl.Azure.Tests
/// and Ksctl.Civo.Tests.)
/// </summary>
[Collection(PowerShellCollection.Name)]
public sealed class ResizeNodeCountCmdletTests
{
    [Theory]
    [InlineData("Resize-KsctlCluster demo -Force", "WorkerCount")]
    [InlineData("Resize-KsctlCluster demo -WorkerCount 2 -NodeCount 2 -Force", "NodeCount")]
    public void Exactly_one_count_is_required_and_nothing_changes(string command, string parameter)
    {
        using var session = new KsctlSession();
        session.RunClean("New-KsctlCluster demo -Provider Local");
        var result = session.Run(command.Replace(" -Force", "", StringComparison.Ordinal) + " -Confirm:$false");
        var error = Assert.Single(result.Errors);
        Assert.Equal("KsctlInvalidSpec", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
        Assert.Contains($"-{parameter}", error.Exception.Message);
        Assert.Empty(result.Output);
        Assert.Equal("Running", (string)session.RunClean("Get-KsctlCluster demo").Single().Status);
    }

    [Fact]
    public void NodeCount_on_a_Local_cluster_is_not_allowed_and_changes_nothing()
    {
        using var session = new KsctlSession();
        session.RunClean("New-KsctlCluster demo -Provider Local");
        var result = session.Run("Resize-KsctlCluster demo -NodeCount 3 -Confirm:$false");
        var error = Assert.Single(result.Errors);
        Assert.Equal("KsctlOperationNotAllowed", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("Local managed clusters are not resized by Ksctl", error.Exception.Message);
        Assert.Equal("Running", (string)session.RunClean("Get-KsctlCluster demo").Single().Status);
    }

    [Fact]
    public void Get_KsctlPlan_shows_a_managed_node_pool_resize_and_refuses_what_Resize_KsctlCluster_refuses()
    {
        using var session = new KsctlSession();
        ImportCivoManagedCluster(session, "shop");
        var before = File.ReadAllBytes(Assert.Single(session.StateFiles(), f => f.EndsWith("state.json")));

        var steps = session.RunClean("Get-KsctlPlan -Operation Resize -Name shop -NodeCount 5").Output.Select(o => (dynamic)o.BaseObject).ToList();
        Assert.Equal(["civo:pool-count", "civo:cluster-active", "civo:nodes"], steps.Select(s => (string)s.Name));
        Assert.All(steps, s => Assert.Equal("Resize", (string)s.Operation));
        Assert.Contains("to 5 node(s)", (string)steps[0].Description);
        Assert.Equal(before, File.ReadAllBytes(Assert.Single(session.StateFiles(), f => f.EndsWith("state.json"))));

        // The same rules as Resize-KsctlCluster: one count, in range; nothing changes.
        foreach (var (command, parameter) in new[]
                 {
                     ("Get-KsctlPlan -Operation Resize -Name shop", "WorkerCount"),
                     ("Get-KsctlPlan -Operation Resize -Name shop -NodeCount 2 -WorkerCount 2", "NodeCount"),
                     ("Get-KsctlPlan -Operation Resize -Name shop -NodeCount 0", "NodeCount"),
                     ("Get-KsctlPlan -Operation Resize -Name shop -NodeCount 2 -NodeSize g4s.kube.large", "NodeSize"),
                 })
        {
            var error = Assert.Single(session.Run(command).Errors);
            Assert.Equal("KsctlInvalidSpec", error.FullyQualifiedErrorId.Split(',')[0]);
            Assert.Contains($"{parameter}", error.Exception.Message);
        }
        // A self-managed cluster's workers are -WorkerCount.
        session.RunClean("New-KsctlCluster demo -Provider Local");
        var local = Assert.Single(session.Run("Get-KsctlPlan -Operation Resize -Name demo -NodeCount 3").Errors);
        Assert.Equal("KsctlOperationNotAllowed", local.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(before, File.ReadAllBytes(Assert.Single(session.StateFiles(), f => f.EndsWith("state.json") && f.Contains("shop"))));
    }

    /// <summary>A Running Civo managed cluster in the store (an export of one, imported): nothing calls Civo.</summary>
    private static void ImportCivoManagedCluster(KsctlSession session, string name)
    {
        var id = new { provider = "Civo", type = "Managed", name, region = "LON1" };
        var now = DateTimeOffset.UtcNow;
        var state = new
        {
            schemaVersion = 1, id,
            spec = new { id, nodeCount = 3, nodeSize = "g4s.kube.small", applications = Array.Empty<string>() },
            status = "Running", distribution = "K3s", kubernetesVersion = "1.33.1", createdAt = now, updatedAt = now,
            nodes = Array.Empty<object>(),
            resources = new Dictionary<string, string> { ["civo:cluster"] = "5f0d6b7c-1b7e-4c0f-9d8e-2a1b3c4d5e6f" },
            secrets = new Dictionary<string, string>(), steps = new Dictionary<string, object>(), lastErrors = Array.Empty<string>(),
        };
        var probe = Path.Combine(session.Root, "probe.json");
        session.RunClean("New-KsctlCluster probe -Provider Local");
        session.RunClean($"Export-KsctlState -Name probe -Path '{probe}' -KeyPath '{probe}.key' -WarningAction SilentlyContinue");
        session.RunClean("Remove-KsctlCluster probe -Force");
        var format = JsonDocument.Parse(File.ReadAllText(probe)).RootElement.GetProperty("format").GetString()!;
        var file = Path.Combine(session.Root, $"{name}.export.json");
        File.WriteAllText(file, JsonSerializer.Serialize(new { format, version = 1, exportedAt = now, clusters = new[] { state } }));
        session.RunClean($"Import-KsctlState -LiteralPath '{file}'");
    }
}
