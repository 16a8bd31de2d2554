using System.Text.RegularExpressions;
using Amazon.EC2.Model;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;

namespace Ksctl.Core.Providers.Aws;

/// <summary>
/// Names, tags and state keys of a self-managed cluster's AWS resources. Names follow the other providers
/// (REFERENCE.md: &lt;name&gt;-net, &lt;name&gt;-ssh, &lt;name&gt;-fw-{lb,db,cp,wp}, &lt;name&gt;-vm-&lt;key&gt;); every resource is
/// created with its tags in the same call (TagSpecifications), so a resource never exists untagged: ksctl-cluster
/// (the name), ksctl-type, ksctl-region and ksctl-resource (which one of the cluster's it is, to find it by tag), and
/// kubernetes.io/cluster/&lt;name&gt;=owned, the tag cloud-provider-aws finds a cluster's resources by.
/// </summary>
internal static class AwsNames
{
    public const string ClusterTag = "ksctl-cluster";
    public const string TypeTag = "ksctl-type";
    public const string RegionTag = "ksctl-region";
    public const string ResourceTag = "ksctl-resource";
    public const string VpcCidr = "172.31.0.0/16";
    public const string SubnetCidr = "172.31.0.0/20";
    public const string User = "ubuntu";

    // What EC2 ids look like (prefix, dash, 8 or 17 hex digits): a recorded id is checked before any request uses it.
    private static readonly Regex Id = new(@"^(vpc|subnet|igw|rtb|rtbassoc|sg|i|ami|key)-[0-9a-f]{8,17}\z", RegexOptions.CultureInvariant);

    public static string Vpc(string name) => $"{name}-net";
    public static string Subnet(string name) => $"{name}-subnet";
    public static string Gateway(string name) => $"{name}-igw";
    public static string RouteTable(string name) => $"{name}-rt";
    public static string KeyPair(string name) => $"{name}-ssh";
    public static string SecurityGroup(string name, NodeRole role) => $"{name}-fw-{RoleSuffix(role)}";
    public static string Instance(string name, string key) => $"{name}-vm-{key}";

    public static string RoleSuffix(NodeRole role) => role switch
    {
        NodeRole.LoadBalancer => "lb",
        NodeRole.Datastore => "db",
        NodeRole.ControlPlane => "cp",
        _ => "wp",
    };

    /// <summary>State keys (ClusterState.Resources) of the recorded ids.</summary>
    public static class Keys
    {
        public const string Vpc = "aws:vpc", Subnet = "aws:subnet", Gateway = "aws:igw", RouteTable = "aws:rtb", KeyPair = "aws:keypair";
        public static string SecurityGroup(NodeRole role) => $"aws:sg:{RoleSuffix(role)}";
        public static string Instance(string node) => $"aws:instance:{node}";
        public static string ClientToken(string node) => $"aws:token:{node}";
        public static string Image(string architecture) => $"aws:ami:{architecture}";
    }

    /// <summary>The ksctl-resource tag value of each resource (unique within a cluster).</summary>
    public static string ResourceValue(string stateKey) => stateKey["aws:".Length..].Replace(':', '-');

    public static List<Tag> Tags(ClusterId id, string stateKey, string name) =>
    [
        new() { Key = "Name", Value = name },
        new() { Key = ClusterTag, Value = id.Name },
        new() { Key = TypeTag, Value = id.Type == ClusterType.Managed ? "managed" : "selfmanaged" },
        new() { Key = RegionTag, Value = id.Region },
        new() { Key = ResourceTag, Value = ResourceValue(stateKey) },
        // cloud-provider-aws (-CloudController) finds the cluster's instances, subnets and security groups by this tag
        // (its docs/getting_started.md: kubernetes.io/cluster/<cluster id>=owned for resources the cluster owns).
        new() { Key = KubernetesClusterTag(id.Name), Value = "owned" },
    ];

    public static string KubernetesClusterTag(string cluster) => $"kubernetes.io/cluster/{cluster}";

    public static TagSpecification TagSpec(string resourceType, ClusterId id, string stateKey, string name) =>
        new() { ResourceType = resourceType, Tags = Tags(id, stateKey, name) };

    /// <summary>The filters that find one resource of this cluster by its tags.</summary>
    public static List<Filter> ByTag(ClusterId id, string stateKey) =>
    [
        new() { Name = $"tag:{ClusterTag}", Values = [id.Name] },
        new() { Name = $"tag:{TypeTag}", Values = [id.Type == ClusterType.Managed ? "managed" : "selfmanaged"] },
        new() { Name = $"tag:{ResourceTag}", Values = [ResourceValue(stateKey)] },
    ];

    /// <summary>Whether tags read back say the resource is this cluster's (checked before anything is deleted).</summary>
    public static bool Owned(IEnumerable<Tag>? tags, ClusterId id) =>
        tags?.Any(t => t.Key == ClusterTag && t.Value == id.Name) == true
        && tags.Any(t => t.Key == TypeTag && t.Value == (id.Type == ClusterType.Managed ? "managed" : "selfmanaged"));

    /// <summary>An id read from state or from EC2, or <see cref="StateInvalidException"/>-like refusal: it never reaches a request unchecked.</summary>
    public static string CheckId(string? value, string prefix, string what)
    {
        if (value is null || !Id.IsMatch(value) || !value.StartsWith(prefix + "-", StringComparison.Ordinal))
            throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidData,
                $"The recorded or reported {what} id is not an EC2 {prefix}- id ({(value is null ? "none" : $"{value.Length} characters, not shown")}); nothing was sent.", what);
        return value;
    }
}
