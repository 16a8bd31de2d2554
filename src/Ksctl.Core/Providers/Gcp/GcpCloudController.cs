using System.Text;
using System.Text.Json.Nodes;
using Ksctl.Core.Addons;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Kube;
using Ksctl.Core.Model;
using Ksctl.Core.Providers.CloudControllers;

namespace Ksctl.Core.Providers.Gcp;

/// <summary>
/// cloud-provider-gcp for self-managed clusters on Compute Engine: the cloud-controller-manager DaemonSet and its RBAC
/// of kubernetes/cloud-provider-gcp (deploy/packages/default/manifest.yaml at commit d72bf49dd "pin to
/// cloud-controller-manager tag", the first revision that names a versioned image, registry.k8s.io's v35.0.0; the
/// release tags up to v36.3.8 still name ":latest"; pinned, see CloudControllers/Manifests/README.md) and the
/// Secret gcp-cloud-config (kube-system) with cloud.config, the gcfg file the controller reads with --cloud-config
/// (providers/gce/gce.go ConfigGlobal: project-id, network-name, subnetwork-name, node-tags, node-instance-prefix,
/// regional, multizone), and key.json, the service-account key it
/// signs in with through Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS).
/// Ksctl's changes to the upstream objects, each because the package would not run on a Ksctl cluster as it is:
/// args ("args must be replaced by tooling") become --cloud-provider=gce, --cloud-config, --cluster-name,
/// --cluster-cidr (the distribution's pod CIDR), --allocate-node-cidrs=false and --configure-cloud-routes=false (the
/// CNI routes pods, not VPC routes), --use-service-account-credentials and --leader-elect; the hostPath
/// /etc/kubernetes/cloud.config becomes the Secret's volume; KUBERNETES_SERVICE_PORT=6443 joins the package's
/// KUBERNETES_SERVICE_HOST=127.0.0.1 (kops serves the API on 443, K3s and kubeadm on 6443).
/// </summary>
internal static class GcpCloudController
{
    public static readonly PinnedManifest ControllerManifest = new("cloud-provider-gcp cloud-controller-manager", "v35.0.0",
        "Ksctl.Core.Providers.CloudControllers.Manifests.gcp-cloud-controller-manager.yaml",
        "5e20f64573d7e83b9a03eca5e2266f013b930b3970e3d2819fd272f62a740d65",
        "kubernetes/cloud-provider-gcp d72bf49dd1d76e80e1be931544a5e6556efc5e7d: deploy/packages/default/manifest.yaml");

    public const string SecretName = "gcp-cloud-config";
    private const string MountPath = "/etc/kubernetes/cloud-config";

    /// <summary>The key comes from -CredentialPath, else GOOGLE_APPLICATION_CREDENTIALS naming a service-account key.</summary>
    public static CloudControllerPackage Build(ClusterState state, CloudControllerContext context)
    {
        var path = context.Credential?.CredentialPath ?? (Environment.GetEnvironmentVariable(GcpCredentials.CredentialsVariable) is { Length: > 0 } v ? v.Trim() : null);
        var keyJson = path is null ? null : ReadKey(path);
        if (keyJson is null)
            throw new InvalidSpecException("CloudController",
                "cloud-provider-gcp needs a service-account key for the cluster: give -CredentialPath <key.json> (or GOOGLE_APPLICATION_CREDENTIALS naming one); user credentials and the metadata server cannot be handed to a controller.");
        var id = state.Id;
        var project = state.Resources.GetValueOrDefault(GcpProvider.ProjectKey);
        if (project is null) throw new InvalidSpecException("CloudController", "the cluster's state records no GCP project yet; create the cluster's network first (re-run New-KsctlCluster).");
        GcpCredentials.CheckProject(project, "Project");
        var config = new StringBuilder()
            .Append("[global]\n")
            .Append("project-id = ").Append(project).Append('\n')
            .Append("network-name = ").Append(GcpNames.NetworkName(id)).Append('\n')
            .Append("subnetwork-name = ").Append(GcpNames.SubnetName(id)).Append('\n')
            .Append("node-tags = ").Append(GcpNames.RoleTag(id, NodeRole.Worker)).Append('\n')
            .Append("node-instance-prefix = ").Append(id.Name).Append("-vm-\n")
            .Append("regional = false\n")
            .Append("multizone = false\n")
            .ToString();
        var secret = new ManifestObject("v1", "Secret", "kube-system", SecretName, new JsonObject
        {
            ["apiVersion"] = "v1", ["kind"] = "Secret",
            ["metadata"] = new JsonObject { ["name"] = SecretName, ["namespace"] = "kube-system", ["labels"] = new JsonObject { ["app.kubernetes.io/managed-by"] = "ksctl" } },
            ["type"] = "Opaque",
            ["data"] = new JsonObject
            {
                ["cloud.config"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(config)),
                ["key.json"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(keyJson)),
            },
        });
        var objects = ManifestObject.Parse(ControllerManifest.Load()).ToList();
        foreach (var o in objects.Where(o => o.Kind == "DaemonSet" && o.Name == "cloud-controller-manager")) Adapt(o.Body, context, id.Name);
        return new CloudControllerPackage("cloud-provider-gcp", ControllerManifest.Version, secret, objects);
    }

    /// <summary>The key file's text when it is a service-account key (checked as -CredentialPath is), else null.</summary>
    private static string? ReadKey(string path)
    {
        GcpCredentials.ReadKeyFile(path, "CredentialPath");
        return File.ReadAllText(path);
    }

    /// <summary>The changes listed in the type's summary, on the DaemonSet's pod template.</summary>
    private static void Adapt(JsonObject daemonSet, CloudControllerContext context, string cluster)
    {
        var pod = (JsonObject)daemonSet["spec"]!["template"]!["spec"]!;
        var container = (JsonObject)pod["containers"]![0]!;
        container["args"] = new JsonArray(
            "--cloud-provider=gce",
            $"--cloud-config={MountPath}/cloud.config",
            $"--cluster-name={cluster}",
            $"--cluster-cidr={context.PodCidr}",
            "--allocate-node-cidrs=false",
            "--configure-cloud-routes=false",
            "--use-service-account-credentials=true",
            "--leader-elect=true",
            "--v=2");
        var env = container["env"] as JsonArray ?? [];
        env.Add(new JsonObject { ["name"] = "KUBERNETES_SERVICE_PORT", ["value"] = "6443" });
        env.Add(new JsonObject { ["name"] = GcpCredentials.CredentialsVariable, ["value"] = $"{MountPath}/key.json" });
        container["env"] = env;
        container["volumeMounts"] = new JsonArray(new JsonObject { ["mountPath"] = MountPath, ["name"] = "cloudconfig", ["readOnly"] = true });
        pod["volumes"] = new JsonArray(new JsonObject { ["name"] = "cloudconfig", ["secret"] = new JsonObject { ["secretName"] = SecretName, ["defaultMode"] = 0x100 } });
    }
}

/// <summary>GCP offers -CloudController: <see cref="GcpCloudController"/>.</summary>
internal sealed partial class GcpProvider : ICloudControllerProvider
{
    public CloudControllerPackage CloudController(ClusterState state, CloudControllerContext context) => GcpCloudController.Build(state, context);
}
