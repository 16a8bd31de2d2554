namespace Ksctl.Core.Providers.Civo;

/// <summary>Civo's managed Kubernetes endpoints (civogo kubernetes.go): clusters and the versions Civo offers.</summary>
internal sealed partial class CivoClient
{
    public async Task<CivoCluster> CreateClusterAsync(CivoClusterRequest request, CancellationToken ct)
    {
        var json = await SendAsync(HttpMethod.Post, "kubernetes/clusters", request, idempotent: false, ct).ConfigureAwait(false);
        return Deserialize<CivoCluster>(json!);
    }

    /// <summary>The cluster, or null when Civo says it does not exist (404).</summary>
    public Task<CivoCluster?> GetClusterAsync(string id, string region, CancellationToken ct) =>
        GetOrNullAsync<CivoCluster>($"kubernetes/clusters/{Id(id, "cluster")}?region={Q(region)}", ct);

    /// <summary>Every cluster of the region, page by page.</summary>
    public Task<List<CivoCluster>> ListClustersAsync(string region, CancellationToken ct) => PagesAsync<CivoCluster>($"kubernetes/clusters?region={Q(region)}", ct);

    /// <summary>Deletes the cluster; false when it was already gone (404).</summary>
    public Task<bool> DeleteClusterAsync(string id, string region, CancellationToken ct) =>
        DeleteOrGoneAsync($"kubernetes/clusters/{Id(id, "cluster")}?region={Q(region)}", ct);

    /// <summary>The K3s versions Civo offers (GET /v2/kubernetes/versions).</summary>
    public Task<List<CivoKubernetesVersion>> ListKubernetesVersionsAsync(CancellationToken ct) => ArrayAsync<CivoKubernetesVersion>("kubernetes/versions", ct);

    /// <summary>
    /// Page by page (<c>per_page=100</c>). Civo may answer <c>pages</c> or <c>per_page</c> as null: then a short or
    /// empty page is the last one.
    /// </summary>
    private async Task<List<T>> PagesAsync<T>(string path, CancellationToken ct)
    {
        const int perPage = 100;
        var all = new List<T>();
        for (var page = 1; page <= 1000; page++)
        {
            var json = await SendAsync(HttpMethod.Get, $"{path}&page={page}&per_page={perPage}", null, idempotent: true, ct).ConfigureAwait(false);
            var result = Deserialize<CivoPage<T>>(json!);
            var items = result.Items ?? [];
            all.AddRange(items);
            if (items.Count == 0) return all;
            if (result.Pages is { } pages ? page >= pages : items.Count < (result.PerPage ?? perPage)) return all;
        }
        return all;
    }
}
