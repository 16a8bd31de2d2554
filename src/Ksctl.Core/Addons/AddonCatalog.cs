using Ksctl.Core.Diagnostics;
using Ksctl.Core.Kube;
using Ksctl.Core.Model;

namespace Ksctl.Core.Addons;

/// <summary>
/// The add-ons Ksctl can apply, each a pinned upstream manifest (embedded, version and SHA-256 checked at load; where
/// each file comes from is in Manifests/README.md).
/// </summary>
internal static class AddonCatalog
{
    public sealed record Entry(string Name, PinnedManifest Manifest, string Description)
    {
        public AddonInfo Info => new(Name, Manifest.Version, Manifest.Sha256, Manifest.Source, Description);
    }

    public static readonly IReadOnlyList<Entry> All =
    [
        new("metrics-server", new("metrics-server", "v0.9.0", "Ksctl.Core.Addons.Manifests.metrics-server.yaml",
                "1cec29a5267809306a2c6ec74a3e449abbb705b4a8beed0c8a1963910f72c79b",
                "kubernetes-sigs/metrics-server v0.9.0: components.yaml (kubectl kustomize manifests/overlays/release at tag v0.9.0, commit 2a7c4b2c7d46552ff47f4aeaa3a735c582587ecd)"),
            "Resource metrics (kubectl top, HPA) from the kubelets."),
        new("ingress-nginx", new("ingress-nginx", "v1.15.1", "Ksctl.Core.Addons.Manifests.ingress-nginx.yaml",
                "502fddca66b09c20dd48b6d0a792a9671cd663a3a0d2a8bda5ae990d13b6c5b2",
                "kubernetes/ingress-nginx controller-v1.15.1: deploy/static/provider/cloud/deploy.yaml (commit 0a5901f3c64f11e92e487799b8da3f00cca37515)"),
            "The NGINX ingress controller behind a Service of type LoadBalancer."),
    ];

    public static readonly string[] Names = All.Select(e => e.Name).ToArray();

    /// <summary>The entry named <paramref name="name"/>; a name not in the catalogue is a <see cref="InvalidSpecException"/> on <paramref name="parameter"/>.</summary>
    public static Entry Find(string name, string parameter = "Name") =>
        All.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new InvalidSpecException(parameter, $"'{name}' is not in Ksctl's add-on catalogue; use {string.Join(", ", Names)} (Get-KsctlAddon -ListAvailable).");
}
