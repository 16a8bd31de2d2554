using System.Net;
using System.Reflection;

namespace Ksctl.Core.Distributions.Cni;

/// <summary>
/// Flannel's upstream manifest (a pinned release, embedded so that an air-gapped create needs no download), with
/// net-conf.json's "Network" set to the cluster's pod subnet: Flannel refuses pod CIDRs outside it.
/// </summary>
internal static class FlannelManifest
{
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

    private static string Embedded()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Ksctl.Core.Distributions.Cni.kube-flannel.yml")
            ?? throw new InvalidOperationException("The Flannel manifest is missing from Ksctl.Core.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Replace("\r\n", "\n", StringComparison.Ordinal);
    }
}
