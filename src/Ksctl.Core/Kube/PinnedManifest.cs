using System.Reflection;
using System.Security.Cryptography;

namespace Ksctl.Core.Kube;

/// <summary>
/// A Kubernetes manifest shipped inside Ksctl.Core (an embedded resource holding the upstream release file byte for
/// byte), pinned by version and SHA-256. The checksum is checked every time the manifest is loaded, so a manifest
/// that was changed after it was pinned (by a bad merge, a line-ending conversion, a tampered build) is refused
/// instead of being applied to a cluster. Where each one comes from is written in the README beside it.
/// </summary>
internal sealed record PinnedManifest(string Name, string Version, string Resource, string Sha256, string Source)
{
    /// <summary>The manifest's text, after its checksum matched. Throws <see cref="InvalidOperationException"/> otherwise.</summary>
    public string Load()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(Resource)
            ?? throw new InvalidOperationException($"The {Name} {Version} manifest ({Resource}) is missing from Ksctl.Core.");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        var bytes = buffer.ToArray();
        var actual = Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();
        if (!string.Equals(actual, Sha256, StringComparison.Ordinal))
            throw new InvalidOperationException($"The embedded {Name} {Version} manifest has SHA-256 {actual}, not the pinned {Sha256}; it is not used.");
        return System.Text.Encoding.UTF8.GetString(bytes);
    }
}
