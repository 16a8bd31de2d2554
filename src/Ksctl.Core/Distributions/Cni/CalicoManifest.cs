using System.Net;
using Ksctl.Core.Kube;

namespace Ksctl.Core.Distributions.Cni;

/// <summary>
/// Calico's upstream manifest (manifests/calico.yaml at tag v3.32.1 of projectcalico/calico, see README.md), with the
/// default IPv4 pool set to the cluster's pod CIDR. The manifest ships CALICO_IPV4POOL_CIDR commented out; Calico's
/// own comment says the pool "should fall within `--cluster-cidr`", and its install guide ("Install Calico networking
/// and network policy for on-premises deployments") says to uncomment it and set it when the pod CIDR is not
/// 192.168.0.0/16. Ksctl always sets it, so K3s (cluster-cidr 10.42.0.0/16) and Kubeadm (podSubnet) get a pool
/// inside their pod CIDR.
/// </summary>
internal static class CalicoManifest
{
    public static readonly PinnedManifest Pinned = new(
        "Calico", "v3.32.1", "Ksctl.Core.Distributions.Cni.calico.yaml",
        "a1df919d9721cf667accdc3e72848911b0cb25cfab7d2478ad0c996302c95744",
        "https://github.com/projectcalico/calico/blob/v3.32.1/manifests/calico.yaml (commit 0ca9d1b93644778cafdf1812f3dda02ac0c361e8)");

    public static string Version => Pinned.Version;

    private const string UpstreamPool = "            # - name: CALICO_IPV4POOL_CIDR\n            #   value: \"192.168.0.0/16\"\n";

    /// <summary>The manifest for <paramref name="podCidr"/> (an IPv4 CIDR, checked here: it is written into YAML).</summary>
    public static string For(string podCidr)
    {
        if (!IPNetwork.TryParse(podCidr, out var network) || network.BaseAddress.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
            throw new ArgumentException($"'{podCidr}' is not an IPv4 CIDR.", nameof(podCidr));
        var manifest = Pinned.Load().Replace("\r\n", "\n", StringComparison.Ordinal);
        if (!manifest.Contains(UpstreamPool, StringComparison.Ordinal))
            throw new InvalidOperationException("The embedded Calico manifest has no commented CALICO_IPV4POOL_CIDR to set.");
        return manifest.Replace(UpstreamPool, $"            - name: CALICO_IPV4POOL_CIDR\n              value: \"{network}\"\n", StringComparison.Ordinal);
    }
}
