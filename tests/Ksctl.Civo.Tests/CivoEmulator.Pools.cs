using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Ksctl.Civo.Tests;

/// <summary>
/// A managed cluster's node pools (civogo kubernetes_pools.go). Each emulated cluster has the one pool Civo makes
/// for <c>num_target_nodes</c>. Rules and their sources:
/// <list type="bullet">
/// <item>GET /v2/kubernetes/clusters/:id/pools answers an array of civogo's KubernetesPool (<c>id</c>, <c>count</c>,
///   <c>size</c>, <c>instance_names</c>); PUT /v2/kubernetes/clusters/:id/pools/:pool takes civogo's
///   KubernetesClusterPoolUpdateConfig (<c>count</c>, <c>size</c>, <c>region</c>…) and answers the KubernetesPool.</item>
/// <item>An unknown cluster is <c>database_kubernetes_cluster_not_found</c> (civogo errors.go); an unknown pool is 404
///   too (the code here, <c>database_kubernetes_cluster_pool_not_found</c>, follows civogo's naming; Civo's exact code
///   for it is not published).</item>
/// <item>A pool has at least one node (civo CLI "kubernetes node-pool scale": the count must be a positive number) and
///   a pool's size is fixed once made (Civo's docs: to change the size, create a new pool); both refused as 400.</item>
/// <item>While it scales the cluster reports <c>SCALING</c> (a Civo cluster status) and is ACTIVE again after
///   <see cref="PollsToActive"/> GETs, with its instances as many as the new count.</item>
/// </list>
/// </summary>
public sealed partial class CivoEmulator
{
    /// <summary>The counts PUT on pools, in order.</summary>
    public List<int> PoolCounts { get; } = [];

    public static string PoolId(string clusterId) => new Guid(MD5.HashData(Encoding.UTF8.GetBytes("pool-" + clusterId))).ToString();

    private void MapPoolRoutes(RouteGroupBuilder v2)
    {
        v2.MapGet("/kubernetes/clusters/{id}/pools", (string id, HttpContext ctx) =>
        {
            if (!IsId(id) || !_clusters.TryGetValue(id, out var c) || c.Region != Region(ctx)) return ClusterNotFound();
            lock (c) return Results.Json(Array([PoolJson(c)]));
        });
        v2.MapPut("/kubernetes/clusters/{id}/pools/{pool}", async (string id, string pool, HttpContext ctx) =>
        {
            var body = await BodyAsync(ctx);
            var region = Str(body, "region") ?? Region(ctx);
            if (!IsId(id) || !_clusters.TryGetValue(id, out var c) || c.Region != region) return ClusterNotFound();
            if (!IsId(pool) || pool != PoolId(c.Id))
                return Fail(404, "database_kubernetes_cluster_pool_not_found", "The requested Kubernetes cluster pool could not be found");
            if (body["count"] is not JsonValue v || !v.TryGetValue<int>(out var count) || count < 1)
                return Fail(400, "parameter_count_invalid", "The count must be a positive number of nodes");
            if (Str(body, "size") is { } size && size != c.Size)
                return Fail(400, "parameter_size_change_unsupported", $"A pool's size cannot be changed (it is {c.Size}); create a new pool instead");
            lock (c)
            {
                if (c.Status != "ACTIVE") return Fail(409, "database_kubernetes_cluster_not_active", $"The cluster is {c.Status}; try again once it is ACTIVE");
                PoolCounts.Add(count);
                c.Nodes = count;
                c.NodeIds = [.. c.NodeIds.Take(count), .. Enumerable.Range(0, Math.Max(0, count - c.NodeIds.Length)).Select(_ => NewId())];
                c.Status = "SCALING";
                c.Polls = 0;
                return Results.Json(PoolJson(c));
            }
        });
    }

    private static JsonObject PoolJson(Cluster c) => new()
    {
        ["id"] = PoolId(c.Id),
        ["count"] = c.Nodes,
        ["size"] = c.Size,
        ["instance_names"] = Array(c.NodeIds.Select((_, i) => JsonValue.Create($"k3s-{c.Name}-{c.Id[..4]}-node-pool-{i}")!)),
    };
}
