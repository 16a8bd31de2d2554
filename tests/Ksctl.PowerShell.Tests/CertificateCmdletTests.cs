using Xunit;

namespace Ksctl.PowerShell.Tests;

/// <summary>
/// Update-KsctlCertificate through the engine: its -WhatIf shows the rolling order and touches nothing, managed clusters
/// are refused, and Get-KsctlCluster carries each kind's expiry. The renewal itself runs on the test machines
/// (Ksctl.SelfManaged.Tests, CertificateRenewalTests).
/// </summary>
[Collection(PowerShellCollection.Name)]
public sealed class CertificateCmdletTests
{
    [Fact]
    public void WhatIf_shows_one_member_then_one_control_plane_at_a_time_and_changes_nothing()
    {
        using var session = new KsctlSession();
        BackupCmdletTests.ImportBareMetalCluster(session, "lab");
        var file = Assert.Single(session.StateFiles(), f => f.EndsWith("state.json"));
        var before = File.ReadAllBytes(file);

        var result = session.RunClean("Get-KsctlCluster lab | Update-KsctlCertificate -WhatIf");

        Assert.Empty(result.Output);
        var text = result.HostText;
        string[] order = ["certs:issue", "certs:etcd:db-0", "certs:etcd:db-1", "certs:etcd:db-2", "certs:control-plane:cp-0", "certs:control-plane:cp-1", "certs:control-plane:cp-2", "certs:record"];
        var positions = order.Select(s => text.IndexOf(s + ":", StringComparison.Ordinal)).ToList();
        Assert.All(positions, p => Assert.True(p >= 0, text));
        Assert.Equal(positions.Order(), positions);
        Assert.Contains("[after certs:etcd:db-0]", text);
        Assert.Contains("restart the k3s server", text);
        Assert.Equal(before, File.ReadAllBytes(file));
    }

    [Fact]
    public void Get_KsctlCluster_shows_each_kind_of_certificate_expiry_and_managed_clusters_are_refused()
    {
        using var session = new KsctlSession();
        var member = DateTimeOffset.UtcNow.AddDays(300);
        var ca = DateTimeOffset.UtcNow.AddDays(700);
        BackupCmdletTests.ImportBareMetalCluster(session, "lab", new Dictionary<string, string>
        {
            ["certificates:etcd-member-not-after"] = member.ToString("O"),
            ["certificates:etcd-ca-not-after"] = ca.ToString("O"),
            ["certificates:etcd-client-not-after"] = "not a date",
        });
        var cluster = session.RunClean("Get-KsctlCluster lab").Single();
        var expiry = (Dictionary<string, DateTimeOffset>)cluster.CertificateExpiry;
        Assert.Equal(["etcd-ca", "etcd-member"], expiry.Keys.Order());
        Assert.Equal(member, expiry["etcd-member"]);

        session.RunClean("New-KsctlCluster kind1 -Provider Local");
        var refused = session.Run("Update-KsctlCertificate kind1 -Confirm:$false");
        Assert.StartsWith("KsctlOperationNotAllowed,", Assert.Single(refused.Errors).FullyQualifiedErrorId);
        Assert.Contains("self-managed", refused.Errors[0].Exception.Message);
    }
}
