using System.Management.Automation;
using Xunit;

namespace Ksctl.PowerShell.Tests;

/// <summary>
/// Test-KsctlCluster and Get-KsctlCluster -Refresh through the real engine. The kind stand-in's cluster has no API
/// behind its kubeconfig, so the API check fails with its reason: the cluster is Degraded when refreshed, Running in
/// the store. (A healthy cluster and the self-managed checks are tested on real machines in Ksctl.SelfManaged.Tests.)
/// </summary>
[Collection(PowerShellCollection.Name)]
public sealed class HealthCmdletTests
{
    [Fact]
    public void Test_reports_each_check_and_Refresh_shows_Degraded_without_storing_it()
    {
        using var session = new KsctlSession();
        session.RunClean("New-KsctlCluster demo -Provider Local");

        var checks = session.RunClean("Test-KsctlCluster demo").Output;
        var api = Assert.Single(checks);
        Assert.Equal("Ksctl.PowerShell.Models.KsctlHealthCheck", api.BaseObject.GetType().FullName);
        Assert.Equal("demo", (string)((dynamic)api).Cluster);
        Assert.Equal("ApiReady", (string)((dynamic)api).Check);
        Assert.False((bool)((dynamic)api).Passed);
        Assert.NotEmpty((string)((dynamic)api).Reason);

        Assert.Equal([false], session.RunClean("Get-KsctlCluster demo | Test-KsctlCluster -Quiet").Output.Select(o => (bool)o.BaseObject));

        var refreshed = session.RunClean("Get-KsctlCluster demo -Refresh").Single();
        Assert.Equal("Degraded", (string)refreshed.Status);
        var reason = Assert.Single((string[])refreshed.LastErrors);
        Assert.StartsWith("ApiReady ", reason);
        Assert.Equal("Running", (string)session.RunClean("Get-KsctlCluster demo").Single().Status);

        // The table view shows each check on one row.
        var table = session.RunClean("Test-KsctlCluster demo | Out-Default").HostText;
        Assert.Contains("ApiReady", table);
        Assert.Contains("False", table);
    }

    [Fact]
    public void Test_of_a_missing_cluster_is_not_found()
    {
        using var session = new KsctlSession();
        var result = session.Run("Test-KsctlCluster missing");
        var error = Assert.Single(result.Errors);
        Assert.Equal("KsctlClusterNotFound", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
        Assert.Empty(result.Output);
    }
}
