using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Ksctl.Server.Hosting;

/// <summary>
/// The TLS certificate: the configured one, or a self-signed ECDSA P-256 certificate for localhost and this host's
/// name, made once and kept (0600) in <c>$KSCTL_HOME/server/tls.pfx</c> so that its fingerprint, which clients pin,
/// stays the same across restarts. There is no plain-HTTP endpoint.
/// </summary>
public static class ServerCertificate
{
    public static X509Certificate2 Load(ServerOptions options, string home)
    {
        if (!string.IsNullOrWhiteSpace(options.CertificatePath))
        {
            if (!File.Exists(options.CertificatePath)) throw new FileNotFoundException($"The TLS certificate '{options.CertificatePath}' (Ksctl:Server:CertificatePath) does not exist.");
            return options.CertificateKeyPath is { Length: > 0 } key
                ? X509Certificate2.CreateFromPemFile(options.CertificatePath, key)
                : X509CertificateLoader.LoadPkcs12FromFile(options.CertificatePath, options.CertificatePassword);
        }
        var path = Path.Combine(home, "server", "tls.pfx");
        if (File.Exists(path)) return X509CertificateLoader.LoadPkcs12FromFile(path, null);
        var made = CreateSelfSigned(Dns.GetHostName());
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var options2 = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options2.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(path, options2)) stream.Write(made.Export(X509ContentType.Pfx));
        return made;
    }

    public static X509Certificate2 CreateSelfSigned(string hostName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={hostName}, O=Ksctl server (self-signed)", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        if (!string.Equals(hostName, "localhost", StringComparison.OrdinalIgnoreCase)) san.AddDnsName(hostName);
        san.AddIpAddress(IPAddress.Loopback);
        san.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = DateTimeOffset.UtcNow;
        using var cert = request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(2));
        // Round-trip through PFX so the key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pfx), null);
    }

    /// <summary>"AB:CD:..." — the SHA-256 fingerprint, as browsers and openssl show it.</summary>
    public static string Fingerprint(X509Certificate2 certificate) =>
        string.Join(':', certificate.GetCertHash(HashAlgorithmName.SHA256).Select(b => b.ToString("X2")));
}
