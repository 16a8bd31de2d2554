using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Ksctl.Core.Distributions.Etcd;

/// <summary>PEM text of a certificate and its private key.</summary>
public sealed record PemPair(string Certificate, string PrivateKey);

/// <summary>
/// The datastore's own PKI, generated locally: a CA (~2 years), one server/peer certificate for the members and one
/// client certificate for the control planes (~1 year), ECDSA P-256. SANs: 127.0.0.1, localhost and every member's
/// private address.
/// </summary>
public static class EtcdCertificateAuthority
{
    public static readonly TimeSpan CaLifetime = TimeSpan.FromDays(730);
    public static readonly TimeSpan LeafLifetime = TimeSpan.FromDays(365);

    public static PemPair CreateCa(string clusterName, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=ksctl-etcd-ca-{clusterName}, O=ksctl", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        using var cert = request.CreateSelfSigned(now.AddMinutes(-5), now.Add(CaLifetime));
        return new PemPair(cert.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>The members' certificate: server and peer (both TLS server and client auth), SANs for every member.</summary>
    public static PemPair CreateServer(PemPair ca, IEnumerable<string> memberAddresses, DateTimeOffset now) =>
        CreateLeaf(ca, "CN=etcd-member, O=ksctl", memberAddresses, server: true, now);

    /// <summary>The control planes' client certificate for --client-cert-auth.</summary>
    public static PemPair CreateClient(PemPair ca, DateTimeOffset now) =>
        CreateLeaf(ca, "CN=kube-apiserver-etcd-client, O=ksctl", [], server: false, now);

    private static PemPair CreateLeaf(PemPair ca, string subject, IEnumerable<string> addresses, bool server, DateTimeOffset now)
    {
        using var caCert = X509Certificate2.CreateFromPem(ca.Certificate, ca.PrivateKey);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        var usages = new OidCollection { new Oid("1.3.6.1.5.5.7.3.2") }; // client auth
        if (server) usages.Add(new Oid("1.3.6.1.5.5.7.3.1")); // server auth
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, false));
        if (server)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName("localhost");
            san.AddIpAddress(IPAddress.Loopback);
            foreach (var a in addresses.Distinct())
            {
                if (IPAddress.TryParse(a, out var ip)) san.AddIpAddress(ip); else san.AddDnsName(a);
            }
            request.CertificateExtensions.Add(san.Build());
        }
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // positive
        var notAfter = now.Add(LeafLifetime);
        if (notAfter > caCert.NotAfter) notAfter = caCert.NotAfter;
        using var issued = request.Create(caCert, now.AddMinutes(-5), notAfter, serial);
        return new PemPair(issued.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }
}
