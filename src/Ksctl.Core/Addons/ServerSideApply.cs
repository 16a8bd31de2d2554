using System.Net;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Ksctl.Core.Diagnostics;

namespace Ksctl.Core.Addons;

/// <summary>
/// Applies and deletes manifest objects with KubernetesClient, the way the server-side apply documentation asks
/// (kubernetes.io/docs/reference/using-api/server-side-apply/): a PATCH with Content-Type application/apply-patch+yaml
/// (KubernetesClient's <see cref="V1Patch.PatchType.ApplyPatch"/>; the body is JSON, which is YAML), fieldManager
/// <see cref="FieldManager"/> (required for apply), and force=true: Ksctl installs and owns these objects, and the
/// page's advice for a manager that owns its objects is to force conflicts ("Conflicts": "it is strongly recommended
/// for controllers to always force conflicts"), so a field another manager took is taken back rather than left half
/// applied. A dry run (dryRun=All) of the objects runs before they are applied (see <see cref="AddonPlans"/>).
/// </summary>
internal sealed class ServerSideApply(IKubernetes client)
{
    public const string FieldManager = "ksctl";
    private const string DryRunAll = "All";

    public static IKubernetes Connect(string kubeconfig)
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(kubeconfig));
        return new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(stream));
    }

    public async Task ApplyAsync(ManifestObject o, bool dryRun, CancellationToken ct)
    {
        var patch = new V1Patch(o.Body.ToJsonString(), V1Patch.PatchType.ApplyPatch);
        var dry = dryRun ? DryRunAll : null;
        var resource = KubeResourceKinds.Find(o.Group, o.Kind) ?? throw new InvalidDataException($"Ksctl does not know where {o.ApiVersion} {o.Kind} lives in the API.");
        var ns = o.Namespace ?? "default";
        try
        {
            switch (o.Group, o.Kind)
            {
                case ("", "Namespace"): await client.CoreV1.PatchNamespaceAsync(patch, o.Name, dryRun: dry, fieldManager: FieldManager, force: true, cancellationToken: ct).ConfigureAwait(false); break;
                case ("", "ServiceAccount"): await client.CoreV1.PatchNamespacedServiceAccountAsync(patch, o.Name, ns, dryRun: dry, fieldManager: FieldManager, force: true, cancellationToken: ct).ConfigureAwait(false); break;
                case ("", "ConfigMap"): await client.CoreV1.PatchNamespacedConfigMapAsync(patch, o.Name, ns, dryRun: dry, fieldManager: FieldManager, force: true, cancellationToken: ct).ConfigureAwait(false); break;
                case ("", "Secret"): await client.CoreV1.PatchNamespacedSecretAsync(patch, o.Name, ns, dryRun: dry, fieldManager: FieldManager, force: true, cancellationToken: ct).ConfigureAwait(false); break;
                case ("", "Service"): await client.CoreV1.PatchNamespacedServiceAsync(patch, o.Name, ns, dryRun: dry, fieldManager: FieldManager, force: true, cancellationToken: ct).ConfigureAwait(false); break;
                case ("", _): throw new InvalidDataException($"Ksctl does not apply core {o.Kind} objects.");
                // Every other group has the /apis/{group}/{version} paths the custom-objects operations build.
                default:
                    if (resource.Namespaced)
                        await client.CustomObjects.PatchNamespacedCustomObjectAsync(patch, o.Group, o.Version, ns, resource.Plural, o.Name, dryRun: dry, fieldManager: FieldManager, force: true, cancellationToken: ct).ConfigureAwait(false);
                    else
                        await client.CustomObjects.PatchClusterCustomObjectAsync(patch, o.Group, o.Version, resource.Plural, o.Name, dryRun: dry, fieldManager: FieldManager, force: true, cancellationToken: ct).ConfigureAwait(false);
                    break;
            }
        }
        catch (HttpOperationException e)
        {
            throw Refused(o, dryRun ? "refused (dry run)" : "refused", e);
        }
    }

    /// <summary>Deletes the object (background propagation, as kubectl delete does); one that is already gone is fine.</summary>
    public async Task DeleteAsync(ManifestObject o, CancellationToken ct)
    {
        var options = new V1DeleteOptions { PropagationPolicy = "Background" };
        var resource = KubeResourceKinds.Find(o.Group, o.Kind) ?? throw new InvalidDataException($"Ksctl does not know where {o.ApiVersion} {o.Kind} lives in the API.");
        var ns = o.Namespace ?? "default";
        try
        {
            switch (o.Group, o.Kind)
            {
                case ("", "Namespace"): await client.CoreV1.DeleteNamespaceAsync(o.Name, options, cancellationToken: ct).ConfigureAwait(false); break;
                case ("", "ServiceAccount"): await client.CoreV1.DeleteNamespacedServiceAccountAsync(o.Name, ns, options, cancellationToken: ct).ConfigureAwait(false); break;
                case ("", "ConfigMap"): await client.CoreV1.DeleteNamespacedConfigMapAsync(o.Name, ns, options, cancellationToken: ct).ConfigureAwait(false); break;
                case ("", "Secret"): await client.CoreV1.DeleteNamespacedSecretAsync(o.Name, ns, options, cancellationToken: ct).ConfigureAwait(false); break;
                case ("", "Service"): await client.CoreV1.DeleteNamespacedServiceAsync(o.Name, ns, options, cancellationToken: ct).ConfigureAwait(false); break;
                case ("", _): throw new InvalidDataException($"Ksctl does not delete core {o.Kind} objects.");
                default:
                    if (resource.Namespaced)
                        await client.CustomObjects.DeleteNamespacedCustomObjectAsync(o.Group, o.Version, ns, resource.Plural, o.Name, options, cancellationToken: ct).ConfigureAwait(false);
                    else
                        await client.CustomObjects.DeleteClusterCustomObjectAsync(o.Group, o.Version, resource.Plural, o.Name, options, cancellationToken: ct).ConfigureAwait(false);
                    break;
            }
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            // Already gone (deleted by hand, or with its namespace): what Remove wants.
        }
        catch (HttpOperationException e)
        {
            throw Refused(o, "could not be deleted", e);
        }
    }

    /// <summary>The API's Status message (its "message" field), never the request: it carries no secret but is bounded.</summary>
    private static KsctlException Refused(ManifestObject o, string what, HttpOperationException e)
    {
        var message = "";
        try { message = (string?)System.Text.Json.Nodes.JsonNode.Parse(e.Response.Content ?? "")?["message"] ?? ""; }
        catch (System.Text.Json.JsonException) { message = ""; }
        if (message.Length > 400) message = message[..400] + "…";
        return new KsctlException("KsctlAddonApplyFailed", KsctlErrorCategory.InvalidOperation,
            $"{o} was {what} by the API server: {(int)e.Response.StatusCode} {message}".TrimEnd(), o.ToString());
    }
}
