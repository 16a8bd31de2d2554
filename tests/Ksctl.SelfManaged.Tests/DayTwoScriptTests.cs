using Ksctl.Core.Backup;
using Ksctl.Core.Certificates;

namespace Ksctl.SelfManaged.Tests;

/// <summary>The backup, restore and certificate renewal scripts pass shellcheck like every other generated script.</summary>
public sealed class DayTwoScriptTests
{
    public static TheoryData<string, string> Scripts() => new()
    {
        { "backup-health", BackupScripts.Health() },
        { "backup-save", BackupScripts.Save() },
        { "backup-chunk", BackupScripts.Chunk(3) },
        { "backup-remove", BackupScripts.RemoveSnapshot() },
        { "restore-prepare", BackupScripts.Prepare(1, "10.0.0.3", "infra0=https://10.0.0.2:2380,infra1=https://10.0.0.3:2380", "lab-etcd-0a1b2c3d", new string('a', 64)) },
        { "restore-stop", BackupScripts.Stop("k3s") },
        { "restore-start", BackupScripts.Start("k3s") },
        { "restore-pause-apiserver", BackupScripts.PauseStaticApiServer() },
        { "restore-resume-apiserver", BackupScripts.ResumeStaticApiServer() },
        { "restore-swap", BackupScripts.Swap("lab-etcd-0a1b2c3d") },
        { "restore-cleanup", BackupScripts.Cleanup("lab-etcd-0a1b2c3d") },
        { "certs-member", CertificateScripts.RestartMember(["https://10.0.0.2:2379", "https://10.0.0.3:2379"]) },
        { "certs-k3s", CertificateScripts.RestartK3s() },
        { "certs-kubeadm", CertificateScripts.RenewKubeadm() },
        { "certs-kubeadm-restart", CertificateScripts.RenewKubeadm(renew: false) },
    };

    /// <summary>
    /// The CA is rotated when a leaf issued now would outlive it (with 30 days' notice), and the rotation's order is
    /// trust both on every machine, new leaves, drop the old CA on every machine, one machine at a time.
    /// </summary>
    [Theory]
    [InlineData(0, false)]
    [InlineData(290, false)]
    [InlineData(310, true)]
    [InlineData(700, true)]
    public void The_etcd_CA_is_rotated_when_its_leaves_would_outlive_it(int ageDays, bool due)
    {
        var now = DateTimeOffset.UtcNow;
        var id = new Ksctl.Core.Model.ClusterId(Ksctl.Core.Model.CloudProvider.BareMetal, Ksctl.Core.Model.ClusterType.SelfManaged, "lab", "lab");
        var state = new Ksctl.Core.Model.ClusterState { Id = id, Spec = new Ksctl.Core.Model.ClusterSpec { Id = id, Distribution = Ksctl.Core.Model.DistributionKind.K3s } };
        // A CA of 730 days issued 35 + ageDays days ago ends in 695 - ageDays days: due below 365 + 30, i.e. from an age of 300.
        var ca = Ksctl.Core.Distributions.Etcd.EtcdCertificateAuthority.CreateCa("lab", now.AddDays(-ageDays - 35));
        state.Secrets["etcd:ca.crt"] = ca.Certificate;
        Assert.Equal(due, EtcdCaRotation.Due(state, now));

        for (var i = 0; i < 3; i++)
        {
            state.Nodes.Add(new() { Name = $"db{i}", Key = $"db-{i}", Role = Ksctl.Core.Model.NodeRole.Datastore, Index = i, PrivateIP = $"10.0.0.{2 + i}" });
            state.Nodes.Add(new() { Name = $"cp{i}", Key = $"cp-{i}", Role = Ksctl.Core.Model.NodeRole.ControlPlane, Index = i, PrivateIP = $"10.0.0.{12 + i}" });
        }
        var steps = CertificateRenewalSteps.Create(state, null!, TimeProvider.System, rotateCa: due).Select(s => s.Name).ToList();
        string[] leaves = ["certs:issue", "certs:etcd:db-0", "certs:etcd:db-1", "certs:etcd:db-2", "certs:control-plane:cp-0", "certs:control-plane:cp-1", "certs:control-plane:cp-2"];
        string[] Each(string prefix) => [$"{prefix}etcd:db-0", $"{prefix}etcd:db-1", $"{prefix}etcd:db-2", $"{prefix}control-plane:cp-0", $"{prefix}control-plane:cp-1", $"{prefix}control-plane:cp-2"];
        Assert.Equal(due ? ["certs:ca:issue", .. Each("certs:ca-trust:"), .. leaves, .. Each("certs:ca-drop:"), "certs:record"] : [.. leaves, "certs:record"], steps);
    }

    [Theory]
    [MemberData(nameof(Scripts))]
    public void Script_passes_shellcheck(string name, string script) => new GeneratedScriptTests().Script_passes_shellcheck(name, script);

    [Theory]
    [InlineData("notAfter=Nov 30 19:00:00 2027 GMT", "2027-11-30T19:00:00+00:00")]
    [InlineData("notAfter=Dec  1 08:05:09 2027 GMT", "2027-12-01T08:05:09+00:00")]
    public void The_kubeadm_expiry_is_read_from_openssl_x509_enddate(string output, string expected) =>
        Assert.Equal(DateTimeOffset.Parse(expected), CertificateRenewalSteps.ParseEndDate("Done renewing certificates.\n" + output + "\n"));

    [Theory]
    [InlineData("notAfter=Dec  1 08:05:09 2027 CET")]
    [InlineData("notAfter=tomorrow")]
    [InlineData("notAfter=Dec  1 08:05:09 9999 GMT")]
    [InlineData("")]
    public void An_expiry_a_machine_prints_wrongly_is_not_recorded(string output) => Assert.Null(CertificateRenewalSteps.ParseEndDate(output));
}

/// <summary>The local checks of a snapshot, whatever a machine said about it (EtcdSnapshot's header names the sources).</summary>
public sealed class EtcdSnapshotCheckTests
{
    private static byte[] Valid()
    {
        var body = new byte[8 * 4096];
        BitConverter.GetBytes(0xED0CDAEDu).CopyTo(body, 16);
        System.Security.Cryptography.RandomNumberGenerator.Fill(body.AsSpan(4096));
        return [.. body, .. System.Security.Cryptography.SHA256.HashData(body)];
    }

    [Fact]
    public void An_intact_snapshot_passes_and_every_kind_of_damage_is_named()
    {
        var good = Valid();
        Assert.Null(EtcdSnapshot.Problem(good));
        var flipped = (byte[])good.Clone();
        flipped[5000] ^= 1;
        Assert.Contains("does not match the SHA-256", EtcdSnapshot.Problem(flipped));
        Assert.Contains("does not end with the SHA-256", EtcdSnapshot.Problem(good[..^1]));
        Assert.Contains("does not end with the SHA-256", EtcdSnapshot.Problem(good[..^32]));
        var notBolt = (byte[])good.Clone();
        notBolt[16] = 0;
        Assert.Contains("bbolt magic", EtcdSnapshot.Problem(notBolt));
        Assert.Contains("too few", EtcdSnapshot.Problem(new byte[512 + 32]));
    }

    [Theory]
    [InlineData("{\"hash\":1284339861,\"revision\":2,\"totalKey\":5,\"totalSize\":20480}", null)]
    [InlineData("{\"hash\":1,\"revision\":-2,\"totalKey\":5,\"totalSize\":20480}", "revision")]
    [InlineData("{\"hash\":1,\"revision\":2,\"totalKey\":\"5\",\"totalSize\":20480}", "totalKey")]
    [InlineData("{\"hash\":99999999999,\"revision\":2,\"totalKey\":5,\"totalSize\":20480}", "CRC-32")]
    [InlineData("[1,2]", "JSON object")]
    [InlineData("Error: snapshot file not found", "did not print JSON")]
    public void Etcds_status_is_read_strictly(string json, string? problem)
    {
        if (problem is null)
        {
            Assert.Equal(new SnapshotStatus(1284339861, 2, 5, 20480), EtcdSnapshot.ParseStatus(json, "b"));
            return;
        }
        var error = Assert.Throws<BackupInvalidException>(() => EtcdSnapshot.ParseStatus(json, "b"));
        Assert.Contains(problem, error.Message);
    }
}
