using Xunit;

namespace Ksctl.PowerShell.Tests;

/// <summary>What the cmdlets show of issue #12's checks: a skipped invalid document, a refused SAS Uri.</summary>
[Collection(PowerShellCollection.Name)]
public sealed class SecurityCmdletTests
{
    [Fact]
    public void Get_SkipsAnInvalidDocument_WithAWarningNamingTheCluster_AndListsTheOthers()
    {
        using var session = new KsctlSession();
        var documents = new[]
        {
            ("good", ClusterLifecycleTests.StateDocument("good")),
            // Recorded where another cluster is kept.
            ("moved", ClusterLifecycleTests.StateDocument("elsewhere")),
            // A null collection.
            ("nulls", ClusterLifecycleTests.StateDocument("nulls").Replace("\"nodes\": [", "\"nodes\": null, \"x\": [")),
            // A recorded spec that breaks a rule.
            ("hostile", ClusterLifecycleTests.StateDocument("hostile").Replace("\"kubernetesVersion\": \"1.33.1\", \"nodeCount\"", "\"kubernetesVersion\": \"1.33.1;reboot\", \"nodeCount\"")),
        };
        foreach (var (folder, text) in documents)
        {
            var dir = Path.Combine(session.StatePath, "local", "managed", $"{folder} LOCAL");
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "state.json"), text);
        }

        var result = session.Run("Get-KsctlCluster");
        Assert.Equal("good", (string)result.Single().Name);
        Assert.Empty(result.Errors);
        Assert.Equal(3, result.Warnings.Count(w => w.StartsWith("Skipped cluster ", StringComparison.Ordinal)));
        foreach (var name in new[] { "moved", "nulls", "hostile" })
            Assert.Contains(result.Warnings, w => w.Contains($"Skipped cluster {name} (Local/Managed, LOCAL)"));
    }

    [Fact]
    public void SetConfiguration_RefusesASasTokenInTheStorageAccountUri_AndSavesNothing()
    {
        using var session = new KsctlSession();
        var result = session.Run("Set-KsctlConfiguration -StateStore AzureBlob -StorageAccountUri 'https://acct.blob.core.windows.net/state?sv=2024-08-04&sp=rwdl&sig=SECRETSIG%3D'");
        var error = Assert.Single(result.Errors);
        Assert.Equal("KsctlInvalidStorageAccountUri", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("SAS", error.Exception.Message);
        Assert.DoesNotContain("SECRETSIG", error.Exception.Message);
        Assert.False(File.Exists(Path.Combine(session.Home, "config.json")) && File.ReadAllText(Path.Combine(session.Home, "config.json")).Contains("sig="));
    }
}
