using System.Text.RegularExpressions;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Distributions.Artifacts;
using Ksctl.Core.Model;

namespace Ksctl.Core.Providers.Civo;

/// <summary>
/// Validation and defaults of a self-managed (HA) cluster on Civo instances, before any request: counts (odd etcd and
/// control-plane quorums), instance sizes (ksctl's defaults: g3.medium control planes and workers, g3.small etcd and
/// load balancer) and the fields that only managed clusters or BareMetal take.
/// </summary>
internal static class CivoHaSpec
{
    public const string DefaultKubernetesVersion = "1.33.1";
    public const string ControlPlaneSize = "g3.medium";
    public const string WorkerSize = "g3.medium";
    public const string EtcdSize = "g3.small";
    public const string LoadBalancerSize = "g3.small";
    public const int DefaultWorkers = 1;

    /// <summary>Civo's instance sizes (GET /v2/sizes, type Instance) as of this version, for completion and help.</summary>
    public static readonly string[] InstanceSizes =
    [
        "g3.xsmall", "g3.small", "g3.medium", "g3.large", "g3.xlarge", "g3.2xlarge",
        "g4s.xsmall", "g4s.small", "g4s.medium", "g4s.large", "g4s.xlarge", "g4s.2xlarge",
    ];

    // A Civo instance size is "<generation>.<name>"; the ".kube." and ".db." sizes belong to other products.
    private static readonly Regex InstanceSize = new(@"^g\d[a-z]*\.[a-z0-9]+\z", RegexOptions.CultureInvariant);

    public static ClusterSpec Prepare(ClusterSpec spec, ProviderDescriptor descriptor)
    {
        const string managedOnly = "applies to Managed Civo clusters; for SelfManaged ones use -ControlPlaneSize, -WorkerSize, -EtcdSize, -LoadBalancerSize and the counts.";
        SpecRules.NotApplicable("NodeCount", spec.NodeCount, managedOnly);
        SpecRules.NotApplicable("NodeSize", spec.NodeSize, managedOnly);
        SpecRules.NotApplicable("Application", spec.Applications, "marketplace applications are installed by Civo's managed Kubernetes only.");
        SpecRules.NotApplicable("Machine", spec.Machines, "Civo creates the machines; -Machine is for the BareMetal provider.");
        SpecRules.NotApplicable("TrustOnFirstUse", spec.TrustOnFirstUse, "Ksctl generates each Civo instance's host key and pins it from creation; there is nothing to trust on first use.");
        ArtifactSource.Parse(spec.ArtifactSource, spec.AllowInsecureArtifactSource);
        return spec with
        {
            Id = spec.Id with { Region = SpecRules.Region(descriptor, spec.Id.Region) },
            KubernetesVersion = SpecRules.Version(spec.KubernetesVersion, DefaultKubernetesVersion, requirePatch: true),
            Distribution = spec.Distribution ?? DistributionKind.K3s,
            EtcdCount = SpecRules.Count("EtcdCount", spec.EtcdCount, 3, 3, 9, odd: true),
            ControlPlaneCount = SpecRules.Count("ControlPlaneCount", spec.ControlPlaneCount, 3, 3, 9, odd: true),
            WorkerCount = SpecRules.Count("WorkerCount", spec.WorkerCount, DefaultWorkers, 0, 100),
            ControlPlaneSize = Size("ControlPlaneSize", spec.ControlPlaneSize, ControlPlaneSize),
            WorkerSize = Size("WorkerSize", spec.WorkerSize, WorkerSize),
            EtcdSize = Size("EtcdSize", spec.EtcdSize, EtcdSize),
            LoadBalancerSize = Size("LoadBalancerSize", spec.LoadBalancerSize, LoadBalancerSize),
        };
    }

    /// <summary>The instance size of a role in a prepared spec.</summary>
    public static string SizeOf(ClusterSpec spec, NodeRole role) => role switch
    {
        NodeRole.LoadBalancer => spec.LoadBalancerSize ?? LoadBalancerSize,
        NodeRole.Datastore => spec.EtcdSize ?? EtcdSize,
        NodeRole.ControlPlane => spec.ControlPlaneSize ?? ControlPlaneSize,
        _ => spec.WorkerSize ?? WorkerSize,
    };

    private static string Size(string parameter, string? value, string fallback)
    {
        var size = (value ?? fallback).Trim().ToLowerInvariant();
        if (!InstanceSize.IsMatch(size))
            throw new InvalidSpecException(parameter, $"'{value}' is not a Civo instance size (Kubernetes and database sizes cannot host instances); use one of {string.Join(", ", InstanceSizes)}.");
        return size;
    }
}
