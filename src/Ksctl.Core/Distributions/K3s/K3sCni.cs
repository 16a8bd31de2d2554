using Ksctl.Core.Distributions.Cni;
using Ksctl.Core.Model;

namespace Ksctl.Core.Distributions.K3s;

/// <summary>
/// The pod network of a K3s cluster. Flannel is built in (nothing to apply); another CNI runs with
/// <c>--flannel-backend=none --disable-network-policy</c> (<see cref="K3sUnits"/>) and its pinned manifest is put in
/// k3s's auto-deploy folder on control plane 0, which k3s's deploy controller applies when the server starts
/// (docs.k3s.io/installation/packaged-components, "Auto-Deploying Manifests (AddOns)").
/// </summary>
internal static class K3sCni
{
    /// <summary>k3s's default --cluster-cidr (docs.k3s.io/cli/server): the pod CIDR the CNI's pool must fall in.</summary>
    public const string ClusterCidr = "10.42.0.0/16";
    public const string ManifestPath = K3sScripts.DataDir + "/server/manifests/ksctl-cni.yaml";

    /// <summary>The manifest to auto-deploy, or null when K3s's own Flannel (or no CNI at all) is wanted.</summary>
    public static string? Manifest(string? cni) => CniChoice.Parse(DistributionKind.K3s, cni) switch
    {
        CniPlugin.Calico => CalicoManifest.For(ClusterCidr),
        _ => null,
    };
}
