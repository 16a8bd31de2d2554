using System.Text.Json.Serialization;

namespace Ksctl.Core.Providers.Civo;

/// <summary>A managed cluster's node pools (civogo kubernetes_pools.go: ListKubernetesClusterPools, UpdateKubernetesClusterPool).</summary>
internal sealed partial class CivoClient
{
    /// <summary>GET /v2/kubernetes/clusters/:id/pools.</summary>
    public Task<List<CivoPool>> ListPoolsAsync(string clusterId, string region, CancellationToken ct) =>
        ArrayAsync<CivoPool>($"kubernetes/clusters/{Id(clusterId, "cluster")}/pools?region={Q(region)}", ct);

    /// <summary>PUT /v2/kubernetes/clusters/:id/pools/:pool with KubernetesClusterPoolUpdateConfig's count and region (idempotent: a count).</summary>
    public async Task<CivoPool> SetPoolCountAsync(string clusterId, string poolId, int count, string region, CancellationToken ct)
    {
        var json = await SendAsync(HttpMethod.Put, $"kubernetes/clusters/{Id(clusterId, "cluster")}/pools/{Id(poolId, "pool")}",
            new CivoPoolUpdate { Count = count, Region = region }, idempotent: true, ct).ConfigureAwait(false);
        return Deserialize<CivoPool>(json!);
    }
}

/// <summary>civogo's KubernetesPool (the fields Ksctl reads).</summary>
internal sealed class CivoPool
{
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("count")] public int? Count { get; set; }
    [JsonPropertyName("size")] public string? Size { get; set; }
    [JsonPropertyName("instance_names")] public List<string>? InstanceNames { get; set; }
}

/// <summary>civogo's KubernetesClusterPoolUpdateConfig: only count and region are sent (size is the pool's for good).</summary>
internal sealed class CivoPoolUpdate
{
    [JsonPropertyName("count")] public required int Count { get; init; }
    [JsonPropertyName("region")] public required string Region { get; init; }
}
