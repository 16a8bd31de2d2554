using System.Text.RegularExpressions;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;

namespace Ksctl.Core.Providers.Aws.Eks;

/// <summary>
/// Validation and defaults of a managed EKS spec, before any request. Rules: a node group of 1-450 nodes (EKS service
/// quota "nodes per managed node group", EKS user guide "Amazon EKS service quotas"); an EC2 instance type's form
/// (family and generation, '.', size: t3.medium, m7g.large); Kubernetes versions in EKS's "1.NN" form
/// (CreateCluster's version member); no self-managed settings.
/// </summary>
internal static partial class EksSpec
{
    public const string DefaultNodeSize = "t3.medium";
    public const int MaxNodes = 450;

    public static ClusterSpec Prepare(ClusterSpec spec, int defaultNodeCount)
    {
        if (spec.WorkerCount is not null || spec.ControlPlaneCount is not null || spec.EtcdCount is not null || spec.Distribution is not null)
            throw new InvalidSpecException(spec.WorkerCount is not null ? "WorkerCount" : spec.ControlPlaneCount is not null ? "ControlPlaneCount" : spec.EtcdCount is not null ? "EtcdCount" : "Distribution",
                "applies to self-managed clusters only; a managed EKS cluster takes -NodeCount and -NodeSize.");
        var count = spec.NodeCount ?? defaultNodeCount;
        if (count < 1 || count > MaxNodes)
            throw new InvalidSpecException("NodeCount", $"{count} is outside 1-{MaxNodes} (an EKS managed node group holds at most {MaxNodes} nodes).");
        var size = spec.NodeSize ?? DefaultNodeSize;
        if (!InstanceType().IsMatch(size))
            throw new InvalidSpecException("NodeSize", $"'{size}' is not an EC2 instance type (family, '.', size, e.g. t3.medium or m7g.large).");
        if (spec.KubernetesVersion is { } v && !Version().IsMatch(v))
            throw new InvalidSpecException("KubernetesVersion", $"'{v}' is not an EKS version; give major.minor, e.g. 1.33.");
        return spec with { NodeCount = count, NodeSize = size };
    }

    [GeneratedRegex("^[a-z][a-z0-9-]*[0-9][a-z0-9-]*\\.[a-z0-9]+$")]
    private static partial Regex InstanceType();

    [GeneratedRegex("^1\\.[0-9]{1,2}$")]
    private static partial Regex Version();
}
