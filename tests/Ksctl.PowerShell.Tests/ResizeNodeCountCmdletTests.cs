using System.Management.Automation;
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
}
