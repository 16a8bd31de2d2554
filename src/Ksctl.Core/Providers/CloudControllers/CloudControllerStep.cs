using Ksctl.Core.Addons;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;

namespace Ksctl.Core.Providers.CloudControllers;

/// <summary>
/// The create-plan step that installs the provider's cloud controller manager once the kubeconfig is captured: its
/// Secret, then a dry run and the apply of its objects, by server-side apply (<see cref="ServerSideApply"/>).
/// </summary>
internal static class CloudControllerStep
{
    public const string Name = "cloud-controller";
    public const string Resource = "cloud-controller";

    /// <summary>-CloudController is for self-managed clusters of a provider that offers a controller.</summary>
    public static void Validate(ClusterSpec spec, ICloudProvider provider)
    {
        if (!spec.CloudController) return;
        if (spec.Id.Type != ClusterType.SelfManaged)
            throw new InvalidSpecException("CloudController", "applies to self-managed clusters only (managed clusters run their cloud's own controller).");
        if (provider is not ICloudControllerProvider)
            throw new InvalidSpecException("CloudController", $"Ksctl installs no cloud controller manager for {spec.Id.Provider} clusters" + (spec.Id.Provider == CloudProvider.Civo
                ? ": Civo's controller (civo-cloud-controller-manager v0.1.9) finds nodes only among the instances of a Civo-managed Kubernetes cluster (FindKubernetesClusterInstance), which self-managed instances are not."
                : "."));
    }

    public static PlanStep Create(ICloudControllerProvider provider, ClusterSpec spec, ProviderCredential? credential, string podCidr, IReadOnlyList<string> after) =>
        new(Name, async (ctx, ct) =>
        {
            var package = ctx.Session.Read(s => provider.CloudController(s, new CloudControllerContext(spec.Distribution!.Value, podCidr, credential)));
            var kubeconfig = ctx.Session.Read(s => s.Secrets.GetValueOrDefault(ClusterState.KubeconfigSecret))
                ?? throw new KsctlException("KsctlKubeconfigMissing", KsctlErrorCategory.ObjectNotFound, "The cluster's state has no kubeconfig to reach its API server.");
            using var client = ServerSideApply.Connect(kubeconfig);
            var apply = new ServerSideApply(client);
            // kube-system exists on every cluster: the Secret goes first, so the controller never starts without it.
            await apply.ApplyAsync(package.Secret, dryRun: false, ct).ConfigureAwait(false);
            foreach (var o in package.Objects) await apply.ApplyAsync(o, dryRun: true, ct).ConfigureAwait(false);
            foreach (var o in package.Objects) await apply.ApplyAsync(o, dryRun: false, ct).ConfigureAwait(false);
            ctx.Mutate(s => s.Resources[Resource] = $"{package.Name} {package.Version}");
        })
        {
            DependsOn = after,
            Description = $"install {spec.Id.Provider}'s cloud controller manager (server-side apply; its credentials in a kube-system Secret)",
            Resources = [$"{spec.Id.Provider} cloud controller manager"],
        };
}
