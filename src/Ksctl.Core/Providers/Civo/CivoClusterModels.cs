using System.Text.Json.Serialization;

namespace Ksctl.Core.Providers.Civo;

// Civo API v2 bodies of managed Kubernetes clusters (civogo kubernetes.go), only the fields Ksctl sends or reads.
// Everything Civo may answer with null (counts, flags, paging fields) is nullable here.

/// <summary>A Civo Kubernetes cluster (GET /v2/kubernetes/clusters/:id).</summary>
internal sealed class CivoCluster
{
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("status")] public string? Status { get; set; }
    [JsonPropertyName("ready")] public bool? Ready { get; set; }
    [JsonPropertyName("kubeconfig")] public string? Kubeconfig { get; set; }
    [JsonPropertyName("master_ip")] public string? MasterIp { get; set; }
    [JsonPropertyName("api_endpoint")] public string? ApiEndpoint { get; set; }
    [JsonPropertyName("kubernetes_version")] public string? KubernetesVersion { get; set; }
    [JsonPropertyName("network_id")] public string? NetworkId { get; set; }
    [JsonPropertyName("firewall_id")] public string? FirewallId { get; set; }
    [JsonPropertyName("num_target_nodes")] public int? NumTargetNodes { get; set; }
    [JsonPropertyName("tags")] public List<string>? Tags { get; set; }
    [JsonPropertyName("instances")] public List<CivoInstance>? Instances { get; set; }
}

internal sealed class CivoInstance
{
    [JsonPropertyName("id")] public string? Id { get; set; }
    [JsonPropertyName("hostname")] public string? Hostname { get; set; }
    [JsonPropertyName("size")] public string? Size { get; set; }
    [JsonPropertyName("public_ip")] public string? PublicIp { get; set; }
    [JsonPropertyName("private_ip")] public string? PrivateIp { get; set; }
    [JsonPropertyName("status")] public string? Status { get; set; }
}

/// <summary>
/// The body of POST /v2/kubernetes/clusters (civogo's KubernetesClusterConfig). <c>network_id</c> is required by
/// Civo; civo's Terraform provider sends the region's default network when none is given, and so does Ksctl.
/// <c>instance_firewall</c> is the firewall the nodes get (Terraform's <c>firewall_id</c> maps to it); Ksctl makes one
/// per cluster with only the ports the cluster needs, instead of Civo's default of everything open.
/// </summary>
internal sealed class CivoClusterRequest
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("region")] public required string Region { get; init; }
    [JsonPropertyName("network_id")] public required string NetworkId { get; init; }
    [JsonPropertyName("instance_firewall")] public required string InstanceFirewall { get; init; }
    [JsonPropertyName("num_target_nodes")] public required int NumTargetNodes { get; init; }
    [JsonPropertyName("target_nodes_size")] public required string TargetNodesSize { get; init; }
    /// <summary>Omitted unless asked for: Civo then installs its current default version.</summary>
    [JsonPropertyName("kubernetes_version"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? KubernetesVersion { get; init; }
    [JsonPropertyName("cni_plugin")] public required string CniPlugin { get; init; }
    /// <summary>Comma-separated marketplace application names; <c>-Name</c> removes a default one.</summary>
    [JsonPropertyName("applications"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Applications { get; init; }
    /// <summary>Space-separated tags.</summary>
    [JsonPropertyName("tags")] public string? Tags { get; init; }
}

/// <summary>GET /v2/kubernetes/versions (civogo's KubernetesVersion).</summary>
internal sealed class CivoKubernetesVersion
{
    [JsonPropertyName("version")] public string? Version { get; set; }
    [JsonPropertyName("label")] public string? Label { get; set; }
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("default")] public bool? Default { get; set; }
    [JsonPropertyName("clusterType")] public string? ClusterType { get; set; }
}

internal sealed class CivoPage<T>
{
    [JsonPropertyName("page")] public int? Page { get; set; }
    [JsonPropertyName("per_page")] public int? PerPage { get; set; }
    [JsonPropertyName("pages")] public int? Pages { get; set; }
    [JsonPropertyName("items")] public List<T>? Items { get; set; }
}
