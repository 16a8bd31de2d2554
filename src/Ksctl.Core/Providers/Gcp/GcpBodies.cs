using System.Text.Json.Nodes;
using Ksctl.Core.Model;

namespace Ksctl.Core.Providers.Gcp;

/// <summary>
/// Request bodies of the self-managed resources, as compute-api.json (Compute Engine API v1 discovery document,
/// googleapis/google-api-go-client compute/v1/compute-api.json) defines Network, Subnetwork, Firewall and Instance.
/// </summary>
internal static class GcpBodies
{
    public const string SubnetRange = "10.10.0.0/24";
    public const string LoginUser = "ksctl";
    public const string ImageProject = "ubuntu-os-cloud";
    /// <summary>Canonical's image family for Ubuntu 24.04 LTS on x86-64 (cloud.google.com/compute/docs/images/os-details#ubuntu_lts).</summary>
    public const string ImageFamily = "ubuntu-2404-lts-amd64";
    public const int DiskSizeGb = 30;

    /// <summary>One firewall rule: what it allows, from where, to which roles (by network tag).</summary>
    public sealed record Rule(string Suffix, string Why, string[] Tcp, bool AllProtocols, string Source, NodeRole[] Roles);

    /// <summary>
    /// A custom-mode VPC denies all ingress (cloud.google.com/firewall/docs/firewalls "implied rules"), so: traffic among
    /// the cluster's machines (etcd, kubelet, the API behind HAProxy, the CNI's VXLAN) from the subnet only; SSH from
    /// anywhere for Ksctl; the API through HAProxy from anywhere; NodePorts on workers.
    /// </summary>
    public static readonly Rule[] Rules =
    [
        new("internal", "traffic among the cluster's machines", [], true, SubnetRange, [NodeRole.LoadBalancer, NodeRole.Datastore, NodeRole.ControlPlane, NodeRole.Worker]),
        new("ssh", "SSH from Ksctl", ["22"], false, "0.0.0.0/0", [NodeRole.LoadBalancer, NodeRole.Datastore, NodeRole.ControlPlane, NodeRole.Worker]),
        new("lb", "Kubernetes API through HAProxy", ["6443"], false, "0.0.0.0/0", [NodeRole.LoadBalancer]),
        new("wp", "NodePort services", ["30000-32767"], false, "0.0.0.0/0", [NodeRole.Worker]),
    ];

    public static string FirewallName(ClusterId id, Rule rule) => $"{id.Name}-{GcpNames.Tag(id)}-fw-{rule.Suffix}";

    public static JsonObject Network(ClusterId id) => new()
    {
        ["name"] = GcpNames.NetworkName(id),
        ["description"] = GcpNames.Description(id),
        ["autoCreateSubnetworks"] = false,
        ["routingConfig"] = new JsonObject { ["routingMode"] = "REGIONAL" },
    };

    public static JsonObject Subnet(ClusterId id, GcpNames names, string region) => new()
    {
        ["name"] = GcpNames.SubnetName(id),
        ["description"] = GcpNames.Description(id),
        ["network"] = names.NetworkPath,
        ["ipCidrRange"] = SubnetRange,
        ["region"] = region,
    };

    public static JsonObject Firewall(ClusterId id, GcpNames names, Rule rule) => new()
    {
        ["name"] = FirewallName(id, rule),
        ["description"] = $"{GcpNames.Description(id)}: {rule.Why}",
        ["network"] = names.NetworkPath,
        ["direction"] = "INGRESS",
        ["priority"] = 1000,
        ["allowed"] = rule.AllProtocols
            ? new JsonArray(new JsonObject { ["IPProtocol"] = "tcp" }, new JsonObject { ["IPProtocol"] = "udp" }, new JsonObject { ["IPProtocol"] = "icmp" })
            : new JsonArray(new JsonObject { ["IPProtocol"] = "tcp", ["ports"] = new JsonArray(rule.Tcp.Select(p => (JsonNode)p).ToArray()) }),
        ["sourceRanges"] = new JsonArray(rule.Source),
        ["targetTags"] = new JsonArray(rule.Roles.Select(r => (JsonNode)GcpNames.RoleTag(id, r)).ToArray()),
    };

    public static JsonObject Instance(ClusterId id, GcpNames names, string name, NodeRole role, string zone, string region, string size, string image,
        string userData, string loginPublicKey) => new()
    {
        ["name"] = name,
        ["description"] = GcpNames.Description(id),
        ["machineType"] = $"zones/{zone}/machineTypes/{size}",
        ["labels"] = Labels(id),
        ["tags"] = new JsonObject { ["items"] = new JsonArray(GcpNames.RoleTag(id, role)) },
        ["disks"] = new JsonArray(new JsonObject
        {
            ["boot"] = true,
            ["autoDelete"] = true,
            ["type"] = "PERSISTENT",
            ["initializeParams"] = new JsonObject
            {
                ["sourceImage"] = $"projects/{ImageProject}/global/images/{image}",
                ["diskSizeGb"] = DiskSizeGb.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["diskType"] = $"zones/{zone}/diskTypes/pd-balanced",
                ["labels"] = Labels(id),
            },
        }),
        ["networkInterfaces"] = new JsonArray(new JsonObject
        {
            ["network"] = names.NetworkPath,
            ["subnetwork"] = names.SubnetPath(region),
            ["accessConfigs"] = new JsonArray(new JsonObject { ["type"] = "ONE_TO_ONE_NAT", ["name"] = "External NAT", ["networkTier"] = "PREMIUM" }),
        }),
        ["metadata"] = new JsonObject
        {
            ["items"] = new JsonArray(
                new JsonObject { ["key"] = "user-data", ["value"] = userData },
                // cloud.google.com/compute/docs/connect/add-ssh-keys: "USERNAME:KEY_VALUE" lines; the guest agent adds the user.
                new JsonObject { ["key"] = "ssh-keys", ["value"] = $"{LoginUser}:{loginPublicKey.Trim()}" }),
        },
    };

    public static JsonObject Labels(ClusterId id) => new(GcpNames.Labels(id).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));
}
