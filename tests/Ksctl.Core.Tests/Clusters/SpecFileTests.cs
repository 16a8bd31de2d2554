using Ksctl.Core.Clusters;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;

namespace Ksctl.Core.Tests.Clusters;

public sealed class SpecFileTests : IDisposable
{
    private readonly TempDir _dir = new("ksctl-spec");
    public void Dispose() => _dir.Dispose();

    private static string DefaultRegion(CloudProvider p) => p == CloudProvider.Local ? "LOCAL" : "eastus";

    private const string HaSpec = """
        name: prod
        provider: azure
        type: SelfManaged
        region: westeurope
        kubernetesVersion: v1.32.4
        distribution: kubeadm
        controlPlaneCount: 3
        workerCount: 2
        etcdCount: 3
        applications: [argocd, prometheus]
        machines:
          - address: 10.251.0.11
            role: controlplane
          - address: 10.251.0.12
            port: 2222
            user: ubuntu
            role: Worker
        trustOnFirstUse: true
        """;

    [Fact]
    public void A_yaml_spec_parses_into_a_typed_spec()
    {
        var path = _dir.Combine("spec.yaml");
        File.WriteAllText(path, HaSpec);

        var spec = SpecFile.Load(path).ToClusterSpec(DefaultRegion);

        Assert.Equal(new ClusterId(CloudProvider.Azure, ClusterType.SelfManaged, "prod", "westeurope"), spec.Id);
        Assert.Equal("1.32.4", spec.KubernetesVersion);
        Assert.Equal(DistributionKind.Kubeadm, spec.Distribution);
        Assert.Equal((3, 2, 3), (spec.ControlPlaneCount, spec.WorkerCount, spec.EtcdCount));
        Assert.Equal(["argocd", "prometheus"], spec.Applications);
        Assert.True(spec.TrustOnFirstUse);
        Assert.Equal(2, spec.Machines.Count);
        Assert.Equal(new MachineSpec { Address = "10.251.0.11", Role = NodeRole.ControlPlane }, spec.Machines[0]);
        Assert.Equal((2222, "ubuntu", NodeRole.Worker), (spec.Machines[1].Port, spec.Machines[1].User, spec.Machines[1].Role));
    }

    [Fact]
    public void Parameters_override_the_file_field_by_field()
    {
        var file = SpecFile.Parse(HaSpec, "spec.yaml");
        var merged = file.OverrideWith(new SpecFile { WorkerCount = 5, Region = "northeurope" }).ToClusterSpec(DefaultRegion);

        Assert.Equal(5, merged.WorkerCount);
        Assert.Equal("northeurope", merged.Id.Region);
        Assert.Equal(3, merged.ControlPlaneCount);
        Assert.Equal("prod", merged.Id.Name);
    }

    [Fact]
    public void A_missing_region_takes_the_providers_default_and_type_defaults_to_managed()
    {
        var spec = SpecFile.Parse("name: dev\nprovider: Local\nnodeCount: 3\n", "s").ToClusterSpec(DefaultRegion);
        Assert.Equal(Samples.LocalId("dev"), spec.Id);
        Assert.Equal(3, spec.NodeCount);
    }

    [Theory]
    [InlineData("name: x\nprovider: azur\n", "Provider", "azur")]
    [InlineData("name: x\nprovider: azure\ntype: managd\n", "Type", "managd")]
    [InlineData("name: x\nprovider: azure\ntype: selfmanaged\ndistribution: k4s\n", "Distribution", "k4s")]
    [InlineData("name: x\nprovider: baremetal\nmachines:\n  - address: 1.2.3.4\n    role: boss\n", "Machine", "boss")]
    [InlineData("provider: azure\n", "Name", "required")]
    public void An_unknown_value_names_the_field_and_the_allowed_values(string yaml, string field, string quoted)
    {
        var ex = Assert.Throws<InvalidSpecException>(() => SpecFile.Parse(yaml, "s.yaml").ToClusterSpec(DefaultRegion));
        Assert.Equal(field, ex.Parameter);
        Assert.Contains(quoted, ex.Message);
    }

    [Fact]
    public void Malformed_yaml_names_SpecPath_and_the_line()
    {
        var path = _dir.Combine("broken.yaml");
        File.WriteAllText(path, "name: x\nprovider: azure\nworkerCount: [1, 2\nregion: eastus\n");

        var ex = Assert.Throws<InvalidSpecException>(() => SpecFile.Load(path));

        Assert.Equal("SpecPath", ex.Parameter);
        Assert.Contains(path, ex.Message);
        Assert.Matches(@"at line [34],", ex.Message);
    }

    [Fact]
    public void A_wrongly_typed_field_names_SpecPath_and_the_line()
    {
        var ex = Assert.Throws<InvalidSpecException>(() => SpecFile.Parse("name: x\nprovider: azure\n\nnodeCount: lots\n", "s.yaml"));
        Assert.Equal("SpecPath", ex.Parameter);
        Assert.Contains("at line 4,", ex.Message);
    }

    [Fact]
    public void An_unreadable_file_names_SpecPath()
    {
        var ex = Assert.Throws<InvalidSpecException>(() => SpecFile.Load(_dir.Combine("missing.yaml")));
        Assert.Equal("SpecPath", ex.Parameter);
        Assert.Contains("missing.yaml", ex.Message);
    }

    [Theory]
    [InlineData("name: lab\nprovider: BareMetal\nmachines: [~]\n", "Machine")]
    [InlineData("name: lab\nprovider: '1'\n", "Provider")]
    [InlineData("name: lab\nprovider: Local,Azure\n", "Provider")]
    [InlineData("name: lab\nprovider: BareMetal\nmachines: [{address: 10.0.0.1, role: '3'}]\n", "Machine")]
    public void Null_entries_numbers_and_flag_lists_are_InvalidSpec_not_crashes_or_aliases(string yaml, string parameter)
    {
        var ex = Assert.Throws<InvalidSpecException>(() => SpecFile.Parse(yaml, "s.yaml").ToClusterSpec(_ => "LOCAL"));
        Assert.Equal(parameter, ex.Parameter);
    }
}
