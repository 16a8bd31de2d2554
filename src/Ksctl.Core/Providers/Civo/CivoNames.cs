using Ksctl.Core.Model;

namespace Ksctl.Core.Providers.Civo;

/// <summary>
/// Names of what Ksctl makes in Civo. Firewall and SSH-key names are unique per Civo <b>account</b>, not per region,
/// so every name carries the region: the same cluster name in two regions never collides. Tags mark what belongs to
/// a cluster (Civo tags instances and clusters; firewalls, keys and networks have none and are matched by recorded id
/// and name).
/// </summary>
internal static class CivoNames
{
    public const string Tag = "ksctl";

    public static string Scope(ClusterId id) => $"{id.Name}-{id.Region.ToLowerInvariant()}";
    public static string NameTag(string cluster) => $"ksctl-cluster-{cluster}";
    public static string ManagedFirewall(ClusterId id) => $"{Scope(id)}-kube-fw";
    public static string Network(ClusterId id) => $"{Scope(id)}-net";
    public static string SshKey(ClusterId id) => $"{Scope(id)}-ssh";
    public static string Firewall(ClusterId id, NodeRole role) => $"{Scope(id)}-fw-{CivoFirewallRules.Short(role)}";
    public static string Instance(string cluster, string nodeKey) => $"{cluster}-vm-{nodeKey}";

    /// <summary>Tags on every instance: Ksctl's, the cluster's (how orphans are found) and the node's role.</summary>
    public static string InstanceTags(string cluster, NodeRole role) => $"{Tag} {NameTag(cluster)} ksctl-role-{CivoFirewallRules.Short(role)}";

    public static bool Carries(IEnumerable<string>? tags, string cluster) => tags?.Contains(NameTag(cluster), StringComparer.Ordinal) == true;
}
