using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;

namespace Ksctl.Core.Distributions.Cni;

/// <summary>The pod network a self-managed cluster gets (-Cni).</summary>
internal enum CniPlugin
{
    /// <summary>Flannel: K3s's built-in one, or for Kubeadm the pinned upstream manifest (<see cref="FlannelManifest"/>).</summary>
    Flannel,

    /// <summary>No pod network: the user installs one (nodes stay NotReady until then).</summary>
    None,

    /// <summary>Calico from its pinned upstream manifest (<see cref="CalicoManifest"/>), its pool set to the pod CIDR.</summary>
    Calico,
}

internal static class CniChoice
{
    public static readonly string[] Values = ["flannel", "calico", "none"];

    /// <summary>-Cni for a self-managed distribution: null means the default (flannel). Throws <see cref="InvalidSpecException"/>.</summary>
    public static CniPlugin Parse(DistributionKind distribution, string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "flannel" => CniPlugin.Flannel,
        "calico" => CniPlugin.Calico,
        "none" => CniPlugin.None,
        // Cilium publishes its install only as a Helm chart (and the cilium CLI that renders it): there is no released
        // plain manifest to pin (its last quick-install.yaml is v1.6). Until one is pinned, say so rather than guess.
        "cilium" => throw new InvalidSpecException("Cni",
            $"'{value}' is not installed by Ksctl on {distribution} yet: Cilium releases only a Helm chart, no manifest Ksctl can pin; use -Cni none and install it with helm or the cilium CLI, or use flannel (the default) or calico."),
        _ => throw new InvalidSpecException("Cni",
            $"'{value}' is not a pod network Ksctl installs on {distribution}; use flannel (the default), calico, or none (then install your own, e.g. with -Application)."),
    };

    /// <summary>Whether the distribution must run without its own pod network/policy controller (K3s: flannel and its network-policy controller off).</summary>
    public static bool ReplacesBuiltIn(CniPlugin plugin) => plugin != CniPlugin.Flannel;
}
