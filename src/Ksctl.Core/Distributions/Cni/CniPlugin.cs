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
}

internal static class CniChoice
{
    public static readonly string[] Values = ["flannel", "none"];

    /// <summary>-Cni for a self-managed distribution: null means the default (flannel). Throws <see cref="InvalidSpecException"/>.</summary>
    public static CniPlugin Parse(DistributionKind distribution, string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "flannel" => CniPlugin.Flannel,
        "none" => CniPlugin.None,
        _ => throw new InvalidSpecException("Cni",
            $"'{value}' is not a pod network Ksctl installs on {distribution}; use flannel (the default) or none (then install your own, e.g. with -Application)."),
    };
}
