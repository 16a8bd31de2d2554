using Ksctl.Core;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Processes;
using Ksctl.Core.Providers;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ksctl.Gcp.Tests;

/// <summary>
/// The self-managed HA rules that Azure and GCP share (SpecRules.CloudSelfManaged, one rule for both): the same
/// parameters refused with the same rule, the same defaults, each cloud's own sizes and wording.
/// </summary>
public sealed class CloudSelfManagedRulesTests
{
    private static ICloudProvider Provider(CloudProvider cloud)
    {
        var home = Path.Combine(Path.GetTempPath(), "ksctl-rules-" + Guid.NewGuid().ToString("N"));
        var services = new KsctlServices(KsctlSettings.LoadFile(home), NullLoggerFactory.Instance, new ProcessRunner(), TimeProvider.System, null);
        return ProviderRegistry.CreateDefault(services).Get(cloud);
    }

    private static ClusterSpec Spec(CloudProvider cloud) =>
        new() { Id = new ClusterId(cloud, ClusterType.SelfManaged, "rules", cloud == CloudProvider.Gcp ? "us-central1" : "eastus") };

    public static TheoryData<CloudProvider, string> Refusals()
    {
        var data = new TheoryData<CloudProvider, string>();
        foreach (var cloud in new[] { CloudProvider.Azure, CloudProvider.Gcp })
            foreach (var parameter in new[] { "EtcdCount", "ControlPlaneCount", "WorkerCount", "NodeCount", "NodeSize", "Machine", "TrustOnFirstUse", "Application" })
                data.Add(cloud, parameter);
        return data;
    }

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Both_clouds_refuse_the_same_self_managed_fields(CloudProvider cloud, string parameter)
    {
        var spec = Spec(cloud);
        spec = parameter switch
        {
            "EtcdCount" => spec with { EtcdCount = 4 },
            "ControlPlaneCount" => spec with { ControlPlaneCount = 1 },
            "WorkerCount" => spec with { WorkerCount = 101 },
            "NodeCount" => spec with { NodeCount = 2 },
            "NodeSize" => spec with { NodeSize = "big" },
            "Machine" => spec with { Machines = [new MachineSpec { Address = "10.0.0.1", User = "root", Role = NodeRole.Worker }] },
            "TrustOnFirstUse" => spec with { TrustOnFirstUse = true },
            _ => spec with { Applications = ["traefik"] },
        };
        var e = Assert.Throws<InvalidSpecException>(() => Provider(cloud).Prepare(spec));
        Assert.Equal(parameter, e.Parameter);
        if (parameter is "Machine" or "TrustOnFirstUse") Assert.StartsWith(cloud == CloudProvider.Gcp ? "GCP" : "Azure", e.Rule);
    }

    [Theory]
    [InlineData(CloudProvider.Azure)]
    [InlineData(CloudProvider.Gcp)]
    public void Both_clouds_default_to_three_etcd_members_three_control_planes_one_worker_and_K3s(CloudProvider cloud)
    {
        var spec = Provider(cloud).Prepare(Spec(cloud));
        Assert.Equal((3, 3, 1, DistributionKind.K3s), (spec.EtcdCount, spec.ControlPlaneCount, spec.WorkerCount, spec.Distribution));
        Assert.Matches("^[0-9]+\\.[0-9]+\\.[0-9]+$", spec.KubernetesVersion!);
        var kubeadm = Provider(cloud).Prepare(Spec(cloud) with { Distribution = DistributionKind.Kubeadm });
        Assert.NotEqual(kubeadm.ControlPlaneSize, kubeadm.WorkerSize);
    }
}
