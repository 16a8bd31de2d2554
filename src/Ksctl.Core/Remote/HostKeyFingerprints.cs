namespace Ksctl.Core.Remote;

/// <summary>OpenSSH-style SHA256 host key fingerprints ("SHA256:" + unpadded base64).</summary>
internal static class HostKeyFingerprints
{
    private const string Prefix = "SHA256:";

    /// <summary>"SHA256:xxx" from SSH.NET's unpadded base64 (or an already-prefixed value).</summary>
    public static string FromBase64(string base64) =>
        base64.StartsWith(Prefix, StringComparison.Ordinal) ? Normalize(base64) : Prefix + base64.TrimEnd('=');

    /// <summary>Canonical form: "SHA256:" prefix, no padding, surrounding blanks removed. Accepts a bare base64 value.</summary>
    public static string Normalize(string fingerprint)
    {
        var f = fingerprint.Trim();
        if (f.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase)) f = f[Prefix.Length..];
        return Prefix + f.TrimEnd('=');
    }

    /// <summary>Base64 is case-sensitive: ordinal comparison of the canonical forms.</summary>
    public static bool AreEqual(string expected, string actual) =>
        string.Equals(Normalize(expected), Normalize(actual), StringComparison.Ordinal);
}
