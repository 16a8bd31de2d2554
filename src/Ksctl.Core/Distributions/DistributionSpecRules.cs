using Ksctl.Core.Diagnostics;
using Ksctl.Core.Distributions.Cni;
using Ksctl.Core.Model;

namespace Ksctl.Core.Distributions;

/// <summary>
/// What a self-managed spec must satisfy for its distribution, whatever provider makes the machines. Checked with the
/// rest of the spec, before any state exists, so that a refusal changes nothing.
/// </summary>
internal static class DistributionSpecRules
{
    /// <summary>kubeadm.k8s.io/v1beta4, the config API Ksctl writes, needs kubeadm 1.31 or later.</summary>
    public static readonly Version KubeadmMinimum = new(1, 31);

    /// <summary>Throws <see cref="InvalidSpecException"/> naming the parameter.</summary>
    public static void Check(ClusterSpec spec)
    {
        var distribution = spec.Distribution ?? DistributionKind.K3s;
        CniChoice.Parse(distribution, spec.Cni);
        if (distribution == DistributionKind.Kubeadm && spec.KubernetesVersion is { } v
            && Version.TryParse(v, out var version) && version < KubeadmMinimum)
            throw new InvalidSpecException("KubernetesVersion",
                $"{v} is older than Kubeadm clusters support: Ksctl writes kubeadm's v1beta4 configuration, which needs Kubernetes {KubeadmMinimum.Major}.{KubeadmMinimum.Minor} or later (e.g. 1.33.1).");
    }
}
