using System.Text.Json.Serialization;

namespace Ksctl.Core.Providers.Civo;

/// <summary>civogo's UpdateKubernetesCluster: PUT /v2/kubernetes/clusters/{id} with the region and the new kubernetes_version.</summary>
internal sealed partial class CivoClient
{
    public async Task<CivoCluster> UpdateClusterVersionAsync(string id, string region, string version, CancellationToken ct)
    {
        var json = await SendAsync(HttpMethod.Put, $"kubernetes/clusters/{Id(id, "cluster")}", new CivoClusterVersionUpdate { Region = region, KubernetesVersion = version },
            idempotent: true, ct).ConfigureAwait(false);
        return Deserialize<CivoCluster>(json!);
    }
}

/// <summary>The fields of civogo's KubernetesClusterConfig an upgrade sends.</summary>
internal sealed class CivoClusterVersionUpdate
{
    [JsonPropertyName("region")] public required string Region { get; init; }
    [JsonPropertyName("kubernetes_version")] public required string KubernetesVersion { get; init; }
}
