using System.Text;
using System.Text.Json.Nodes;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Distributions;
using Ksctl.Core.Distributions.K3s;
using Ksctl.Core.Distributions.Kubeadm;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Providers;
using Ksctl.Core.Providers.Azure;
using Ksctl.Core.Providers.CloudControllers;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ksctl.Addons.Tests;

/// <summary>
/// -CloudController (issue #15): the distribution flags for an external cloud provider, cloud-provider-azure's
/// Secret in the shape its docs give (azure-cloud-config / azure.json), and the controller applied through
/// <see cref="FakeKubeApi"/> by the create plan's step, with no credential in the state.
/// </summary>
public sealed class CloudControllerTests
{
    private const string Tenant = "11111111-2222-3333-4444-555555555555";
    private const string Client = "66666666-7777-8888-9999-000000000000";
    private const string Subscription = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
    private const string ClientSecret = "s3cr3t-client-secret-value";
    private static readonly ProviderCredential Credential = new() { UserName = Client, Secret = ClientSecret, TenantId = Tenant };

    private static ClusterState AzureState(string kubeconfig)
    {
        var id = new ClusterId(CloudProvider.Azure, ClusterType.SelfManaged, "web", "westeurope");
        var state = new ClusterState
        {
            Id = id,
            Spec = new ClusterSpec { Id = id, Distribution = DistributionKind.Kubeadm, CloudController = true },
            Status = ClusterStatus.Creating,
        };
        state.Resources["network"] = $"/subscriptions/{Subscription}/resourceGroups/ksctl-resgrp-selfmanaged-web/providers/Microsoft.Network/virtualNetworks/web-net";
        state.Secrets[ClusterState.KubeconfigSecret] = kubeconfig;
        return state;
    }

    [Fact]
    public void K3s_runs_without_its_cloud_controller_and_every_kubelet_with_an_external_cloud_provider()
    {
        string[] endpoints = ["https://10.0.0.2:2379"];
        var server = K3sUnits.Server(endpoints, "1.2.3.4", "10.0.0.1", null, null, externalCloudProvider: true);
        Assert.Contains("'--disable-cloud-controller'", server);
        Assert.Contains("'--kubelet-arg=cloud-provider=external'", server);
        Assert.Contains("'--kubelet-arg=cloud-provider=external'", K3sUnits.Agent("https://10.0.0.1:6443", externalCloudProvider: true));
        Assert.DoesNotContain("cloud", K3sUnits.Server(endpoints, "1.2.3.4", "10.0.0.1", null, null));
        Assert.DoesNotContain("cloud-provider", K3sUnits.Agent("https://10.0.0.1:6443"));
    }

    [Fact]
    public void Kubeadm_nodes_register_with_cloud_provider_external_in_kubeletExtraArgs()
    {
        var init = KubeadmConfigs.Init("1.33.1", "10.0.0.5", "1.2.3.4", "10.0.0.1", ["https://10.0.0.2:2379"], "abcdef.0123456789abcdef", new string('a', 64), externalCloudProvider: true);
        var join = KubeadmConfigs.Join("10.0.0.1", "abcdef.0123456789abcdef", new string('b', 64), null, "10.0.0.6", externalCloudProvider: true);
        foreach (var config in new[] { init, join })
        {
            var docs = new YamlDotNet.Serialization.Deserializer().Deserialize<Dictionary<string, object>>(config.Split("---")[0]);
            var registration = (Dictionary<object, object>)docs["nodeRegistration"];
            var args = Assert.Single((List<object>)registration["kubeletExtraArgs"]);
            Assert.Equal(new Dictionary<object, object> { ["name"] = "cloud-provider", ["value"] = "external" }, (Dictionary<object, object>)args);
        }
        Assert.DoesNotContain("kubeletExtraArgs", KubeadmConfigs.Join("10.0.0.1", "abcdef.0123456789abcdef", new string('b', 64), null, "10.0.0.6"));
    }

    [Fact]
    public void The_Azure_Secret_is_azure_json_with_the_service_principal_and_the_clusters_resource_names()
    {
        var package = AzureCloudController.Build(AzureState("unused"), new(DistributionKind.Kubeadm, KubeadmConfigs.PodSubnet, Credential));
        Assert.Equal(("Secret", "kube-system", "azure-cloud-config"), (package.Secret.Kind, package.Secret.Namespace, package.Secret.Name));
        var data = (JsonObject)package.Secret.Body["data"]!;
        Assert.Equal(["azure.json"], data.Select(d => d.Key));
        var json = JsonNode.Parse(Encoding.UTF8.GetString(Convert.FromBase64String((string)data["azure.json"]!)))!.AsObject();
        Assert.Equal("AzurePublicCloud", (string?)json["cloud"]);
        Assert.Equal(Tenant, (string?)json["tenantId"]);
        Assert.Equal(Subscription, (string?)json["subscriptionId"]);
        Assert.Equal(Client, (string?)json["aadClientId"]);
        Assert.Equal(ClientSecret, (string?)json["aadClientSecret"]);
        Assert.Equal("ksctl-resgrp-selfmanaged-web", (string?)json["resourceGroup"]);
        Assert.Equal("westeurope", (string?)json["location"]);
        Assert.Equal("standard", (string?)json["vmType"]);
        Assert.Equal(("web-net", "web-subnet", "web-fw-wp"), ((string?)json["vnetName"], (string?)json["subnetName"], (string?)json["securityGroupName"]));
        Assert.False((bool)json["useManagedIdentityExtension"]!);

        // The upstream placeholder Secret is not among the objects; the Deployment is adapted to the cluster.
        Assert.DoesNotContain(package.Objects, o => o.Kind == "Secret");
        var deployment = package.Objects.Single(o => o.Kind == "Deployment").Body;
        var args = deployment["spec"]!["template"]!["spec"]!["containers"]![0]!["args"]!.AsArray().Select(a => (string?)a).ToList();
        Assert.Contains($"--cluster-cidr={KubeadmConfigs.PodSubnet}", args);
        Assert.Contains("--cluster-name=web", args);
        Assert.Contains("--cloud-config=/etc/kubernetes/cloud-config/azure.json", args);
        Assert.Equal("", (string?)deployment["spec"]!["template"]!["spec"]!["nodeSelector"]!["node-role.kubernetes.io/control-plane"]);
        Assert.Contains(deployment["spec"]!["template"]!["spec"]!["tolerations"]!.AsArray(), t => (string?)t!["key"] == "node.cloudprovider.kubernetes.io/uninitialized");
        Assert.Contains(package.Objects, o => o.Kind == "DaemonSet" && o.Name == "cloud-node-manager");
    }

    [Fact]
    public void Without_a_service_principal_the_Azure_controller_is_refused_naming_CloudController()
    {
        var error = Assert.Throws<InvalidSpecException>(() => AzureCloudController.Build(AzureState("unused"), new(DistributionKind.K3s, K3sCni.ClusterCidr, null)));
        Assert.Equal("CloudController", error.Parameter);
        var notAClientId = new ProviderCredential { UserName = "not-a-guid\"}", Secret = "x", TenantId = Tenant };
        Assert.Throws<InvalidSpecException>(() => AzureCloudController.Build(AzureState("unused"), new(DistributionKind.K3s, K3sCni.ClusterCidr, notAClientId)));
    }

    [Theory]
    [InlineData(CloudProvider.Civo, ClusterType.SelfManaged, "FindKubernetesClusterInstance")]
    [InlineData(CloudProvider.Azure, ClusterType.Managed, "self-managed clusters only")]
    public void Providers_without_a_usable_controller_and_managed_clusters_are_refused(CloudProvider provider, ClusterType type, string reason)
    {
        var id = new ClusterId(provider, type, "web", "LON1");
        var error = Assert.Throws<InvalidSpecException>(() => CloudControllerStep.Validate(new ClusterSpec { Id = id, CloudController = true },
            provider == CloudProvider.Civo ? new CivoLike() : new AzureLike()));
        Assert.Equal("CloudController", error.Parameter);
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public async Task The_create_step_applies_the_Secret_first_then_the_controller_and_keeps_no_credential_in_the_state()
    {
        await using var api = await FakeKubeApi.StartAsync();
        var state = AzureState(api.Kubeconfig());
        var home = Directory.CreateTempSubdirectory("ksctl-ccm-").FullName;
        using var manager = new Ksctl.Core.Clusters.ClusterManager(Ksctl.Core.Configuration.KsctlSettings.Load(home));
        var session = new StateSession(state, manager.Store);
        var step = CloudControllerStep.Create(new AzureLike(), state.Spec, Credential, KubeadmConfigs.PodSubnet, ["kubeconfig"]);
        Assert.Equal(["kubeconfig"], step.DependsOn);
        await step.Run(new StepContext(session, step, NullLogger.Instance), CancellationToken.None);

        var patches = api.Log.Where(e => e.Method == "PATCH").ToList();
        Assert.Equal("/api/v1/namespaces/kube-system/secrets/azure-cloud-config", patches[0].Path);
        Assert.False(patches[0].Query.ContainsKey("dryRun"));
        Assert.All(patches, p => Assert.Equal("ksctl", p.Query["fieldManager"]));
        Assert.Contains(patches, p => p.Path == "/apis/apps/v1/namespaces/kube-system/deployments/cloud-controller-manager" && !p.Query.ContainsKey("dryRun"));
        Assert.Contains(patches, p => p.Path == "/apis/apps/v1/namespaces/kube-system/daemonsets/cloud-node-manager" && p.Query.GetValueOrDefault("dryRun") == "All");
        Assert.True(api.Objects.ContainsKey("/secrets/kube-system/azure-cloud-config"));

        Assert.Equal("cloud-provider-azure v1.36.5", state.Resources[CloudControllerStep.Resource]);
        var document = System.Text.Json.JsonSerializer.Serialize(state);
        Assert.DoesNotContain(ClientSecret, document);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(ClientSecret)), document);
        try { Directory.Delete(home, true); } catch (IOException) { }
    }

    /// <summary>Azure's controller without the ARM client (the step touches only the cluster's API).</summary>
    private sealed class AzureLike : ICloudControllerProvider, ICloudProvider
    {
        public CloudControllerPackage CloudController(ClusterState state, CloudControllerContext context) => AzureCloudController.Build(state, context);
        public ProviderDescriptor Descriptor => throw new NotSupportedException();
        public ClusterSpec Prepare(ClusterSpec spec) => spec;
    }

    private sealed class CivoLike : ICloudProvider
    {
        public ProviderDescriptor Descriptor => throw new NotSupportedException();
        public ClusterSpec Prepare(ClusterSpec spec) => spec;
    }
}
