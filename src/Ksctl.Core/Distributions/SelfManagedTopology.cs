using Ksctl.Core.Model;

namespace Ksctl.Core.Distributions;

/// <summary>One machine of a self-managed cluster: its stable key ("cp-1"), role and index.</summary>
public sealed record TopologyNode(string Key, NodeRole Role, int Index)
{
    /// <summary>The provider's step that makes this machine reachable; bootstrap steps depend on it.</summary>
    public string MachineStep => $"machine:{Key}";

    /// <summary>ksctl's resource name: &lt;cluster&gt;-vm-&lt;key&gt; (demo-vm-cp-0).</summary>
    public string ResourceName(string cluster) => $"{cluster}-vm-{Key}";

    public static string KeyFor(NodeRole role, int index) => role switch
    {
        NodeRole.LoadBalancer => "lb",
        NodeRole.Datastore => $"db-{index}",
        NodeRole.ControlPlane => $"cp-{index}",
        _ => $"wp-{index}",
    };
}

/// <summary>The HA shape: 1 load balancer, an odd number of etcd members, an odd number of control planes, workers.</summary>
public sealed class SelfManagedTopology
{
    public SelfManagedTopology(int etcd, int controlPlanes, int workers)
    {
        LoadBalancer = new TopologyNode("lb", NodeRole.LoadBalancer, 0);
        Datastores = Nodes(NodeRole.Datastore, etcd);
        ControlPlanes = Nodes(NodeRole.ControlPlane, controlPlanes);
        Workers = Nodes(NodeRole.Worker, workers);
    }

    public static SelfManagedTopology From(ClusterSpec spec) =>
        new(spec.EtcdCount ?? 3, spec.ControlPlaneCount ?? 3, spec.WorkerCount ?? 0);

    public TopologyNode LoadBalancer { get; }
    public IReadOnlyList<TopologyNode> Datastores { get; }
    public IReadOnlyList<TopologyNode> ControlPlanes { get; }
    public IReadOnlyList<TopologyNode> Workers { get; }
    public IEnumerable<TopologyNode> All => new[] { LoadBalancer }.Concat(Datastores).Concat(ControlPlanes).Concat(Workers);

    public TopologyNode this[string key] => All.First(n => n.Key == key);

    private static IReadOnlyList<TopologyNode> Nodes(NodeRole role, int count) =>
        Enumerable.Range(0, count).Select(i => new TopologyNode(TopologyNode.KeyFor(role, i), role, i)).ToArray();
}
