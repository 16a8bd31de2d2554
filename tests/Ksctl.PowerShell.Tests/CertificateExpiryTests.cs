using System.Text.Json.Nodes;
using Xunit;

namespace Ksctl.PowerShell.Tests;

/// <summary>
/// Issue #11 item 8: the etcd certificates' expiry recorded in a cluster's state is a property of the object
/// Get-KsctlCluster returns, and a warning when it is 30 days away or less.
/// </summary>
[Collection(PowerShellCollection.Name)]
public sealed class CertificateExpiryTests
{
    [Theory]
    [InlineData(200, false)]
    [InlineData(20, true)]
    [InlineData(-1, true)]
    public void Get_KsctlCluster_shows_when_the_etcd_certificates_expire_and_warns_within_30_days(int days, bool warns)
    {
        using var session = new KsctlSession();
        session.RunClean("New-KsctlCluster certs -Provider Local");
        var file = Assert.Single(session.StateFiles(), f => f.EndsWith("state.json"));
        var document = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
        var key = document.Select(p => p.Key).First(k => k.Equals("resources", StringComparison.OrdinalIgnoreCase));
        var expiry = DateTimeOffset.UtcNow.AddDays(days);
        document[key]!.AsObject()["etcd:certificates-not-after"] = expiry.ToString("O");
        File.WriteAllText(file, document.ToJsonString());

        var result = session.RunClean("Get-KsctlCluster -Name certs");
        var cluster = result.Single();
        Assert.Equal(expiry, (DateTimeOffset)cluster.CertificatesExpireAt);
        if (warns) Assert.Contains(result.Warnings, w => w.Contains("etcd certificates of cluster certs expire"));
        else Assert.Empty(result.Warnings);
        // The list view (Format-List) shows it; this hosted engine has no formatting cmdlets, so the view is read.
        Assert.Contains("<ListItem><PropertyName>CertificatesExpireAt</PropertyName></ListItem>", File.ReadAllText(Path.Combine(Paths.ModuleDir, "Ksctl.Format.ps1xml")));
    }
}
