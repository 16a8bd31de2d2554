using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Ksctl.Core.Addons;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Kube;
using Ksctl.Core.Model;
using Ksctl.Core.Providers.CloudControllers;

namespace Ksctl.Core.Providers.Aws;

/// <summary>
/// cloud-provider-aws for self-managed clusters on EC2: the objects of kubernetes/cloud-provider-aws v1.33.4
/// examples/existing-cluster/base (the kustomization's five files, pinned byte for byte, see
/// CloudControllers/Manifests/README.md), and a Secret aws-cloud-controller-credentials (kube-system) with
/// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION, which the controller's container takes as its environment:
/// the controller signs in through the AWS SDK's standard chain, whose first source is those variables (the project's
/// docs/credential_provider.md and docs/prerequisites.md). v1.33 because it is the release line of the Kubernetes
/// version Ksctl installs on AWS (1.33), as the project releases one line per Kubernetes minor.
/// Ksctl's changes to the upstream objects, each because the example would not run on a Ksctl cluster as it is:
/// the image is the v1.33.4 release's (the example still names v1.27.1); the container gets <c>envFrom</c> the Secret
/// and <c>--cluster-name</c> the cluster's name (the name its load balancers are given); on K3s the control plane's
/// label value is "true" (kubeadm's is "", as upstream selects).
/// </summary>
internal static partial class AwsCloudController
{
    public const string Version = "v1.33.4";
    public const string Image = "registry.k8s.io/provider-aws/cloud-controller-manager:" + Version;
    public const string SecretName = "aws-cloud-controller-credentials";
    private const string Source = "kubernetes/cloud-provider-aws v1.33.4: examples/existing-cluster/base/";

    public static readonly IReadOnlyList<PinnedManifest> Manifests =
    [
        Pin("apiserver-authentication-reader-role-binding.yaml", "aws-ccm-apiserver-authentication-reader-role-binding.yaml", "7b1c43110064ac43717358c85d2308981d6606ccad18d02c1708106a205e56dc"),
        Pin("aws-cloud-controller-manager-daemonset.yaml", "aws-cloud-controller-manager-daemonset.yaml", "c7182ccf876dabee51a5e0f7155c667089a9a664536e4c2a33ac06ea8ce4c65e"),
        Pin("cluster-role-binding.yaml", "aws-ccm-cluster-role-binding.yaml", "94257525a59ad9e171bb1ecfdc35e282ae75021425d4c0c719933ba0024a0949"),
        Pin("cluster-role.yaml", "aws-ccm-cluster-role.yaml", "5d68da38f2f4e586e88be18dab44a55dcf4d245de670b5b23c80991b13196cdb"),
        Pin("service-account.yaml", "aws-ccm-service-account.yaml", "bc55f6b9af0c43fb357a7fad7875945b628e5d85dc056a39cb4ac22c4e68ad94"),
    ];

    private static PinnedManifest Pin(string upstream, string file, string sha256) =>
        new($"cloud-provider-aws {upstream}", Version, $"Ksctl.Core.Providers.CloudControllers.Manifests.{file}", sha256, Source + upstream);

    // An IAM user's long-term access key (AKIA...): temporary keys (ASIA...) expire within hours and the controller,
    // which runs for the cluster's life, would stop signing in.
    [GeneratedRegex(@"^AKIA[A-Z0-9]{12,124}\z", RegexOptions.CultureInvariant)]
    private static partial Regex LongTermKey();

    public static CloudControllerPackage Build(ClusterState state, CloudControllerContext context)
    {
        var credential = context.Credential;
        if (credential is not { HasSecret: true } || credential.UserName?.Trim() is not { } keyId || !LongTermKey().IsMatch(keyId))
            throw new InvalidSpecException("CloudController",
                "cloud-provider-aws needs a long-term access key for the cluster: give -Credential (user name = an IAM user's access key id, AKIA..., password = its secret access key). " +
                "Temporary keys, profiles and SSO sessions expire, and the controller runs for the cluster's life.");
        var id = state.Id;
        var data = new JsonObject
        {
            ["AWS_ACCESS_KEY_ID"] = Base64(keyId),
            ["AWS_SECRET_ACCESS_KEY"] = Base64(credential.Secret ?? ""),
            ["AWS_REGION"] = Base64(id.Region),
        };
        var secret = new ManifestObject("v1", "Secret", "kube-system", SecretName, new JsonObject
        {
            ["apiVersion"] = "v1", ["kind"] = "Secret",
            ["metadata"] = new JsonObject { ["name"] = SecretName, ["namespace"] = "kube-system", ["labels"] = new JsonObject { ["app.kubernetes.io/managed-by"] = "ksctl" } },
            ["type"] = "Opaque",
            ["data"] = data,
        });
        var objects = Manifests.SelectMany(m => ManifestObject.Parse(m.Load())).ToList();
        foreach (var o in objects.Where(o => o.Kind == "DaemonSet" && o.Name == "aws-cloud-controller-manager")) Adapt(o.Body, context, id.Name);
        return new CloudControllerPackage("cloud-provider-aws", Version, secret, objects);
    }

    private static string Base64(string value) => Convert.ToBase64String(Encoding.UTF8.GetBytes(value));

    /// <summary>The changes listed in the type's summary, on the DaemonSet's pod template.</summary>
    private static void Adapt(JsonObject daemonSet, CloudControllerContext context, string cluster)
    {
        var pod = (JsonObject)daemonSet["spec"]!["template"]!["spec"]!;
        var container = (JsonObject)pod["containers"]![0]!;
        container["image"] = Image;
        var args = (JsonArray)container["args"]!;
        args.Add($"--cluster-name={cluster}");
        container["envFrom"] = new JsonArray(new JsonObject { ["secretRef"] = new JsonObject { ["name"] = SecretName } });
        pod["nodeSelector"] = new JsonObject { ["node-role.kubernetes.io/control-plane"] = context.Distribution == DistributionKind.K3s ? "true" : "" };
    }
}

/// <summary>AWS offers -CloudController for self-managed clusters: <see cref="AwsCloudController"/>.</summary>
internal sealed partial class AwsProvider : ICloudControllerProvider
{
    public CloudControllerPackage CloudController(ClusterState state, CloudControllerContext context) => AwsCloudController.Build(state, context);
}
