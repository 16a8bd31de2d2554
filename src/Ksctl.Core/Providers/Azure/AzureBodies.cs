using System.Text.Json.Nodes;
using Ksctl.Core.Model;

namespace Ksctl.Core.Providers.Azure;

/// <summary>
/// The JSON bodies Ksctl PUTs, following the schemas of the api-versions in <see cref="AzureApiVersions"/>. Built from
/// the spec and values already recorded in state only, so a re-run sends byte-for-byte the same body.
/// </summary>
internal static class AzureBodies
{
    public const string AdminUser = "azureuser";
    public const string VnetPrefix = "10.1.0.0/16";
    public const string SubnetPrefix = "10.1.0.0/24";
    /// <summary>The system node pool's name (AKS: lowercase letters and digits, at most 12).</summary>
    public const string SystemPool = "systempool";

    public static JsonObject ResourceGroup(ClusterId id) => new()
    {
        ["location"] = id.Region,
        ["tags"] = Tags(id),
    };

    public static JsonObject ManagedCluster(ClusterSpec spec) => new()
    {
        ["location"] = spec.Id.Region,
        ["tags"] = Tags(spec.Id),
        ["identity"] = new JsonObject { ["type"] = "SystemAssigned" },
        ["properties"] = new JsonObject
        {
            ["kubernetesVersion"] = spec.KubernetesVersion,
            ["dnsPrefix"] = spec.Id.Name,
            ["nodeResourceGroup"] = AzureNames.NodeResourceGroupName(spec.Id),
            ["agentPoolProfiles"] = new JsonArray(new JsonObject
            {
                ["name"] = SystemPool,
                ["mode"] = "System",
                ["count"] = spec.NodeCount,
                ["vmSize"] = spec.NodeSize,
                ["osType"] = "Linux",
                ["type"] = "VirtualMachineScaleSets",
                ["tags"] = Tags(spec.Id),
            }),
            ["networkProfile"] = new JsonObject { ["networkPlugin"] = spec.Cni },
        },
    };

    public static JsonObject Network(ClusterId id) => new()
    {
        ["location"] = id.Region,
        ["tags"] = Tags(id),
        ["properties"] = new JsonObject
        {
            ["addressSpace"] = new JsonObject { ["addressPrefixes"] = new JsonArray(VnetPrefix) },
            ["subnets"] = new JsonArray(new JsonObject
            {
                ["name"] = AzureNames.SubnetName(id.Name),
                ["properties"] = new JsonObject { ["addressPrefix"] = SubnetPrefix },
            }),
        },
    };

    /// <summary>One inbound rule: TCP to Ports from Source ("*", a prefix or a service tag such as VirtualNetwork).</summary>
    public sealed record Rule(string Name, string Ports, string Source, string Why);

    /// <summary>
    /// What each role must accept (everything else inbound is denied by Azure's default rules, except traffic inside
    /// the VNet, which the default AllowVnetInBound permits; ours say explicitly what the role needs):
    /// load balancer: 6443 from anywhere (the cluster's API) and 22 (SSH from Ksctl);
    /// etcd: 2379-2380 from the VNet and 22;
    /// control planes: 6443 and 10250 from the VNet and 22;
    /// workers: 10250 from the VNet, NodePorts 30000-32767 from anywhere, and 22.
    /// SSH is open to anywhere because Ksctl connects from wherever it runs; logins need the generated key.
    /// </summary>
    public static IReadOnlyList<Rule> RulesFor(NodeRole role) => role switch
    {
        NodeRole.LoadBalancer => [new("allow-kube-api", "6443", "*", "Kubernetes API through HAProxy"), new("allow-ssh", "22", "*", "SSH from Ksctl")],
        NodeRole.Datastore => [new("allow-etcd", "2379-2380", "VirtualNetwork", "etcd clients and peers"), new("allow-ssh", "22", "*", "SSH from Ksctl")],
        NodeRole.ControlPlane => [new("allow-kube-api", "6443", "VirtualNetwork", "API server behind HAProxy"), new("allow-kubelet", "10250", "VirtualNetwork", "kubelet"), new("allow-ssh", "22", "*", "SSH from Ksctl")],
        _ => [new("allow-kubelet", "10250", "VirtualNetwork", "kubelet"), new("allow-nodeports", "30000-32767", "*", "NodePort services"), new("allow-ssh", "22", "*", "SSH from Ksctl")],
    };

    public static JsonObject SecurityGroup(ClusterId id, NodeRole role) => new()
    {
        ["location"] = id.Region,
        ["tags"] = Tags(id),
        ["properties"] = new JsonObject
        {
            ["securityRules"] = new JsonArray(RulesFor(role).Select((r, i) => (JsonNode)new JsonObject
            {
                ["name"] = r.Name,
                ["properties"] = new JsonObject
                {
                    ["description"] = r.Why,
                    ["protocol"] = "Tcp",
                    ["sourcePortRange"] = "*",
                    ["destinationPortRange"] = r.Ports,
                    ["sourceAddressPrefix"] = r.Source,
                    ["destinationAddressPrefix"] = "*",
                    ["access"] = "Allow",
                    ["direction"] = "Inbound",
                    ["priority"] = 100 + i * 10,
                },
            }).ToArray()),
        },
    };

    public static JsonObject PublicIp(ClusterId id) => new()
    {
        ["location"] = id.Region,
        ["tags"] = Tags(id),
        ["sku"] = new JsonObject { ["name"] = "Standard" },
        ["properties"] = new JsonObject { ["publicIPAllocationMethod"] = "Static", ["publicIPAddressVersion"] = "IPv4" },
    };

    public static JsonObject Nic(ClusterId id, string subnetId, string publicIpId, string securityGroupId) => new()
    {
        ["location"] = id.Region,
        ["tags"] = Tags(id),
        ["properties"] = new JsonObject
        {
            ["networkSecurityGroup"] = new JsonObject { ["id"] = securityGroupId },
            ["ipConfigurations"] = new JsonArray(new JsonObject
            {
                ["name"] = "ipconfig1",
                ["properties"] = new JsonObject
                {
                    ["privateIPAllocationMethod"] = "Dynamic",
                    ["subnet"] = new JsonObject { ["id"] = subnetId },
                    ["publicIPAddress"] = new JsonObject { ["id"] = publicIpId },
                },
            }),
        },
    };

    /// <summary>An Ubuntu 24.04 LTS VM; <paramref name="customData"/> is the cloud-config that installs Ksctl's host key (base64, as ARM wants it).</summary>
    public static JsonObject VirtualMachine(ClusterId id, string vmName, string computerName, string size, string nicId, string loginPublicKey, string customData) => new()
    {
        ["location"] = id.Region,
        ["tags"] = Tags(id),
        ["properties"] = new JsonObject
        {
            ["hardwareProfile"] = new JsonObject { ["vmSize"] = size },
            ["storageProfile"] = new JsonObject
            {
                ["imageReference"] = new JsonObject { ["publisher"] = "Canonical", ["offer"] = "ubuntu-24_04-lts", ["sku"] = "server", ["version"] = "latest" },
                ["osDisk"] = new JsonObject
                {
                    ["name"] = AzureNames.OsDiskName(vmName),
                    ["createOption"] = "FromImage",
                    ["deleteOption"] = "Delete",
                    ["diskSizeGB"] = 30,
                    ["managedDisk"] = new JsonObject { ["storageAccountType"] = "StandardSSD_LRS" },
                },
            },
            ["osProfile"] = new JsonObject
            {
                ["computerName"] = computerName,
                ["adminUsername"] = AdminUser,
                ["customData"] = customData,
                ["linuxConfiguration"] = new JsonObject
                {
                    ["disablePasswordAuthentication"] = true,
                    ["ssh"] = new JsonObject
                    {
                        ["publicKeys"] = new JsonArray(new JsonObject { ["path"] = $"/home/{AdminUser}/.ssh/authorized_keys", ["keyData"] = loginPublicKey }),
                    },
                },
            },
            ["networkProfile"] = new JsonObject
            {
                ["networkInterfaces"] = new JsonArray(new JsonObject { ["id"] = nicId, ["properties"] = new JsonObject { ["primary"] = true } }),
            },
        },
    };

    private static JsonObject Tags(ClusterId id) => new(AzureNames.Tags(id).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value))));
}
