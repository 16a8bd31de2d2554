using System.Net;

namespace Ksctl.Core.Distributions.Cni;

/// <summary>
/// Flannel's upstream manifest (a pinned release, embedded so that an air-gapped create needs no download), with
/// net-conf.json's "Network" set to the cluster's pod subnet: Flannel refuses pod CIDRs outside it.
/// </summary>
internal static class FlannelManifest
{
    /// <summary>The embedded file is upstream's release asset with a two-line provenance header (see README.md).</summary>
    public static readonly Kube.PinnedManifest Pinned = new(
        "Flannel", "v0.28.9", "Ksctl.Core.Distributions.Cni.kube-flannel.yml",
        "475403ed4853be5c190cb95c2c4f094f7d62b79d2edfe6828731c53be9a61682",
        "https://github.com/flannel-io/flannel/releases/download/v0.28.9/kube-flannel.yml (Documentation/kube-flannel.yml at tag v0.28.9)");

    public const string Version = "v0.28.9";
    private const string UpstreamNetwork = "\"Network\": \"10.244.0.0/16\"";

    /// <summary>The manifest for <paramref name="podSubnet"/> (an IPv4 CIDR, checked here: it is written into YAML/JSON).</summary>
    public static string For(string podSubnet)
    {
        if (!IPNetwork.TryParse(podSubnet, out var network) || network.BaseAddress.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
            throw new ArgumentException($"'{podSubnet}' is not an IPv4 CIDR.", nameof(podSubnet));
        var manifest = Embedded();
        if (!manifest.Contains(UpstreamNetwork, StringComparison.Ordinal))
            throw new InvalidOperationException("The embedded Flannel manifest has no default Network to replace.");
        return manifest.Replace(UpstreamNetwork, $"\"Network\": \"{network}\"", StringComparison.Ordinal);
    }

    private static string Embedded() => Pinned.Load().Replace("\r\n", "\n", StringComparison.Ordinal);
}
