using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Ksctl.Civo.Tests;

/// <summary>
/// PUT /v2/kubernetes/clusters/{id} with <c>kubernetes_version</c>: civogo's UpdateKubernetesCluster (kubernetes.go,
/// KubernetesClusterConfig; the region travels in the body, as civogo sets <c>i.Region = c.Region</c>). Rules:
/// <list type="bullet">
/// <item>The cluster must exist in that region: 404 <c>database_kubernetes_cluster_not_found</c> (civogo errors.go).</item>
/// <item>The version must be one GET /v2/kubernetes/versions lists: 400 <c>database_kubernetes_cluster_invalid_version</c>
///   (civogo errors.go, as for a create).</item>
/// <item>Only upgrades, one minor at a time: Civo offers a cluster the next version it may move to (civogo's
///   KubernetesCluster.UpgradeAvailableTo, <c>upgrade_available_to</c>), and k3s's own rules forbid downgrades and
///   skipped minors (docs.k3s.io/upgrades, the Kubernetes version skew policy). Civo publishes no distinct code for them,
///   so they are answered with the invalid-version error above, naming the rule.</item>
/// <item>A cluster that is not ACTIVE cannot change: 409 <c>database_kubernetes_cluster_not_ready</c> (an operation in
///   progress; the emulator's choice of code, the rule is Civo's "cluster is busy" behaviour).</item>
/// <item>An accepted upgrade is UPGRADING for <see cref="PollsToActive"/> GETs, then ACTIVE at the new version.</item>
/// </list>
/// </summary>
public sealed partial class CivoEmulator
{
    /// <summary>Every accepted upgrade: (cluster name, from, to).</summary>
    public List<(string Cluster, string From, string To)> Upgrades { get; } = [];

    private static (int Major, int Minor, int Patch) VersionParts(string v)
    {
        var p = v.Split('-')[0].Split('.');
        return (int.Parse(p[0]), int.Parse(p[1]), int.Parse(p[2]));
    }

    private void MapKubernetesUpgradeRoute(RouteGroupBuilder v2)
    {
        v2.MapPut("/kubernetes/clusters/{id}", async (string id, HttpContext ctx) =>
        {
            var body = await BodyAsync(ctx);
            var region = Str(body, "region") ?? Region(ctx);
            if (!IsId(id) || !_clusters.TryGetValue(id, out var c) || c.Region != region) return ClusterNotFound();
            var version = Str(body, "kubernetes_version");
            if (version is null) return Results.Json(Json(c));
            var available = $"available: {string.Join(", ", KubernetesVersions.Select(v => v.Version))}";
            if (!KubernetesVersions.Any(v => v.Version == version))
                return Fail(400, "database_kubernetes_cluster_invalid_version", $"The Kubernetes version {version} is not available", available);
            lock (c)
            {
                if (c.Status != "ACTIVE") return Fail(409, "database_kubernetes_cluster_not_ready", $"The Kubernetes cluster is {c.Status}; wait until it is ACTIVE");
                var (from, to) = (VersionParts(c.Version), VersionParts(version));
                if (to.CompareTo(from) < 0)
                    return Fail(400, "database_kubernetes_cluster_invalid_version", $"The Kubernetes version {version} is older than the cluster's {c.Version}: downgrades are not possible", available);
                if (to.Major != from.Major || to.Minor > from.Minor + 1)
                    return Fail(400, "database_kubernetes_cluster_invalid_version", $"The Kubernetes version {version} skips a minor version from {c.Version}: upgrade one minor version at a time", available);
                if (version != c.Version)
                {
                    Upgrades.Add((c.Name, c.Version, version));
                    c.Status = "UPGRADING";
                    c.UpgradingTo = version;
                    c.Polls = 0;
                }
            }
            return Results.Json(Json(c));
        });
    }

    private static void FinishUpgrade(Cluster c)
    {
        c.Version = c.UpgradingTo ?? c.Version;
        c.UpgradingTo = null;
        c.Status = "ACTIVE";
    }
}
