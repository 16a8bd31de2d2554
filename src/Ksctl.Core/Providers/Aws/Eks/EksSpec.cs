using System.Text.RegularExpressions;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;

namespace Ksctl.Core.Providers.Aws.Eks;

/// <summary>
/// Validation and defaults of a managed EKS spec, before any request. Rules: a node group of 1-450 nodes (EKS service
/// quota "nodes per managed node group", EKS user guide "Amazon EKS service quotas"); an EC2 instance type's form
/// (<see cref="AwsInstanceTypes.Validate"/>); Kubernetes versions in EKS's "1.NN" form
/// (CreateCluster's version member); no self-managed settings.
/// </summary>
internal static partial class EksSpec
{
    public const int MaxNodes = 450;

    public static ClusterSpec Prepare(ClusterSpec spec, int defaultNodeCount)
    {
        if (spec.WorkerCount is not null || spec.ControlPlaneCount is not null || spec.EtcdCount is not null || spec.Distribution is not null)
            throw new InvalidSpecException(spec.WorkerCount is not null ? "WorkerCount" : spec.ControlPlaneCount is not null ? "ControlPlaneCount" : spec.EtcdCount is not null ? "EtcdCount" : "Distribution",
                "applies to self-managed clusters only; a managed EKS cluster takes -NodeCount and -NodeSize.");
        var count = spec.NodeCount ?? defaultNodeCount;
        if (count < 1 || count > MaxNodes)
            throw new InvalidSpecException("NodeCount", $"{count} is outside 1-{MaxNodes} (an EKS managed node group holds at most {MaxNodes} nodes).");
        var size = AwsInstanceTypes.Validate("NodeSize", spec.NodeSize ?? AwsInstanceTypes.ManagedNodeDefault);
        if (spec.KubernetesVersion is { } v && !Version().IsMatch(v))
            throw new InvalidSpecException("KubernetesVersion", $"'{v}' is not an EKS version; give major.minor, e.g. 1.33.");
        return spec with { NodeCount = count, NodeSize = size };
    }

    [GeneratedRegex("^1\\.[0-9]{1,2}$")]
    private static partial Regex Version();
}
