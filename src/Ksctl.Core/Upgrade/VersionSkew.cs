using Ksctl.Core.Diagnostics;

namespace Ksctl.Core.Upgrade;

/// <summary>
/// The upgrade rules every cluster is held to before anything is touched, from the Kubernetes version skew policy
/// (kubernetes.io/releases/version-skew-policy: in an HA cluster the newest and oldest kube-apiserver are at most one
/// minor apart; the kubelet is never newer than the apiserver) and kubeadm's upgrade guide
/// (kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade: "Skipping MINOR versions when upgrading is
/// unsupported"; upgrade from one MINOR to the next, or between PATCH versions of the same MINOR). So: one minor at a
/// time, never backwards, and the same rule for AKS ("upgrades to a newer minor must be one minor at a time",
/// learn.microsoft.com/azure/aks/upgrade-aks-cluster) and Civo (k3s's own rule, docs.k3s.io/upgrades).
/// </summary>
public static class VersionSkew
{
    public const string Parameter = "KubernetesVersion";

    /// <summary>
    /// Checks an upgrade from <paramref name="current"/> to <paramref name="target"/>; throws
    /// <see cref="InvalidSpecException"/> naming -KubernetesVersion and the rule. Returns false when the cluster is
    /// already at the target (nothing to do).
    /// </summary>
    public static bool Check(string? current, string target)
    {
        if (!KubernetesVersion.TryParse(target, out var to))
            throw new InvalidSpecException(Parameter, $"'{target}' is not a Kubernetes version; use major.minor.patch, e.g. 1.34.1.");
        if (!KubernetesVersion.TryParse(current, out var from))
            throw new InvalidSpecException(Parameter, $"the cluster's recorded version '{current}' cannot be read, so the version skew rules cannot be checked; nothing was changed.");
        // A minor alone ("1.30", as AKS takes it) is reached by any patch of that minor.
        var order = to.Patch is null ? (to.Major, to.Minor).CompareTo((from.Major, from.Minor)) : to.CompareTo(from);
        if (order == 0 && (to.Patch is null || from.Patch is not null)) return false;
        if (order < 0)
            throw new InvalidSpecException(Parameter, $"{target} is older than the cluster's {current}: downgrades are not supported (Kubernetes version skew policy); nothing was changed.");
        if (to.Major != from.Major)
            throw new InvalidSpecException(Parameter, $"{target} changes the major version of {current}; upgrade one minor version at a time (kubeadm upgrade rules); nothing was changed.");
        if (to.Minor > from.Minor + 1)
            throw new InvalidSpecException(Parameter, $"{target} skips minor versions: from {from.MinorText} the next upgrade is to {from.Major}.{from.Minor + 1} (one minor at a time, the version skew policy and kubeadm's upgrade rules); nothing was changed.");
        return true;
    }
}
