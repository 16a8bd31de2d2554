using System.Text;
using System.Text.Json.Nodes;
using Ksctl.Addons.Tests;
using Ksctl.Core.Clusters;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Distributions.K3s;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Providers;
using Ksctl.Core.Providers.CloudControllers;
using Ksctl.Core.Providers.Gcp;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ksctl.Gcp.Tests;

/// <summary>
/// -CloudController on GCP: cloud-provider-gcp's Secret (cloud.config in the gcfg shape of providers/gce/gce.go, and the
/// service-account key it signs in with), the pinned DaemonSet adapted to the cluster, the -WhatIf plan, and the apply
/// through the strict FakeKubeApi by the create plan's step with no key material in the state.
/// </summary>
[Collection(GcpEnvironmentCollection.Name)]
public sealed class GcpCloudControllerTests : IAsyncLifetime
{
    private GcpTestBed _bed = null!;

    public async Task InitializeAsync() => _bed = await GcpTestBed.StartAsync();
    public async Task DisposeAsync() => await _bed.DisposeAsync();

    private static ClusterState State(string kubeconfig)
    {
        var id = new ClusterId(CloudProvider.Gcp, ClusterType.SelfManaged, "web", "us-central1");
        var state = new ClusterState { Id = id, Spec = new ClusterSpec { Id = id, Distribution = DistributionKind.K3s, CloudController = true }, Status = ClusterStatus.Creating };
        state.Resources["gcp:project"] = GcpEmulator.Project;
        state.Secrets[ClusterState.KubeconfigSecret] = kubeconfig;
        return state;
    }

    private ProviderCredential Key => new() { CredentialPath = _bed.KeyFile };

    [Fact]
    public void The_Secret_holds_cloud_config_for_the_clusters_network_and_the_service_account_key()
    {
        var state = State("unused");
        var package = GcpCloudController.Build(state, new(DistributionKind.K3s, K3sCni.ClusterCidr, Key));
        Assert.Equal(("cloud-provider-gcp", "v35.0.0"), (package.Name, package.Version));
        Assert.Equal(("Secret", "kube-system", "gcp-cloud-config"), (package.Secret.Kind, package.Secret.Namespace, package.Secret.Name));
        var data = (JsonObject)package.Secret.Body["data"]!;
        string Data(string key) => Encoding.UTF8.GetString(Convert.FromBase64String((string)data[key]!));
        var tag = GcpNames.Tag(state.Id);
        var config = Data("cloud.config").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("[global]", config[0]);
        Assert.Contains($"project-id = {GcpEmulator.Project}", config);
        Assert.Contains($"network-name = web-{tag}-net", config);
        Assert.Contains("subnetwork-name = web-subnet", config);
        Assert.Contains($"node-tags = web-{tag}-wp", config);
        Assert.Contains("node-instance-prefix = web-vm-", config);
        Assert.Equal(File.ReadAllText(_bed.KeyFile), Data("key.json"));

        var ds = package.Objects.Single(o => o.Kind == "DaemonSet" && o.Name == "cloud-controller-manager").Body;
        var container = ds["spec"]!["template"]!["spec"]!["containers"]![0]!;
        var args = container["args"]!.AsArray().Select(a => (string?)a).ToList();
        Assert.Contains("--cloud-provider=gce", args);
        Assert.Contains("--cloud-config=/etc/kubernetes/cloud-config/cloud.config", args);
        Assert.Contains($"--cluster-cidr={K3sCni.ClusterCidr}", args);
        Assert.Contains("--cluster-name=web", args);
        var env = container["env"]!.AsArray().ToDictionary(e => (string)e!["name"]!, e => (string?)e!["value"]);
        Assert.Equal(("127.0.0.1", "6443", "/etc/kubernetes/cloud-config/key.json"), (env["KUBERNETES_SERVICE_HOST"], env["KUBERNETES_SERVICE_PORT"], env["GOOGLE_APPLICATION_CREDENTIALS"]));
        Assert.Equal("gcp-cloud-config", (string?)ds["spec"]!["template"]!["spec"]!["volumes"]![0]!["secret"]!["secretName"]);
        Assert.DoesNotContain("hostPath", ds.ToJsonString());
        Assert.Contains(package.Objects, o => o.Kind == "ClusterRole" && o.Name == "system:cloud-controller-manager");
        Assert.Equal("registry.k8s.io/cloud-provider-gcp/cloud-controller-manager:v35.0.0", (string?)container["image"]);
    }

    [Fact]
    public void Without_a_service_account_key_the_controller_is_refused_naming_CloudController()
    {
        var none = Assert.Throws<InvalidSpecException>(() => GcpCloudController.Build(State("unused"), new(DistributionKind.K3s, K3sCni.ClusterCidr, null)));
        Assert.Equal("CloudController", none.Parameter);
        var user = Path.Combine(_bed.Home, "user.json");
        File.WriteAllText(user, _bed.Gcp.NewUser("dev@example.com").FileJson());
        var notAKey = Assert.Throws<InvalidSpecException>(() => GcpCloudController.Build(State("unused"), new(DistributionKind.K3s, K3sCni.ClusterCidr, new ProviderCredential { CredentialPath = user })));
        Assert.Equal("CredentialPath", notAKey.Parameter);
    }

    [Fact]
    public async Task WhatIf_shows_the_controller_step_and_sends_nothing()
    {
        using var manager = _bed.NewManager();
        var (plan, _) = await manager.PlanCreateAsync(new ClusterSpec { Id = new ClusterId(CloudProvider.Gcp, ClusterType.SelfManaged, "ccm", "us-central1"), CloudController = true }, CancellationToken.None);
        Assert.Contains(plan.Steps, s => s.Name == CloudControllerStep.Name);
        Assert.Contains("Gcp cloud controller manager", plan.Render());
        Assert.Empty(_bed.Gcp.Requests);
    }

    [Fact]
    public async Task The_create_step_applies_the_Secret_first_then_the_controller_and_keeps_no_key_in_the_state()
    {
        await using var api = await FakeKubeApi.StartAsync();
        var state = State(api.Kubeconfig());
        using var manager = _bed.NewManager();
        var provider = (ICloudControllerProvider)ProviderRegistry.CreateDefault(
            new Ksctl.Core.KsctlServices(_bed.Settings, NullLoggerFactory.Instance, new Ksctl.Core.Processes.ProcessRunner(), TimeProvider.System, null), gcp: _bed.Endpoints).Get(CloudProvider.Gcp);
        var step = CloudControllerStep.Create(provider, state.Spec, Key, K3sCni.ClusterCidr, ["kubeconfig"]);
        await step.Run(new StepContext(new StateSession(state, manager.Store), step, NullLogger.Instance), CancellationToken.None);

        var patches = api.Log.Where(e => e.Method == "PATCH").ToList();
        Assert.Equal("/api/v1/namespaces/kube-system/secrets/gcp-cloud-config", patches[0].Path);
        Assert.Contains(patches, p => p.Path == "/apis/apps/v1/namespaces/kube-system/daemonsets/cloud-controller-manager" && p.Query.GetValueOrDefault("dryRun") == "All");
        Assert.Contains(patches, p => p.Path == "/apis/apps/v1/namespaces/kube-system/daemonsets/cloud-controller-manager" && !p.Query.ContainsKey("dryRun"));
        Assert.Contains(patches, p => p.Path == "/apis/rbac.authorization.k8s.io/v1/clusterroles/system:cloud-controller-manager" && !p.Query.ContainsKey("dryRun"));
        Assert.All(patches, p => Assert.True(p.Status is >= 200 and < 300, $"{p.Path}: {p.Status} {p.Body}"));
        Assert.Equal("cloud-provider-gcp v35.0.0", state.Resources[CloudControllerStep.Resource]);
        var document = System.Text.Json.JsonSerializer.Serialize(state);
        Assert.DoesNotContain("PRIVATE KEY", document);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(File.ReadAllText(_bed.KeyFile))), document);
    }
}
