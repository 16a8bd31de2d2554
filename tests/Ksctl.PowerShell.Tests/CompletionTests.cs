using System.Management.Automation;
using Xunit;

namespace Ksctl.PowerShell.Tests;

[Collection(PowerShellCollection.Name)]
public sealed class CompletionTests
{
    internal static List<string> Complete(KsctlSession session, string input)
    {
        using var ps = System.Management.Automation.PowerShell.Create(session.Runspace);
        var result = CommandCompletion.CompleteInput(input, input.Length, null, ps);
        return result.CompletionMatches.Select(m => m.CompletionText).ToList();
    }

    [Fact]
    public void Provider_CompletesFromTheSet()
    {
        using var session = new KsctlSession();
        Assert.Contains("Local", Complete(session, "New-KsctlCluster -Provider L"));
        Assert.Contains("Azure", Complete(session, "Get-KsctlCluster -Provider "));
    }

    [Fact]
    public void Region_CompletesForTheTypedProvider()
    {
        using var session = new KsctlSession();
        Assert.Contains("LOCAL", Complete(session, "New-KsctlCluster demo -Provider Local -Region "));
        Assert.Contains("LOCAL", Complete(session, "New-KsctlCluster demo -Region lo"));
        Assert.Contains("westeurope", Complete(session, "New-KsctlCluster demo -Provider Azure -Region "));
        Assert.Contains("Standard_F4s", Complete(session, "New-KsctlCluster demo -Provider Azure -NodeSize Standard_F"));
        Assert.Contains("eu-west-1", Complete(session, "New-KsctlCluster demo -Provider Aws -Region "));
        // Nothing throws where a provider offers no list.
        Assert.Empty(Complete(session, "New-KsctlCluster demo -Provider Local -NodeSize "));
    }

    [Fact]
    public void Name_CompletesExistingClusters()
    {
        using var session = new KsctlSession();
        session.RunClean("New-KsctlCluster alpha -Provider Local; New-KsctlCluster beta -Provider Local");
        var all = Complete(session, "Remove-KsctlCluster -Name ");
        Assert.Contains("alpha", all);
        Assert.Contains("beta", all);
        Assert.Equal(["beta"], Complete(session, "Switch-KsctlContext b"));
        Assert.Equal(["alpha"], Complete(session, "Get-KsctlCluster -Name al"));
    }

    [Fact]
    public void Name_CompletionNeverThrows_OnABrokenConfiguration()
    {
        using var session = new KsctlSession();
        Directory.CreateDirectory(session.Home);
        File.WriteAllText(Path.Combine(session.Home, "config.json"), "{ not json");
        Assert.Empty(Complete(session, "Remove-KsctlCluster -Name "));
    }
}
