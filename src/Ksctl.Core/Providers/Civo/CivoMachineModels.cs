using System.Text.Json.Serialization;

namespace Ksctl.Core.Providers.Civo;

// Civo API v2 bodies for self-managed clusters, as civo.com/api documents them (only the fields Ksctl sends or reads).

/// <summary>A private network (GET /v2/networks). Users name networks by <c>label</c>; <c>name</c> is Civo's own.</summary>
internal sealed class CivoNetwork
{
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("label")] public string? Label { get; set; }
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("default")] public bool? Default { get; set; }
    [JsonPropertyName("cidr")] public string? Cidr { get; set; }
    [JsonPropertyName("status")] public string? Status { get; set; }
}

/// <summary>POST /v2/networks. No <c>cidr_v4</c>: Civo then picks a range the account's quota allows.</summary>
internal sealed class CivoNetworkRequest
{
    [JsonPropertyName("label")] public required string Label { get; init; }
    [JsonPropertyName("region")] public required string Region { get; init; }
}

/// <summary>The answer of a create or delete: <c>{"id": ..., "result": "success"}</c>.</summary>
internal sealed class CivoResult
{
    [JsonPropertyName("id")] public string? Id { get; set; }
    [JsonPropertyName("result")] public string? Result { get; set; }
}

internal sealed class CivoFirewall
{
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("network_id")] public string? NetworkId { get; set; }
    [JsonPropertyName("rules_count")] public int? RulesCount { get; set; }
    [JsonPropertyName("instance_count")] public int? InstanceCount { get; set; }
    [JsonPropertyName("cluster_count")] public int? ClusterCount { get; set; }
}

/// <summary>POST /v2/firewalls. <c>create_rules: false</c>, else Civo adds its default rules (everything open).</summary>
internal sealed class CivoFirewallRequest
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("network_id")] public required string NetworkId { get; init; }
    [JsonPropertyName("region")] public required string Region { get; init; }
    [JsonPropertyName("create_rules")] public bool CreateRules { get; init; }
}

/// <summary>A firewall rule (GET /v2/firewalls/:id/rules), also the body of POST /v2/firewalls/:id/rules. Ports are strings in Civo's API.</summary>
internal sealed class CivoFirewallRule
{
    [JsonPropertyName("id"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Id { get; set; }
    [JsonPropertyName("firewall_id"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? FirewallId { get; set; }
    [JsonPropertyName("region"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Region { get; set; }
    [JsonPropertyName("protocol")] public string Protocol { get; set; } = "tcp";
    [JsonPropertyName("start_port")] public string StartPort { get; set; } = "";
    [JsonPropertyName("end_port")] public string EndPort { get; set; } = "";
    [JsonPropertyName("cidr")] public List<string> Cidr { get; set; } = [];
    [JsonPropertyName("direction")] public string Direction { get; set; } = "ingress";
    [JsonPropertyName("action")] public string Action { get; set; } = "allow";
    [JsonPropertyName("label")] public string Label { get; set; } = "";
}

/// <summary>An uploaded public key (GET /v2/sshkeys). SSH keys are account-wide, not regional.</summary>
internal sealed class CivoSshKey
{
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("fingerprint")] public string? Fingerprint { get; set; }
}

internal sealed class CivoSshKeyRequest
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("public_key")] public required string PublicKey { get; init; }
}

/// <summary>GET /v2/disk_images: every region has the same set of images under different ids.</summary>
internal sealed class CivoDiskImage
{
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("version")] public string? Version { get; set; }
    [JsonPropertyName("state")] public string? State { get; set; }
    [JsonPropertyName("distribution")] public string? Distribution { get; set; }
}

/// <summary>An instance (GET /v2/instances/:id). Addresses are null while it builds.</summary>
internal sealed class CivoMachine
{
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("hostname")] public string? Hostname { get; set; }
    [JsonPropertyName("size")] public string? Size { get; set; }
    [JsonPropertyName("network_id")] public string? NetworkId { get; set; }
    [JsonPropertyName("firewall_id")] public string? FirewallId { get; set; }
    [JsonPropertyName("public_ip")] public string? PublicIp { get; set; }
    [JsonPropertyName("private_ip")] public string? PrivateIp { get; set; }
    [JsonPropertyName("status")] public string? Status { get; set; }
    [JsonPropertyName("tags")] public List<string>? Tags { get; set; }
    /// <summary>The first-boot script, returned to anyone with the API key: why Ksctl rotates the host key it put there.</summary>
    [JsonPropertyName("script")] public string? Script { get; set; }
}

/// <summary>POST /v2/instances (civogo's InstanceConfig). <c>script</c> runs as root at the end of cloud initialisation.</summary>
internal sealed class CivoMachineRequest
{
    [JsonPropertyName("count")] public int Count { get; init; } = 1;
    [JsonPropertyName("hostname")] public required string Hostname { get; init; }
    [JsonPropertyName("size")] public required string Size { get; init; }
    [JsonPropertyName("region")] public required string Region { get; init; }
    [JsonPropertyName("network_id")] public required string NetworkId { get; init; }
    [JsonPropertyName("firewall_id")] public required string FirewallId { get; init; }
    [JsonPropertyName("template_id")] public required string TemplateId { get; init; }
    [JsonPropertyName("public_ip")] public string PublicIp { get; init; } = "create";
    [JsonPropertyName("initial_user")] public required string InitialUser { get; init; }
    [JsonPropertyName("ssh_key_id")] public required string SshKeyId { get; init; }
    [JsonPropertyName("script")] public required string Script { get; init; }
    /// <summary>Space-separated.</summary>
    [JsonPropertyName("tags")] public required string Tags { get; init; }
}

/// <summary>GET /v2/regions.</summary>
internal sealed class CivoRegion
{
    [JsonPropertyName("code")] public string Code { get; set; } = "";
    [JsonPropertyName("default")] public bool? Default { get; set; }
    [JsonPropertyName("out_of_capacity")] public bool? OutOfCapacity { get; set; }
}

/// <summary>GET /v2/sizes: instance, Kubernetes and database sizes together, told apart by <c>type</c>.</summary>
internal sealed class CivoSize
{
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("selectable")] public bool? Selectable { get; set; }
}
