using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Ksctl.Core.Distributions.Etcd;

namespace Ksctl.Remote.Tests;

public sealed class EtcdCertificateAuthorityTests
{
    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static readonly string[] Ips = ["10.1.0.4", "10.1.0.5", "10.1.0.6"];

    [Fact]
    public void Ca_lasts_about_two_years_and_the_certificate_about_one_with_every_datastore_ip()
    {
        var now = new DateTimeOffset(2026, 11, 24, 8, 0, 0, TimeSpan.Zero);
        var pki = EtcdCertificateAuthority.CreatePki("demo", Ips, new FixedTime(now));

        using var ca = X509Certificate2.CreateFromPem(pki.CaCertificatePem);
        using var cert = X509Certificate2.CreateFromPem(pki.CertificatePem);
        Assert.Equal(now.AddDays(730).UtcDateTime, ca.NotAfter.ToUniversalTime(), TimeSpan.FromSeconds(1));
        Assert.Equal(now.AddDays(365).UtcDateTime, cert.NotAfter.ToUniversalTime(), TimeSpan.FromSeconds(1));
        Assert.True(ca.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        Assert.False(cert.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        Assert.Contains("demo", ca.Subject);

        var san = cert.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Equal(["127.0.0.1", .. Ips], san.EnumerateIPAddresses().Select(a => a.ToString()).ToArray());
        Assert.Equal(["localhost"], san.EnumerateDnsNames().ToArray());
        var eku = cert.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value).ToList();
        Assert.Contains("1.3.6.1.5.5.7.3.1", eku); // server (and peer)
        Assert.Contains("1.3.6.1.5.5.7.3.2", eku); // client
        Assert.Equal(pki.CertificateNotAfter, new DateTimeOffset(cert.NotAfter.ToUniversalTime()), TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void The_certificate_chains_to_the_ca_and_its_key_matches()
    {
        var pki = EtcdCertificateAuthority.CreatePki("demo", Ips);

        using var ca = X509Certificate2.CreateFromPem(pki.CaCertificatePem);
        using var cert = X509Certificate2.CreateFromPem(pki.CertificatePem, pki.PrivateKeyPem);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        Assert.True(chain.Build(cert), string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation)));
        Assert.True(cert.HasPrivateKey);
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", pki.PrivateKeyPem);
    }

    [Fact]
    public void A_ca_loaded_from_state_issues_certificates_that_chain_to_it()
    {
        var pki = EtcdCertificateAuthority.CreatePki("demo", Ips);
        var secrets = new Dictionary<string, string>();
        pki.CopyTo(secrets);
        var back = EtcdCertificates.From(secrets)!;

        using var loaded = EtcdCertificateAuthority.Load(back.CaCertificatePem, back.CaPrivateKeyPem);
        var (clientPem, clientKey) = loaded.IssueClientCertificate("apiserver-etcd-client");

        Assert.Equal(pki, back);
        using var ca = X509Certificate2.CreateFromPem(pki.CaCertificatePem);
        using var client = X509Certificate2.CreateFromPem(clientPem, clientKey);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        Assert.True(chain.Build(client));
        Assert.Null(EtcdCertificates.From(new Dictionary<string, string>()));
        Assert.DoesNotContain("PRIVATE", pki.ToString());
    }

    [Fact]
    public void A_ca_key_of_another_ca_is_refused()
    {
        var a = EtcdCertificateAuthority.CreatePki("a", Ips);
        var b = EtcdCertificateAuthority.CreatePki("b", Ips);

        Assert.Throws<CryptographicException>(() => EtcdCertificateAuthority.Load(a.CaCertificatePem, b.CaPrivateKeyPem));
    }

    [Fact]
    public void A_certificate_never_outlives_its_ca()
    {
        var time = new FixedTime(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        using var ca = EtcdCertificateAuthority.Create("demo", time);
        time.Now = time.Now.AddDays(700);

        var pki = ca.IssueMemberCertificates(Ips);

        Assert.Equal(ca.NotAfter, pki.CertificateNotAfter);
    }

    [Fact]
    public void Member_names_and_urls_follow_the_ksctl_layout()
    {
        var members = EtcdMember.FromPrivateIps(Ips);

        Assert.Equal("infra0=https://10.1.0.4:2380,infra1=https://10.1.0.5:2380,infra2=https://10.1.0.6:2380", EtcdMember.InitialCluster(members));
        Assert.Equal("https://10.1.0.4:2379,https://10.1.0.5:2379,https://10.1.0.6:2379", EtcdMember.ClientEndpoints(members));
        Assert.Throws<ArgumentException>(() => new EtcdMember(0, "not-an-ip"));
        _ = IPAddress.Parse(members[2].PrivateIp);
    }

    [Fact]
    public void The_unit_runs_etcd_with_tls_and_client_certificate_auth()
    {
        var members = EtcdMember.FromPrivateIps(Ips);

        var unit = EtcdScripts.Unit(members[1], members, "ksctl-demo");

        Assert.Contains("--name infra1 \\\n", unit);
        Assert.Contains("--listen-client-urls https://10.1.0.5:2379,https://127.0.0.1:2379 \\\n", unit);
        Assert.Contains("--listen-peer-urls https://10.1.0.5:2380 \\\n", unit);
        Assert.Contains("--client-cert-auth \\\n", unit);
        Assert.Contains("--peer-client-cert-auth \\\n", unit);
        Assert.Contains("--data-dir /var/lib/etcd \\\n", unit);
        Assert.Contains("--initial-cluster infra0=https://10.1.0.4:2380,infra1=https://10.1.0.5:2380,infra2=https://10.1.0.6:2380 \\\n", unit);
    }

    public static TheoryData<string, string> Scripts()
    {
        var members = EtcdMember.FromPrivateIps(Ips);
        return new TheoryData<string, string>
        {
            { "install (download)", EtcdScripts.InstallMember(members[0], members, "ksctl-demo", new EtcdArtifactSource()) },
            { "install (staged)", EtcdScripts.InstallMember(members[2], members, "ksctl-demo", new EtcdArtifactSource { LocalFolder = "/usr/bin" }) },
            { "health", EtcdScripts.Health() },
            { "health (cluster)", EtcdScripts.Health(wholeCluster: true) },
            { "uninstall", EtcdScripts.Uninstall() },
        };
    }

    [Theory]
    [MemberData(nameof(Scripts))]
    public void Every_etcd_script_passes_shellcheck(string name, string script) => ShellCheck.AssertClean(name, script);
}
