using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Ksctl.Core.Remote.Keys;

/// <summary>
/// An SSH key pair made by Ksctl: host keys for cloud machines (so their fingerprint is known before they boot
/// and can be pinned from the first connection) and the per-cluster login key. PEM private keys are what both
/// OpenSSH's sshd/cloud-init and SSH.NET read; the public half is an OpenSSH authorized_keys line.
/// </summary>
public sealed record SshKeyPair
{
    public const string EcdsaP256 = "ecdsa-sha2-nistp256";
    public const string Rsa = "ssh-rsa";

    private SshKeyPair(string algorithm, string privateKeyPem, byte[] publicBlob, string comment)
    {
        Algorithm = algorithm;
        PrivateKeyPem = privateKeyPem;
        var line = $"{algorithm} {Convert.ToBase64String(publicBlob)}";
        PublicKey = string.IsNullOrWhiteSpace(comment) ? line : $"{line} {comment.Trim()}";
        Fingerprint = "SHA256:" + Convert.ToBase64String(SHA256.HashData(publicBlob)).TrimEnd('=');
    }

    /// <summary><see cref="EcdsaP256"/> or <see cref="Rsa"/>.</summary>
    public string Algorithm { get; }

    /// <summary>PEM ("EC PRIVATE KEY" or "RSA PRIVATE KEY"). A secret.</summary>
    public string PrivateKeyPem { get; }

    /// <summary>OpenSSH line "algorithm base64 [comment]".</summary>
    public string PublicKey { get; }

    /// <summary>"SHA256:…" exactly as <c>ssh-keygen -lf</c> prints it.</summary>
    public string Fingerprint { get; }

    /// <summary>A host key: ECDSA P-256 is cheap to verify and every sshd and cloud-init supports it.</summary>
    public static SshKeyPair CreateHostKey()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return FromEcdsa(ecdsa, "ksctl-host");
    }

    /// <summary>A login key: RSA 3072, because Azure's VM API accepts only RSA (and ed25519) public keys.</summary>
    public static SshKeyPair CreateLoginKey(string comment)
    {
        using var rsa = RSA.Create(3072);
        return FromRsa(rsa, comment);
    }

    /// <summary>Rebuilds the pair from a stored private key (state keeps only the PEM).</summary>
    public static SshKeyPair FromPrivateKeyPem(string pem, string comment = "")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pem);
        if (pem.Contains("BEGIN EC PRIVATE KEY", StringComparison.Ordinal))
        {
            using var ecdsa = ECDsa.Create();
            ecdsa.ImportFromPem(pem);
            return FromEcdsa(ecdsa, comment);
        }
        if (pem.Contains("BEGIN RSA PRIVATE KEY", StringComparison.Ordinal))
        {
            using var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return FromRsa(rsa, comment);
        }
        throw new ArgumentException("Only PEM 'EC PRIVATE KEY' (P-256) and 'RSA PRIVATE KEY' keys made by Ksctl are supported.", nameof(pem));
    }

    public override string ToString() => $"{Algorithm} {Fingerprint}";

    private static SshKeyPair FromEcdsa(ECDsa ecdsa, string comment)
    {
        var p = ecdsa.ExportParameters(false);
        if (p.Q.X!.Length != 32) throw new ArgumentException("Only NIST P-256 ECDSA keys are supported.");
        var point = new byte[1 + p.Q.X!.Length + p.Q.Y!.Length];
        point[0] = 0x04; // uncompressed point, as RFC 5656 encodes Q
        p.Q.X.CopyTo(point, 1);
        p.Q.Y.CopyTo(point, 1 + p.Q.X.Length);
        var blob = new SshWire().String(EcdsaP256).String("nistp256").Bytes(point).ToArray();
        return new SshKeyPair(EcdsaP256, ecdsa.ExportECPrivateKeyPem(), blob, comment);
    }

    private static SshKeyPair FromRsa(RSA rsa, string comment)
    {
        var p = rsa.ExportParameters(false);
        var blob = new SshWire().String(Rsa).MPInt(p.Exponent!).MPInt(p.Modulus!).ToArray();
        return new SshKeyPair(Rsa, rsa.ExportRSAPrivateKeyPem(), blob, comment);
    }

    /// <summary>RFC 4251 encoding of the public key blob the fingerprint is taken over.</summary>
    private sealed class SshWire
    {
        private readonly MemoryStream _stream = new();

        public SshWire String(string value) => Bytes(Encoding.ASCII.GetBytes(value));

        public SshWire Bytes(ReadOnlySpan<byte> value)
        {
            Span<byte> length = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(length, (uint)value.Length);
            _stream.Write(length);
            _stream.Write(value);
            return this;
        }

        /// <summary>Unsigned big-endian integer: leading zeros dropped, one zero added when the top bit is set.</summary>
        public SshWire MPInt(byte[] unsignedBigEndian)
        {
            var v = unsignedBigEndian.AsSpan();
            while (v.Length > 0 && v[0] == 0) v = v[1..];
            if (v.Length > 0 && (v[0] & 0x80) != 0)
            {
                var padded = new byte[v.Length + 1];
                v.CopyTo(padded.AsSpan(1));
                return Bytes(padded);
            }
            return Bytes(v);
        }

        public byte[] ToArray() => _stream.ToArray();
    }
}
