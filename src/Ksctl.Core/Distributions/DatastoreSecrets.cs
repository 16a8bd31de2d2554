using Ksctl.Core.Model;

namespace Ksctl.Core.Distributions;

/// <summary>Names of the etcd client credentials in the state's secrets, and the datastore endpoints, shared by every distribution.</summary>
internal static class DatastoreSecrets
{
    public const string CaCertificate = "etcd:ca.crt";
    public const string CaKey = "etcd:ca.key";
    public const string ClientCertificate = "etcd:client.crt";
    public const string ClientKey = "etcd:client.key";

    /// <summary>Where control planes keep the client credentials.</summary>
    public const string RemoteFolder = "/etc/ksctl/etcd";

    public static IReadOnlyList<string> Endpoints(ClusterState state, SelfManagedTopology topology) =>
        topology.Datastores.Select(d => $"https://{state.Nodes.First(n => n.Key == d.Key).PrivateIP}:2379").ToArray();
}
