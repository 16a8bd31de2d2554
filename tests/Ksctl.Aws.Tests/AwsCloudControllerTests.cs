using System.Text;
using System.Text.Json.Nodes;
using Ksctl.Addons.Tests;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Distributions.K3s;
using Ksctl.Core.Distributions.Kubeadm;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Providers;
using Ksctl.Core.Providers.Aws;
using Ksctl.Core.Providers.CloudControllers;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ksctl.Aws.Tests;

/// <summary>
/// -CloudController on AWS (issue #15): cloud-provider-aws's pinned objects adapted to the cluster, its credentials in
/// a kube-system Secret the container takes as its environment, the plan's step shown by -WhatIf without a request,
/// and the step applied through the strict fake Kubernetes API (Secret first, no credential in the state).
/// </summary>
[Collection(AwsEnvironmentCollection.Name)]
public sealed class AwsCloudControllerTests : IAsyncLifetime
{
    private const string KeyId = "AKIAKSCTLCONTROLLER1";
    private const string Secret = "controller/secret/0123456789abcdefghijklmn";
    private static readonly ProviderCredential Credential = new() { UserName = KeyId, Secret = Secret };
    private static readonly ClusterId Id = new(CloudProvider.Aws, ClusterType.SelfManaged, "web", "eu-west-1");
    private AwsTestBed _bed = null!;

    public async Task InitializeAsync() => _bed = await AwsTestBed.StartAsync();
    public async Task DisposeAsync() => await _bed.DisposeAsync();

    private static ClusterState State(DistributionKind distribution, string kubeconfig = "unused")
    {
        var state = new ClusterState { Id = Id, Spec = new ClusterSpec { Id = Id, Distribution = distribution, CloudController = true }, Status = ClusterStatus.Creating };
        state.Secrets[ClusterState.KubeconfigSecret] = kubeconfig;
        return state;
    }

    private ICloudControllerProvider Provider => Assert.IsAssignableFrom<ICloudControllerProvider>(_bed.Provider());

    [Theory]
    [InlineData(DistributionKind.Kubeadm, "")]
    [InlineData(DistributionKind.K3s, "true")]
    public void The_pinned_objects_are_adapted_and_the_Secret_holds_the_key_the_container_reads(DistributionKind distribution, string controlPlaneLabel)
    {
        var package = Provider.CloudController(State(distribution), new(distribution, distribution == DistributionKind.K3s ? K3sCni.ClusterCidr : KubeadmConfigs.PodSubnet, Credential));

        Assert.Equal(("cloud-provider-aws", "v1.33.4"), (package.Name, package.Version));
        Assert.Equal(("Secret", "kube-system", AwsCloudController.SecretName), (package.Secret.Kind, package.Secret.Namespace, package.Secret.Name));
        var data = ((JsonObject)package.Secret.Body["data"]!).ToDictionary(d => d.Key, d => Encoding.UTF8.GetString(Convert.FromBase64String((string)d.Value!)));
        Assert.Equal(new Dictionary<string, string> { ["AWS_ACCESS_KEY_ID"] = KeyId, ["AWS_SECRET_ACCESS_KEY"] = Secret, ["AWS_REGION"] = "eu-west-1" }, data);

        // The kustomization's five objects, the upstream RBAC unchanged.
        Assert.Equal(["ClusterRole/system:cloud-controller-manager", "ClusterRoleBinding/system:cloud-controller-manager", "DaemonSet/aws-cloud-controller-manager",
                      "RoleBinding/cloud-controller-manager:apiserver-authentication-reader", "ServiceAccount/cloud-controller-manager"],
            package.Objects.Select(o => $"{o.Kind}/{o.Name}").Order());
        var pod = package.Objects.Single(o => o.Kind == "DaemonSet").Body["spec"]!["template"]!["spec"]!;
        var container = pod["containers"]![0]!;
        Assert.Equal("registry.k8s.io/provider-aws/cloud-controller-manager:v1.33.4", (string?)container["image"]);
        Assert.Equal(AwsCloudController.SecretName, (string?)container["envFrom"]![0]!["secretRef"]!["name"]);
        var args = container["args"]!.AsArray().Select(a => (string?)a).ToList();
        Assert.Contains("--cloud-provider=aws", args);
        Assert.Contains("--cluster-name=web", args);
        Assert.Equal(controlPlaneLabel, (string?)pod["nodeSelector"]!["node-role.kubernetes.io/control-plane"]);
        Assert.Equal("cloud-controller-manager", (string?)pod["serviceAccountName"]);
    }

    [Fact]
    public void Every_self_managed_resource_carries_the_tag_the_controller_finds_the_cluster_by()
    {
        var tags = AwsNames.Tags(Id, AwsNames.Keys.Instance("cp-0"), "web-vm-cp-0");
        Assert.Contains(tags, t => t.Key == "kubernetes.io/cluster/web" && t.Value == "owned");
        Assert.Contains(AwsNames.TagSpec("subnet", Id, AwsNames.Keys.Subnet, "web-subnet").Tags, t => t.Key == "kubernetes.io/cluster/web");
    }

    [Fact]
    public void Without_a_long_term_access_key_the_controller_is_refused_naming_CloudController()
    {
        foreach (var credential in new ProviderCredential?[]
                 {
                     null,
                     new() { ProfileName = "dev" },
                     new() { UserName = "ASIAKSCTLSESSION0001", Secret = Secret },
                     new() { UserName = "AKIA\"}injected", Secret = Secret },
                 })
        {
            var e = Assert.Throws<InvalidSpecException>(() => Provider.CloudController(State(DistributionKind.K3s), new(DistributionKind.K3s, K3sCni.ClusterCidr, credential)));
            Assert.Equal("CloudController", e.Parameter);
        }
    }

    [Fact]
    public async Task WhatIf_shows_the_controller_step_after_the_kubeconfig_and_sends_nothing()
    {
        using var manager = _bed.NewManager();
        var (plan, existing) = await manager.PlanCreateAsync(new ClusterSpec { Id = Id, Distribution = DistributionKind.K3s, CloudController = true, WorkerCount = 1 }, CancellationToken.None);

        Assert.Null(existing);
        var step = Assert.Single(plan.Steps, s => s.Name == CloudControllerStep.Name);
        Assert.Contains("kubeconfig", step.DependsOn);
        Assert.Contains("Aws cloud controller manager", plan.Render());
        Assert.Empty(_bed.Aws.Requests);
    }

    [Fact]
    public async Task The_create_step_applies_the_Secret_first_then_the_controller_and_keeps_no_credential_in_the_state()
    {
        await using var api = await FakeKubeApi.StartAsync();
        var state = State(DistributionKind.Kubeadm, api.Kubeconfig());
        using var manager = new Ksctl.Core.Clusters.ClusterManager(Ksctl.Core.Configuration.KsctlSettings.Load(_bed.Home));
        var session = new StateSession(state, manager.Store);
        var step = CloudControllerStep.Create(Provider, state.Spec, Credential, KubeadmConfigs.PodSubnet, ["kubeconfig"]);

        await step.Run(new StepContext(session, step, NullLogger.Instance), CancellationToken.None);

        var patches = api.Log.Where(e => e.Method == "PATCH").ToList();
        Assert.Equal($"/api/v1/namespaces/kube-system/secrets/{AwsCloudController.SecretName}", patches[0].Path);
        Assert.False(patches[0].Query.ContainsKey("dryRun"));
        Assert.All(patches, p => Assert.Equal("ksctl", p.Query["fieldManager"]));
        Assert.Contains(patches, p => p.Path == "/apis/apps/v1/namespaces/kube-system/daemonsets/aws-cloud-controller-manager" && p.Query.GetValueOrDefault("dryRun") == "All");
        Assert.Contains(patches, p => p.Path == "/apis/apps/v1/namespaces/kube-system/daemonsets/aws-cloud-controller-manager" && !p.Query.ContainsKey("dryRun"));
        Assert.Contains(patches, p => p.Path == "/apis/rbac.authorization.k8s.io/v1/clusterroles/system:cloud-controller-manager" && !p.Query.ContainsKey("dryRun"));
        Assert.True(api.Objects.ContainsKey($"/secrets/kube-system/{AwsCloudController.SecretName}"));

        Assert.Equal("cloud-provider-aws v1.33.4", state.Resources[CloudControllerStep.Resource]);
        var document = System.Text.Json.JsonSerializer.Serialize(state);
        Assert.DoesNotContain(Secret, document);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(Secret)), document);
    }
}
