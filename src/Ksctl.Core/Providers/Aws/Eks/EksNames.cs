using System.Security.Cryptography;
using System.Text;
using Ksctl.Core.Model;

namespace Ksctl.Core.Providers.Aws.Eks;

/// <summary>
/// Names of what Ksctl makes for an EKS cluster. The EKS cluster keeps the Ksctl name (EKS: 1-100 of
/// [0-9A-Za-z][A-Za-z0-9_-]*, so every Ksctl name fits); the network is named like every provider's (REFERENCE.md:
/// &lt;name&gt;-net, and &lt;name&gt;-subnet-&lt;i&gt;, -igw, -rt as the self-managed AWS network), and tagged ksctl-type=managed
/// so a self-managed cluster of the same name in the region (whose VPC is also &lt;name&gt;-net) is never taken for it.
/// IAM is global to the account, so role names carry the region and Ksctl's prefix (as Azure's managed resource group
/// does) to stay clear of the account's own roles; IAM role names are 1-64 of [\w+=,.@-] (IAM API reference,
/// CreateRole RoleName), so a long one is cut and given a short hash of the whole to stay unique.
/// </summary>
internal static class EksNames
{
    public const string TagCluster = "ksctl-cluster";
    public const string TagRegion = "ksctl-region";
    public const string TagType = "ksctl-type";
    public const string TypeValue = "managed";
    public const string NodegroupName = "ksctl-nodes";

    public static string Cluster(ClusterId id) => id.Name;
    public static string ClusterRole(ClusterId id) => Role(id, "eks-cluster");
    public static string NodeRole(ClusterId id) => Role(id, "eks-nodes");
    public static string Vpc(ClusterId id) => $"{id.Name}-net";
    public static string Subnet(ClusterId id, int index) => $"{id.Name}-subnet-{index}";
    public static string Gateway(ClusterId id) => $"{id.Name}-igw";
    public static string RouteTable(ClusterId id) => $"{id.Name}-rt";

    /// <summary>A stable clientRequestToken per cluster and purpose: a create whose answer was lost repeats with the same token.</summary>
    public static string RequestToken(ClusterId id, string purpose) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{id.Provider}/{id.Type}/{id.Name}/{id.Region}/{purpose}")))[..32].ToLowerInvariant();

    private static string Role(ClusterId id, string suffix)
    {
        var full = $"ksctl-{id.Name}-{id.Region}-{suffix}";
        if (full.Length <= 64) return full;
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(full)))[..8].ToLowerInvariant();
        return $"{full[..(64 - suffix.Length - 10)]}-{hash}-{suffix}";
    }

    public static Dictionary<string, string> Tags(ClusterId id) => new(StringComparer.Ordinal)
    {
        [TagCluster] = id.Name,
        [TagType] = TypeValue,
        [TagRegion] = id.Region,
    };
}
