using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Ksctl.Core.Addons;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Kube;
using Ksctl.Core.Model;
using Ksctl.Core.Providers.CloudControllers;

namespace Ksctl.Core.Providers.Azure;

/// <summary>
/// cloud-provider-azure for self-managed clusters on Azure VMs: the cloud-controller-manager and cloud-node-manager
/// of kubernetes-sigs/cloud-provider-azure v1.36.5 (examples/out-of-tree, pinned, see CloudControllers/Manifests/README.md)
/// and the Secret azure-cloud-config (kube-system) with key azure.json, which that Deployment mounts at
/// /etc/kubernetes/cloud-config and reads with --cloud-config. azure.json's fields are those of the project's
/// docs/cloud-provider-config.md and examples/azure.json: a service principal (aadClientId/aadClientSecret in
/// tenantId), the subscription, and the names Ksctl gave the cluster's resource group, VNet, subnet and worker NSG,
/// vmType "standard" (VMs, not scale sets), loadBalancerSku "standard".
/// Ksctl's changes to the upstream objects, each because the example would not run on a Ksctl cluster as it is:
/// the placeholder Secret is replaced by the real one; --cluster-cidr is the distribution's pod CIDR and
/// --cluster-name the cluster's; the Deployment's nodeSelector node-role.kubernetes.io/master (no longer set by
/// kubeadm ≥ 1.24) becomes node-role.kubernetes.io/control-plane, and it tolerates the control-plane taints and
/// node.cloudprovider.kubernetes.io/uninitialized (every node carries it until a cloud controller runs).
/// </summary>
internal static partial class AzureCloudController
{
    public static readonly PinnedManifest ControllerManifest = new("cloud-provider-azure cloud-controller-manager", "v1.36.5",
        "Ksctl.Core.Providers.CloudControllers.Manifests.azure-cloud-controller-manager.yaml",
        "0c4c8c18b94e656c9b5b2119154c98fdebc2c0cc3ddbe8f90c5b53460cb82f61",
        "kubernetes-sigs/cloud-provider-azure v1.36.5: examples/out-of-tree/cloud-controller-manager.yaml");
    public static readonly PinnedManifest NodeManagerManifest = new("cloud-provider-azure cloud-node-manager", "v1.36.5",
        "Ksctl.Core.Providers.CloudControllers.Manifests.azure-cloud-node-manager.yaml",
        "c381774216d403f6272c82638e53ef4b5d41b652dedffcf5fcf73a147dd1bfa5",
        "kubernetes-sigs/cloud-provider-azure v1.36.5: examples/out-of-tree/cloud-node-manager.yaml");

    public const string SecretName = "azure-cloud-config";

    [GeneratedRegex("^/subscriptions/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})/resourceGroups/", RegexOptions.CultureInvariant)]
    private static partial Regex SubscriptionOfId();

    [GeneratedRegex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex GuidText();

    public static CloudControllerPackage Build(ClusterState state, CloudControllerContext context)
    {
        var credential = context.Credential;
        if (credential is not { HasSecret: true } || string.IsNullOrEmpty(credential.UserName) || credential.TenantId is not { } tenant || !GuidText().IsMatch(tenant)
            || !GuidText().IsMatch(credential.UserName))
            throw new InvalidSpecException("CloudController",
                "cloud-provider-azure needs a service principal for the cluster: give -Credential (user name = client id, password = client secret) and -TenantId.");
        // The subscription the cluster's resources were created in, from their recorded ids (checked: it goes into azure.json).
        var subscription = credential.SubscriptionId is { } given && GuidText().IsMatch(given)
            ? given
            : state.Resources.Values.Select(v => SubscriptionOfId().Match(v)).FirstOrDefault(m => m.Success)?.Groups[1].Value
              ?? throw new InvalidSpecException("CloudController", "the cluster's state records no Azure resource id to take the subscription from; give -SubscriptionId.");
        var id = state.Id;
        var config = new JsonObject
        {
            ["cloud"] = "AzurePublicCloud",
            ["tenantId"] = tenant,
            ["subscriptionId"] = subscription,
            ["aadClientId"] = credential.UserName,
            ["aadClientSecret"] = credential.Secret,
            ["resourceGroup"] = AzureNames.ResourceGroupName(id),
            ["location"] = id.Region,
            ["vmType"] = "standard",
            ["subnetName"] = AzureNames.SubnetName(id.Name),
            ["securityGroupName"] = AzureNames.SecurityGroupName(id.Name, NodeRole.Worker),
            ["vnetName"] = AzureNames.NetworkName(id.Name),
            ["vnetResourceGroup"] = AzureNames.ResourceGroupName(id),
            ["useManagedIdentityExtension"] = false,
            ["useInstanceMetadata"] = true,
            ["loadBalancerSku"] = "standard",
        };
        var secret = new ManifestObject("v1", "Secret", "kube-system", SecretName, new JsonObject
        {
            ["apiVersion"] = "v1", ["kind"] = "Secret",
            ["metadata"] = new JsonObject { ["name"] = SecretName, ["namespace"] = "kube-system", ["labels"] = new JsonObject { ["app.kubernetes.io/managed-by"] = "ksctl" } },
            ["type"] = "Opaque",
            ["data"] = new JsonObject { ["azure.json"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(config.ToJsonString())) },
        });
        var objects = ManifestObject.Parse(ControllerManifest.Load())
            .Where(o => !(o.Kind == "Secret" && o.Name == SecretName))
            .Concat(ManifestObject.Parse(NodeManagerManifest.Load()))
            .ToList();
        foreach (var o in objects.Where(o => o.Kind == "Deployment" && o.Name == "cloud-controller-manager")) Adapt(o.Body, context, id.Name);
        return new CloudControllerPackage("cloud-provider-azure", ControllerManifest.Version, secret, objects);
    }

    /// <summary>The changes listed in the type's summary, on the Deployment's pod template.</summary>
    private static void Adapt(JsonObject deployment, CloudControllerContext context, string cluster)
    {
        var pod = (JsonObject)deployment["spec"]!["template"]!["spec"]!;
        var container = (JsonObject)pod["containers"]![0]!;
        var args = (JsonArray)container["args"]!;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = (string?)args[i];
            if (arg?.StartsWith("--cluster-cidr=", StringComparison.Ordinal) == true) args[i] = $"--cluster-cidr={context.PodCidr}";
            else if (arg?.StartsWith("--cluster-name=", StringComparison.Ordinal) == true) args[i] = $"--cluster-name={cluster}";
        }
        // kubeadm labels control planes "" and K3s "true".
        pod["nodeSelector"] = new JsonObject { ["node-role.kubernetes.io/control-plane"] = context.Distribution == DistributionKind.K3s ? "true" : "" };
        pod["tolerations"] = new JsonArray(
            new JsonObject { ["key"] = "node-role.kubernetes.io/control-plane", ["operator"] = "Exists", ["effect"] = "NoSchedule" },
            new JsonObject { ["key"] = "node-role.kubernetes.io/master", ["operator"] = "Exists", ["effect"] = "NoSchedule" },
            new JsonObject { ["key"] = "CriticalAddonsOnly", ["operator"] = "Exists" },
            new JsonObject { ["key"] = "node.cloudprovider.kubernetes.io/uninitialized", ["operator"] = "Equal", ["value"] = "true", ["effect"] = "NoSchedule" });
    }
}

/// <summary>Azure offers -CloudController: <see cref="AzureCloudController"/>.</summary>
internal sealed partial class AzureProvider : ICloudControllerProvider
{
    public CloudControllerPackage CloudController(ClusterState state, CloudControllerContext context) => AzureCloudController.Build(state, context);
}
