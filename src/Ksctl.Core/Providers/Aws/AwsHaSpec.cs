using Ksctl.Core.Distributions.Artifacts;
using Ksctl.Core.Model;

namespace Ksctl.Core.Providers.Aws;

/// <summary>
/// Validation and defaults of a self-managed (HA) cluster on EC2, before any request: odd etcd and control-plane
/// quorums, instance types (current generation: t3.small load balancer, t3.medium etcd and control planes, t3.large
/// workers), and the fields that only managed clusters or BareMetal take.
/// </summary>
internal static class AwsHaSpec
{
    public const string LoadBalancerSize = "t3.small";
    public const string EtcdSize = "t3.medium";
    public const string ControlPlaneSize = "t3.medium";
    public const string WorkerSize = "t3.large";

    public static ClusterSpec Prepare(ClusterSpec spec, ProviderDescriptor descriptor)
    {
        const string managedOnly = "applies to Managed clusters; for SelfManaged ones use -ControlPlaneSize, -WorkerSize, -EtcdSize, -LoadBalancerSize and the counts.";
        SpecRules.NotApplicable("NodeCount", spec.NodeCount, managedOnly);
        SpecRules.NotApplicable("NodeSize", spec.NodeSize, managedOnly);
        SpecRules.NotApplicable("Application", spec.Applications, "applies to Managed clusters on Civo.");
        SpecRules.NotApplicable("Machine", spec.Machines, "AWS creates the machines; -Machine is for the BareMetal provider.");
        SpecRules.NotApplicable("TrustOnFirstUse", spec.TrustOnFirstUse, "Ksctl generates each EC2 instance's host key and pins it from creation; there is nothing to trust on first use.");
        ArtifactSource.Parse(spec.ArtifactSource, spec.AllowInsecureArtifactSource);
        return spec with
        {
            Id = spec.Id with { Region = SpecRules.Region(descriptor, spec.Id.Region) },
            KubernetesVersion = SpecRules.Version(spec.KubernetesVersion, AwsInstanceTypes.SelfManagedKubernetesVersion, requirePatch: true),
            Distribution = spec.Distribution ?? DistributionKind.K3s,
            EtcdCount = SpecRules.Count("EtcdCount", spec.EtcdCount, 3, 3, 7, odd: true),
            ControlPlaneCount = SpecRules.Count("ControlPlaneCount", spec.ControlPlaneCount, 3, 3, 7, odd: true),
            WorkerCount = SpecRules.Count("WorkerCount", spec.WorkerCount, 1, 0, 100),
            ControlPlaneSize = AwsInstanceTypes.Validate("ControlPlaneSize", spec.ControlPlaneSize ?? ControlPlaneSize),
            EtcdSize = AwsInstanceTypes.Validate("EtcdSize", spec.EtcdSize ?? EtcdSize),
            LoadBalancerSize = AwsInstanceTypes.Validate("LoadBalancerSize", spec.LoadBalancerSize ?? LoadBalancerSize),
            WorkerSize = AwsInstanceTypes.Validate("WorkerSize", spec.WorkerSize ?? WorkerSize),
        };
    }

    public static string SizeOf(ClusterSpec spec, NodeRole role) => role switch
    {
        NodeRole.LoadBalancer => spec.LoadBalancerSize ?? LoadBalancerSize,
        NodeRole.Datastore => spec.EtcdSize ?? EtcdSize,
        NodeRole.ControlPlane => spec.ControlPlaneSize ?? ControlPlaneSize,
        _ => spec.WorkerSize ?? WorkerSize,
    };

    public static string Architecture(string instanceType) => AwsInstanceTypes.IsArm(instanceType) ? "arm64" : "amd64";
}
