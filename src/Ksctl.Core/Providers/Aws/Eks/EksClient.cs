using System.Text;
using System.Text.Json.Nodes;
using Amazon.Runtime;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Aws.Eks;

/// <summary>An EKS cluster as DescribeCluster returns it (the parts Ksctl uses).</summary>
internal sealed record EksCluster(string Name, string? Arn, string Status, string? Endpoint, string? CertificateAuthority, string? Version,
    IReadOnlyDictionary<string, string> Tags);

/// <summary>A managed node group as DescribeNodegroup returns it.</summary>
internal sealed record EksNodegroup(string Name, string Status, int? DesiredSize, int? MinSize, int? MaxSize, IReadOnlyList<string> Issues,
    IReadOnlyDictionary<string, string> Tags);

/// <summary>
/// The EKS REST-JSON API (botocore data/eks/2017-11-01/service-2.json: POST /clusters, GET/DELETE /clusters/{name},
/// POST /clusters/{name}/node-groups, GET/DELETE /clusters/{name}/node-groups/{nodegroupName},
/// POST .../node-groups/{nodegroupName}/update-config, POST /clusters/{name}/access-entries,
/// POST /clusters/{name}/access-entries/{principalArn}/access-policies). Errors carry the code in the
/// X-Amzn-ErrorType header (text before ':') and a JSON body with "message". Every create carries a
/// clientRequestToken, so a create whose answer was lost is safe to send again.
/// </summary>
internal sealed class EksClient : IDisposable
{
    private readonly AwsSignedClient _client;

    public EksClient(EksEndpoints endpoints, string region, AWSCredentials credentials, EksTimings timings, ILogger logger) =>
        _client = new AwsSignedClient("eks", region, endpoints.Eks(region), credentials, endpoints.Handler?.Invoke(), timings, logger, ParseError);

    public async Task<EksCluster> CreateClusterAsync(JsonObject body, CancellationToken ct) =>
        ReadCluster((await SendAsync("CreateCluster", HttpMethod.Post, "clusters", body, ct).ConfigureAwait(false))["cluster"]);

    /// <summary>The cluster, or null when EKS says ResourceNotFoundException.</summary>
    public async Task<EksCluster?> DescribeClusterAsync(string name, CancellationToken ct)
    {
        try { return ReadCluster((await SendAsync("DescribeCluster", HttpMethod.Get, $"clusters/{Uri.EscapeDataString(name)}", null, ct).ConfigureAwait(false))["cluster"]); }
        catch (AwsApiException e) when (e.Code == "ResourceNotFoundException") { return null; }
    }

    public Task DeleteClusterAsync(string name, CancellationToken ct) =>
        SendAsync("DeleteCluster", HttpMethod.Delete, $"clusters/{Uri.EscapeDataString(name)}", null, ct);

    public async Task<EksNodegroup> CreateNodegroupAsync(string cluster, JsonObject body, CancellationToken ct) =>
        ReadNodegroup((await SendAsync("CreateNodegroup", HttpMethod.Post, $"clusters/{Uri.EscapeDataString(cluster)}/node-groups", body, ct).ConfigureAwait(false))["nodegroup"]);

    public async Task<EksNodegroup?> DescribeNodegroupAsync(string cluster, string nodegroup, CancellationToken ct)
    {
        try
        {
            return ReadNodegroup((await SendAsync("DescribeNodegroup", HttpMethod.Get,
                $"clusters/{Uri.EscapeDataString(cluster)}/node-groups/{Uri.EscapeDataString(nodegroup)}", null, ct).ConfigureAwait(false))["nodegroup"]);
        }
        catch (AwsApiException e) when (e.Code == "ResourceNotFoundException") { return null; }
    }

    public Task UpdateNodegroupConfigAsync(string cluster, string nodegroup, JsonObject body, CancellationToken ct) =>
        SendAsync("UpdateNodegroupConfig", HttpMethod.Post, $"clusters/{Uri.EscapeDataString(cluster)}/node-groups/{Uri.EscapeDataString(nodegroup)}/update-config", body, ct);

    public Task DeleteNodegroupAsync(string cluster, string nodegroup, CancellationToken ct) =>
        SendAsync("DeleteNodegroup", HttpMethod.Delete, $"clusters/{Uri.EscapeDataString(cluster)}/node-groups/{Uri.EscapeDataString(nodegroup)}", null, ct);

    public Task CreateAccessEntryAsync(string cluster, JsonObject body, CancellationToken ct) =>
        SendAsync("CreateAccessEntry", HttpMethod.Post, $"clusters/{Uri.EscapeDataString(cluster)}/access-entries", body, ct);

    public Task AssociateAccessPolicyAsync(string cluster, string principalArn, JsonObject body, CancellationToken ct) =>
        SendAsync("AssociateAccessPolicy", HttpMethod.Post,
            $"clusters/{Uri.EscapeDataString(cluster)}/access-entries/{Uri.EscapeDataString(principalArn)}/access-policies", body, ct);

    private async Task<JsonObject> SendAsync(string operation, HttpMethod method, string path, JsonObject? body, CancellationToken ct)
    {
        var json = body?.ToJsonString();
        var text = await _client.SendAsync(operation, () =>
        {
            var request = new HttpRequestMessage(method, new Uri(_client.Endpoint, path));
            if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
            return request;
        }, ct).ConfigureAwait(false);
        try { return JsonNode.Parse(string.IsNullOrWhiteSpace(text) ? "{}" : text) as JsonObject ?? new JsonObject(); }
        catch (System.Text.Json.JsonException e)
        {
            throw new Diagnostics.KsctlException("KsctlCloudApiError", Diagnostics.KsctlErrorCategory.InvalidResult, $"EKS {operation} returned a response Ksctl cannot read: {e.Message}", "EKS", e);
        }
    }

    private static EksCluster ReadCluster(JsonNode? node)
    {
        if (node is not JsonObject c || c["name"]?.GetValue<string>() is not { } name || c["status"]?.GetValue<string>() is not { } status)
            throw new Diagnostics.KsctlException("KsctlCloudApiError", Diagnostics.KsctlErrorCategory.InvalidResult, "EKS returned a cluster without a name or status.", "EKS");
        return new EksCluster(name, c["arn"]?.GetValue<string>(), status, c["endpoint"]?.GetValue<string>(),
            c["certificateAuthority"]?["data"]?.GetValue<string>(), c["version"]?.GetValue<string>(), Tags(c["tags"]));
    }

    private static EksNodegroup ReadNodegroup(JsonNode? node)
    {
        if (node is not JsonObject g || g["nodegroupName"]?.GetValue<string>() is not { } name || g["status"]?.GetValue<string>() is not { } status)
            throw new Diagnostics.KsctlException("KsctlCloudApiError", Diagnostics.KsctlErrorCategory.InvalidResult, "EKS returned a node group without a name or status.", "EKS");
        var scaling = g["scalingConfig"];
        var issues = g["health"]?["issues"]?.AsArray().Select(i => $"{i?["code"]?.GetValue<string>()}: {i?["message"]?.GetValue<string>()}").ToList() ?? [];
        return new EksNodegroup(name, status, scaling?["desiredSize"]?.GetValue<int>(), scaling?["minSize"]?.GetValue<int>(), scaling?["maxSize"]?.GetValue<int>(),
            issues, Tags(g["tags"]));
    }

    private static Dictionary<string, string> Tags(JsonNode? node) =>
        node is JsonObject o ? o.Where(p => p.Value is JsonValue).ToDictionary(p => p.Key, p => p.Value!.GetValue<string>()) : [];

    /// <summary>REST-JSON errors: X-Amzn-ErrorType (up to ':'), else the body's __type/code; the body's message.</summary>
    internal static (string? Code, string? Message) ParseError(HttpResponseMessage response, string text)
    {
        string? code = response.Headers.TryGetValues("X-Amzn-ErrorType", out var values) ? values.FirstOrDefault()?.Split(':')[0] : null;
        string? message = null;
        try
        {
            if (JsonNode.Parse(text) is JsonObject body)
            {
                code ??= (body["__type"] ?? body["code"])?.GetValue<string>()?.Split('#').Last();
                message = (body["message"] ?? body["Message"])?.GetValue<string>();
            }
        }
        catch (System.Text.Json.JsonException) { message = string.IsNullOrWhiteSpace(text) ? response.ReasonPhrase : text.Trim(); }
        return (code, message);
    }

    public void Dispose() => _client.Dispose();
}
