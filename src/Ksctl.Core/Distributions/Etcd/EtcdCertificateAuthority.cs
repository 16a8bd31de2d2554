using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Ksctl.Core.Distributions.Etcd;

/// <summary>
/// Generates the etcd datastore's PKI locally (ECDSA P-256, SHA-256): a CA valid about two years and a member/client
/// certificate valid about one year whose SANs are 127.0.0.1, localhost and every datastore private IP.
/// </summary>
public sealed class EtcdCertificateAuthority : IDisposable
{
    public static readonly TimeSpan CaValidity = TimeSpan.FromDays(730);
    public static readonly TimeSpan CertificateValidity = TimeSpan.FromDays(365);
    /// <summary>Tolerates clocks of machines a little behind ours.</summary>
    private static readonly TimeSpan Backdate = TimeSpan.FromMinutes(5);

    private const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";

    private readonly ECDsa _caKey;
    private readonly X509Certificate2 _caCertificate;
    private readonly TimeProvider _time;

    private EtcdCertificateAuthority(ECDsa caKey, X509Certificate2 caCertificate, TimeProvider time)
    {
        _caKey = caKey;
        _caCertificate = caCertificate;
        _time = time;
    }

    public string CertificatePem => _caCertificate.ExportCertificatePem();
    public string PrivateKeyPem => _caKey.ExportPkcs8PrivateKeyPem();
    public DateTimeOffset NotAfter => new(_caCertificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);

    /// <summary>A new CA named after the cluster.</summary>
    public static EtcdCertificateAuthority Create(string clusterName, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(clusterName);
        time ??= TimeProvider.System;
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        try
        {
            var subject = new X500DistinguishedName($"CN=ksctl-etcd-ca {clusterName}, O=ksctl");
            var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(
                X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
            request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
            var now = time.GetUtcNow();
            var certificate = request.CreateSelfSigned(now - Backdate, now + CaValidity);
            // Keep only the public part in the certificate object; the key lives in _caKey.
            var publicOnly = new X509Certificate2(certificate.Export(X509ContentType.Cert));
            certificate.Dispose();
            return new EtcdCertificateAuthority(key, publicOnly, time);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>The CA kept in state.</summary>
    public static EtcdCertificateAuthority Load(string caCertificatePem, string caPrivateKeyPem, TimeProvider? time = null)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(caPrivateKeyPem);
            var certificate = X509Certificate2.CreateFromPem(caCertificatePem);
            using var certificateKey = certificate.GetECDsaPublicKey()
                ?? throw new CryptographicException("The etcd CA certificate does not hold an ECDSA key.");
            if (!certificateKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo()))
            {
                throw new CryptographicException("The etcd CA private key does not belong to the CA certificate.");
            }
            return new EtcdCertificateAuthority(key, certificate, time ?? TimeProvider.System);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>Generates a new CA and the member certificate for these datastore private IPs.</summary>
    public static EtcdCertificates CreatePki(string clusterName, IEnumerable<string> datastorePrivateIps, TimeProvider? time = null)
    {
        using var ca = Create(clusterName, time);
        return ca.IssueMemberCertificates(datastorePrivateIps);
    }

    /// <summary>
    /// The certificate every member uses as server and peer certificate, and clients as client certificate:
    /// extended key usages serverAuth and clientAuth; SANs 127.0.0.1, localhost and <paramref name="datastorePrivateIps"/>.
    /// </summary>
    public EtcdCertificates IssueMemberCertificates(IEnumerable<string> datastorePrivateIps)
    {
        var ips = datastorePrivateIps.Select(ParseIp).Prepend(IPAddress.Loopback).Distinct().ToList();
        var (certPem, keyPem, notAfter) = Issue("etcd", ips, ["localhost"]);
        return new EtcdCertificates
        {
            CaCertificatePem = CertificatePem,
            CaPrivateKeyPem = PrivateKeyPem,
            CertificatePem = certPem,
            PrivateKeyPem = keyPem,
            CaNotAfter = NotAfter,
            CertificateNotAfter = notAfter,
        };
    }

    /// <summary>A client-only certificate (e.g. for a tool that must not serve etcd).</summary>
    public (string CertificatePem, string PrivateKeyPem) IssueClientCertificate(string commonName)
    {
        var (cert, key, _) = Issue(commonName, [], [], serverAuth: false);
        return (cert, key);
    }

    private (string CertificatePem, string PrivateKeyPem, DateTimeOffset NotAfter) Issue(
        string commonName, IReadOnlyList<IPAddress> ips, IReadOnlyList<string> dnsNames, bool serverAuth = true)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={commonName}, O=ksctl"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        var usages = new OidCollection { new Oid(ClientAuthOid) };
        if (serverAuth) usages.Add(new Oid(ServerAuthOid));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, false));
        if (ips.Count > 0 || dnsNames.Count > 0)
        {
            var san = new SubjectAlternativeNameBuilder();
            foreach (var dns in dnsNames) san.AddDnsName(dns);
            foreach (var ip in ips) san.AddIpAddress(ip);
            request.CertificateExtensions.Add(san.Build());
        }
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_caCertificate, true, false));

        var now = _time.GetUtcNow();
        var notAfter = now + CertificateValidity;
        if (notAfter > NotAfter) notAfter = NotAfter; // never outlive the CA
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // positive
        using var certificate = request.Create(_caCertificate.SubjectName, X509SignatureGenerator.CreateForECDsa(_caKey), now - Backdate, notAfter, serial);
        return (certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem(), new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero));
    }

    internal static DateTimeOffset NotAfterOf(string certificatePem)
    {
        using var c = X509Certificate2.CreateFromPem(certificatePem);
        return new DateTimeOffset(c.NotAfter.ToUniversalTime(), TimeSpan.Zero);
    }

    private static IPAddress ParseIp(string ip) =>
        IPAddress.TryParse(ip, out var a) ? a : throw new ArgumentException($"'{ip}' is not an IP address.", nameof(ip));

    public void Dispose()
    {
        _caKey.Dispose();
        _caCertificate.Dispose();
    }
}
