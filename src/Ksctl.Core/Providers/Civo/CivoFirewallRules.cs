using Ksctl.Core.Model;

namespace Ksctl.Core.Providers.Civo;

/// <summary>
/// The rules of each role's firewall (<c>&lt;name&gt;-fw-{lb,db,cp,wp}</c>). Created with Civo's defaults off, so only these
/// hold. Every role: SSH (22/tcp) from anywhere, because Ksctl configures each machine over its public address; all
/// egress (packages, images). Then:
/// <list type="bullet">
/// <item>lb: the Kubernetes API (6443/tcp) from anywhere: kubeconfigs point at the load balancer.</item>
/// <item>db: etcd client and peer ports (2379-2380/tcp) from the private network only.</item>
/// <item>cp and wp: all TCP and UDP from the private network (API server via the LB, kubelet, the CNI's overlay and
/// whatever ports the chosen CNI needs), and for workers NodePorts (30000-32767/tcp) from anywhere.</item>
/// </list>
/// Rule labels are unique per firewall: they are how a re-run sees which rules already exist.
/// </summary>
internal static class CivoFirewallRules
{
    public const string Anywhere = "0.0.0.0/0";

    public static string Short(NodeRole role) => role switch
    {
        NodeRole.LoadBalancer => "lb",
        NodeRole.Datastore => "db",
        NodeRole.ControlPlane => "cp",
        _ => "wp",
    };

    public static IReadOnlyList<CivoFirewallRule> For(NodeRole role, string networkCidr)
    {
        var rules = new List<CivoFirewallRule>
        {
            Rule("ssh", "tcp", 22, 22, Anywhere),
            Rule("egress-tcp", "tcp", 1, 65535, Anywhere, "egress"),
            Rule("egress-udp", "udp", 1, 65535, Anywhere, "egress"),
        };
        switch (role)
        {
            case NodeRole.LoadBalancer:
                rules.Add(Rule("kube-api", "tcp", 6443, 6443, Anywhere));
                break;
            case NodeRole.Datastore:
                rules.Add(Rule("etcd", "tcp", 2379, 2380, networkCidr));
                break;
            case NodeRole.ControlPlane:
                rules.Add(Rule("cluster-tcp", "tcp", 1, 65535, networkCidr));
                rules.Add(Rule("cluster-udp", "udp", 1, 65535, networkCidr));
                break;
            default:
                rules.Add(Rule("cluster-tcp", "tcp", 1, 65535, networkCidr));
                rules.Add(Rule("cluster-udp", "udp", 1, 65535, networkCidr));
                rules.Add(Rule("nodeports", "tcp", 30000, 32767, Anywhere));
                break;
        }
        return rules;
    }

    /// <summary>
    /// The nodes of a managed cluster: the Kubernetes API (6443/tcp) and ingress (80, 443/tcp, Civo's default Traefik)
    /// from anywhere, all TCP/UDP within the network, all egress. No SSH: Civo manages those nodes.
    /// </summary>
    public static IReadOnlyList<CivoFirewallRule> Managed(string networkCidr) =>
    [
        Rule("kube-api", "tcp", 6443, 6443, Anywhere),
        Rule("http", "tcp", 80, 80, Anywhere),
        Rule("https", "tcp", 443, 443, Anywhere),
        Rule("cluster-tcp", "tcp", 1, 65535, networkCidr),
        Rule("cluster-udp", "udp", 1, 65535, networkCidr),
        Rule("egress-tcp", "tcp", 1, 65535, Anywhere, "egress"),
        Rule("egress-udp", "udp", 1, 65535, Anywhere, "egress"),
    ];

    /// <summary>A network's CIDR as Civo reported it, checked to be one (it goes into firewall rules); else nothing is opened to it.</summary>
    public static string Cidr(string? reported)
    {
        if (reported is not null && System.Net.IPNetwork.TryParse(reported, out var network) && network.ToString() == reported) return reported;
        throw new Diagnostics.KsctlException("KsctlCloudApiError", Diagnostics.KsctlErrorCategory.InvalidResult,
            $"Civo reported '{reported ?? "(none)"}' as a network's CIDR, which is not one; no firewall rule is opened to it.", "Civo");
    }

    private static CivoFirewallRule Rule(string label, string protocol, int start, int end, string cidr, string direction = "ingress") => new()
    {
        Label = label, Protocol = protocol, StartPort = start.ToString(System.Globalization.CultureInfo.InvariantCulture),
        EndPort = end.ToString(System.Globalization.CultureInfo.InvariantCulture), Cidr = [cidr], Direction = direction, Action = "allow",
    };
}
