namespace Ksctl.Core.Addons;

/// <summary>
/// Where each kind the pinned manifests use lives in the API: its resource (plural) and whether it is namespaced.
/// From the Kubernetes API reference (kubernetes.io/docs/reference/kubernetes-api/, each kind's "HTTP Request" paths:
/// /api/v1/namespaces/{namespace}/services, /apis/rbac.authorization.k8s.io/v1/clusterroles, ...). A kind not listed
/// is refused before anything is applied: a pinned manifest with a new kind needs a line here and a test.
/// </summary>
internal static class KubeResourceKinds
{
    public sealed record Resource(string Plural, bool Namespaced);

    private static readonly Dictionary<(string Group, string Kind), Resource> Known = new()
    {
        [("", "Namespace")] = new("namespaces", false),
        [("", "ServiceAccount")] = new("serviceaccounts", true),
        [("", "ConfigMap")] = new("configmaps", true),
        [("", "Secret")] = new("secrets", true),
        [("", "Service")] = new("services", true),
        [("apps", "Deployment")] = new("deployments", true),
        [("apps", "DaemonSet")] = new("daemonsets", true),
        [("batch", "Job")] = new("jobs", true),
        [("rbac.authorization.k8s.io", "ClusterRole")] = new("clusterroles", false),
        [("rbac.authorization.k8s.io", "ClusterRoleBinding")] = new("clusterrolebindings", false),
        [("rbac.authorization.k8s.io", "Role")] = new("roles", true),
        [("rbac.authorization.k8s.io", "RoleBinding")] = new("rolebindings", true),
        [("networking.k8s.io", "IngressClass")] = new("ingressclasses", false),
        [("admissionregistration.k8s.io", "ValidatingWebhookConfiguration")] = new("validatingwebhookconfigurations", false),
        [("admissionregistration.k8s.io", "MutatingWebhookConfiguration")] = new("mutatingwebhookconfigurations", false),
        [("apiregistration.k8s.io", "APIService")] = new("apiservices", false),
        [("apiextensions.k8s.io", "CustomResourceDefinition")] = new("customresourcedefinitions", false),
        [("policy", "PodDisruptionBudget")] = new("poddisruptionbudgets", true),
    };

    public static Resource? Find(string group, string kind) => Known.GetValueOrDefault((group, kind));

    /// <summary>The object's URL path (relative to the API server), e.g. /apis/apps/v1/namespaces/x/deployments/y.</summary>
    public static string Path(ManifestObject o)
    {
        var resource = Find(o.Group, o.Kind) ?? throw new InvalidDataException($"Ksctl does not know where {o.ApiVersion} {o.Kind} lives in the API.");
        var root = o.Group.Length == 0 ? $"/api/{o.Version}" : $"/apis/{o.Group}/{o.Version}";
        var scope = resource.Namespaced ? $"/namespaces/{Uri.EscapeDataString(o.Namespace ?? "default")}" : "";
        return $"{root}{scope}/{resource.Plural}/{Uri.EscapeDataString(o.Name)}";
    }
}
