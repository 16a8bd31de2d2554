using System.Text.Json.Nodes;
using Ksctl.Core.Model;

namespace Ksctl.Core.Providers.Gcp;

/// <summary>
/// The GKE create request (container-api.json, CreateClusterRequest { cluster: Cluster }): one node pool, Workload
/// Identity on (workloadIdentityConfig.workloadPool = PROJECT.svc.id.goog, nodes with workloadMetadataConfig GKE_METADATA:
/// cloud.google.com/kubernetes-engine/docs/how-to/workload-identity), the cluster's labels as resourceLabels.
/// </summary>
internal static class GkeBodies
{
    public const string NodePool = "default-pool";
    public const int DiskSizeGb = 50;

    public static JsonObject Create(ClusterSpec spec, string project)
    {
        var cluster = new JsonObject
        {
            ["name"] = spec.Id.Name,
            ["description"] = GcpNames.Description(spec.Id),
            ["resourceLabels"] = GcpBodies.Labels(spec.Id),
            ["releaseChannel"] = new JsonObject { ["channel"] = "REGULAR" },
            ["workloadIdentityConfig"] = new JsonObject { ["workloadPool"] = $"{project}.svc.id.goog" },
            ["nodePools"] = new JsonArray(new JsonObject
            {
                ["name"] = NodePool,
                ["initialNodeCount"] = spec.NodeCount,
                ["config"] = new JsonObject
                {
                    ["machineType"] = spec.NodeSize,
                    ["diskSizeGb"] = DiskSizeGb,
                    ["oauthScopes"] = new JsonArray(GcpCredentials.Scope),
                    ["workloadMetadataConfig"] = new JsonObject { ["mode"] = "GKE_METADATA" },
                    ["labels"] = GcpBodies.Labels(spec.Id),
                },
            }),
        };
        if (spec.KubernetesVersion is { } v) cluster["initialClusterVersion"] = v;
        return new JsonObject { ["cluster"] = cluster };
    }
}
