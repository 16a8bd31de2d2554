namespace Ksctl.Core.Distributions.Etcd;

/// <summary>
/// The etcd PKI a cluster keeps in its state (as secrets): the CA, and one certificate + key that every member uses as
/// server and peer certificate and that clients (the control planes, etcdctl) use as client certificate.
/// </summary>
public sealed record EtcdCertificates
{
    public const string CaCertificateSecret = "etcd-ca.crt";
    public const string CaPrivateKeySecret = "etcd-ca.key";
    public const string CertificateSecret = "etcd.crt";
    public const string PrivateKeySecret = "etcd.key";

    public required string CaCertificatePem { get; init; }
    /// <summary>A secret: only needed to issue more certificates.</summary>
    public required string CaPrivateKeyPem { get; init; }
    public required string CertificatePem { get; init; }
    /// <summary>A secret.</summary>
    public required string PrivateKeyPem { get; init; }
    public DateTimeOffset CaNotAfter { get; init; }
    public DateTimeOffset CertificateNotAfter { get; init; }

    /// <summary>Writes the four PEM documents into a state's secrets dictionary.</summary>
    public void CopyTo(IDictionary<string, string> secrets)
    {
        secrets[CaCertificateSecret] = CaCertificatePem;
        secrets[CaPrivateKeySecret] = CaPrivateKeyPem;
        secrets[CertificateSecret] = CertificatePem;
        secrets[PrivateKeySecret] = PrivateKeyPem;
    }

    /// <summary>Reads them back, or null when the state has none yet.</summary>
    public static EtcdCertificates? From(IReadOnlyDictionary<string, string> secrets)
    {
        if (!secrets.TryGetValue(CaCertificateSecret, out var caCert) || !secrets.TryGetValue(CaPrivateKeySecret, out var caKey)
            || !secrets.TryGetValue(CertificateSecret, out var cert) || !secrets.TryGetValue(PrivateKeySecret, out var key))
        {
            return null;
        }
        return new EtcdCertificates
        {
            CaCertificatePem = caCert,
            CaPrivateKeyPem = caKey,
            CertificatePem = cert,
            PrivateKeyPem = key,
            CaNotAfter = EtcdCertificateAuthority.NotAfterOf(caCert),
            CertificateNotAfter = EtcdCertificateAuthority.NotAfterOf(cert),
        };
    }

    /// <summary>Never prints key material.</summary>
    public override string ToString() => $"etcd PKI (CA until {CaNotAfter:yyyy-MM-dd}, certificate until {CertificateNotAfter:yyyy-MM-dd})";
}
