using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Ksctl.Core.Distributions;
using Ksctl.Core.Model;

namespace Ksctl.Core.Providers.Gcp;

/// <summary>
/// Names and URLs of a cluster's resources. Instances are zonal and subnets regional, so &lt;name&gt;-vm-&lt;key&gt; and
/// &lt;name&gt;-subnet are unique per region; networks and firewalls are global to the project, so theirs carry a short hash
/// of the cluster identity (two clusters named alike in two regions do not share them). Every name fits Compute's
/// RFC 1035 rule (compute-api.json: "[a-z]([-a-z0-9]*[a-z0-9])?", at most 63 characters) since cluster names are ≤ 50.
/// </summary>
internal sealed class GcpNames(string project, ClusterId cluster)
{
    private static readonly Regex Rfc1035 = new("^[a-z]([-a-z0-9]{0,61}[a-z0-9])?\\z", RegexOptions.CultureInvariant);
    public const string LabelCluster = "ksctl-cluster";

    public string Project => project;
    public ClusterId Cluster => cluster;

    /// <summary>6 hex characters of the identity: global names of two clusters that differ only in type or region differ.</summary>
    public static string Tag(ClusterId id) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{id.Type}|{id.Name}|{id.Region}".ToLowerInvariant())))[..6].ToLowerInvariant();

    public static string NetworkName(ClusterId id) => $"{id.Name}-{Tag(id)}-net";
    public static string SubnetName(ClusterId id) => $"{id.Name}-subnet";
    public static string FirewallName(ClusterId id, NodeRole role) => $"{id.Name}-{Tag(id)}-fw-{RoleSuffix(role)}";
    /// <summary>The network tag that puts an instance under its role's firewall rule.</summary>
    public static string RoleTag(ClusterId id, NodeRole role) => $"{id.Name}-{Tag(id)}-{RoleSuffix(role)}";
    public static string InstanceName(ClusterId id, TopologyNode node) => node.ResourceName(id.Name);
    public static string InstanceName(ClusterId id, string key) => $"{id.Name}-vm-{key}";

    /// <summary>The role suffix of firewalls, tags and machines: lb, db, cp, wp (as on the other clouds).</summary>
    public static string RoleSuffix(NodeRole role) => role switch
    {
        NodeRole.LoadBalancer => "lb",
        NodeRole.Datastore => "db",
        NodeRole.ControlPlane => "cp",
        _ => "wp",
    };

    /// <summary>The region of a region or zone ("us-central1-a" → "us-central1").</summary>
    public static string RegionOf(string location) => GcpLocations.IsZone(location) ? location[..location.LastIndexOf('-')] : location;

    /// <summary>The description Ksctl writes on networks, subnets and firewalls (they take no labels) and checks before deleting one.</summary>
    public static string Description(ClusterId id) => $"ksctl cluster {id.Name} ({id.Type}, {id.Region})";

    public static Dictionary<string, string> Labels(ClusterId id) => new()
    {
        [LabelCluster] = id.Name,
        ["ksctl-type"] = id.Type == ClusterType.Managed ? "managed" : "selfmanaged",
        ["ksctl-region"] = id.Region,
    };

    public static bool IsName(string? name) => name is not null && Rfc1035.IsMatch(name);

    /// <summary>An instance status as compute-api.json's Instance.status enum spells them (upper-case letters and '_').</summary>
    public static bool IsStatus(string status) => status.Length is > 0 and <= 20 && status.All(c => c is (>= 'A' and <= 'Z') or '_');

    public string Global(string collection, string name) => $"projects/{project}/global/{collection}/{name}";
    public string Regional(string region, string collection, string name) => $"projects/{project}/regions/{region}/{collection}/{name}";
    public string Zonal(string zone, string collection, string name) => $"projects/{project}/zones/{zone}/{collection}/{name}";
    public string NetworkPath => Global("networks", NetworkName(cluster));
    public string SubnetPath(string region) => Regional(region, "subnetworks", SubnetName(cluster));
}

/// <summary>GCP regions and zones as Compute names them (cloud.google.com/compute/docs/regions-zones).</summary>
internal static class GcpLocations
{
    private static readonly Regex Region = new("^[a-z]+-[a-z]+[0-9]{1,2}\\z", RegexOptions.CultureInvariant);
    private static readonly Regex Zone = new("^[a-z]+-[a-z]+[0-9]{1,2}-[a-z]\\z", RegexOptions.CultureInvariant);

    public static bool IsZone(string location) => Zone.IsMatch(location);
    public static bool IsRegion(string location) => Region.IsMatch(location);
}
