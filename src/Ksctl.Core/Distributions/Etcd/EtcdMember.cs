using System.Net;

namespace Ksctl.Core.Distributions.Etcd;

/// <summary>One datastore member: "infra&lt;index&gt;" at a private IP.</summary>
public sealed record EtcdMember
{
    public EtcdMember(int index, string privateIp)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        if (!IPAddress.TryParse(privateIp, out _)) throw new ArgumentException($"'{privateIp}' is not an IP address.", nameof(privateIp));
        Index = index;
        PrivateIp = privateIp;
    }

    public int Index { get; }
    public string PrivateIp { get; }
    public string Name => $"infra{Index}";
    public string PeerUrl => $"https://{HostPart}:2380";
    public string ClientUrl => $"https://{HostPart}:2379";

    private string HostPart => PrivateIp.Contains(':') ? $"[{PrivateIp}]" : PrivateIp;

    /// <summary>Members infra0..infraN-1 in the order of the datastore machines.</summary>
    public static IReadOnlyList<EtcdMember> FromPrivateIps(IEnumerable<string> privateIps) =>
        privateIps.Select((ip, i) => new EtcdMember(i, ip)).ToList();

    /// <summary>"infra0=https://ip0:2380,infra1=..." for --initial-cluster.</summary>
    public static string InitialCluster(IEnumerable<EtcdMember> members) =>
        string.Join(',', members.OrderBy(m => m.Index).Select(m => $"{m.Name}={m.PeerUrl}"));

    /// <summary>"https://ip0:2379,https://ip1:2379,..." for clients (k3s --datastore-endpoint, kubeadm external etcd).</summary>
    public static string ClientEndpoints(IEnumerable<EtcdMember> members) =>
        string.Join(',', members.OrderBy(m => m.Index).Select(m => m.ClientUrl));
}
