using Ksctl.Core.Distributions;
using Ksctl.Core.Model;

namespace Ksctl.Core.Providers.Azure;

/// <summary>
/// Resource names and ids (REFERENCE.md "Resource naming"): group ksctl-resgrp-{managed|selfmanaged}-&lt;name&gt;,
/// network &lt;name&gt;-net, NSGs &lt;name&gt;-fw-{lb,db,cp,wp}, machines &lt;name&gt;-vm-&lt;key&gt; with -pip and -nic beside them.
/// Ids are deterministic, so a re-run addresses the same resources (ARM PUT by id never makes a second one).
/// </summary>
internal sealed class AzureNames(string subscriptionId, ClusterId cluster)
{
    public string Cluster => cluster.Name;
    public string Subscription => subscriptionId;

    public static string ResourceGroupName(ClusterId id) =>
        $"ksctl-resgrp-{(id.Type == ClusterType.Managed ? "managed" : "selfmanaged")}-{id.Name}";

    public string ResourceGroup => ResourceGroupName(cluster);
    public string ResourceGroupId => $"/subscriptions/{subscriptionId}/resourceGroups/{ResourceGroup}";
    public string SubscriptionId => $"/subscriptions/{subscriptionId}";

    /// <summary>
    /// The AKS node resource group, sent explicitly: AKS would derive MC_&lt;group&gt;_&lt;cluster&gt;_&lt;region&gt;, which passes
    /// ARM's 80-character limit for a group once names and regions are long (a 50-character name gives 144). This one is
    /// at most 62 (cluster names are at most 50), under 80 and under the 63 of a Kubernetes label value, which AKS puts it in.
    /// </summary>
    public static string NodeResourceGroupName(ClusterId id) => $"ksctl-nodes-{id.Name}";

    public string ManagedClusterId => $"{ResourceGroupId}/providers/Microsoft.ContainerService/managedClusters/{cluster.Name}";

    public static string NetworkName(string cluster) => $"{cluster}-net";
    public static string SubnetName(string cluster) => $"{cluster}-subnet";
    public string NetworkId => $"{ResourceGroupId}/providers/Microsoft.Network/virtualNetworks/{NetworkName(cluster.Name)}";
    public string SubnetId => $"{NetworkId}/subnets/{SubnetName(cluster.Name)}";

    /// <summary>The firewall suffix of a role: lb, db, cp, wp.</summary>
    public static string RoleSuffix(NodeRole role) => role switch
    {
        NodeRole.LoadBalancer => "lb",
        NodeRole.Datastore => "db",
        NodeRole.ControlPlane => "cp",
        _ => "wp",
    };

    public static string SecurityGroupName(string cluster, NodeRole role) => $"{cluster}-fw-{RoleSuffix(role)}";
    public string SecurityGroupId(NodeRole role) => $"{ResourceGroupId}/providers/Microsoft.Network/networkSecurityGroups/{SecurityGroupName(cluster.Name, role)}";

    public static string VmName(string cluster, TopologyNode node) => node.ResourceName(cluster);
    public static string PublicIpName(string vm) => $"{vm}-pip";
    public static string NicName(string vm) => $"{vm}-nic";
    public static string OsDiskName(string vm) => $"{vm}-osdisk";
    public string VmId(string vm) => $"{ResourceGroupId}/providers/Microsoft.Compute/virtualMachines/{vm}";
    public string PublicIpId(string vm) => $"{ResourceGroupId}/providers/Microsoft.Network/publicIPAddresses/{PublicIpName(vm)}";
    public string NicId(string vm) => $"{ResourceGroupId}/providers/Microsoft.Network/networkInterfaces/{NicName(vm)}";

    /// <summary>The tags every resource carries, so that Ksctl's resources (and orphans) can be found in the portal or with Azure Resource Graph.</summary>
    public static Dictionary<string, string> Tags(ClusterId id) => new()
    {
        ["ksctl-cluster"] = id.Name,
        ["ksctl-provider"] = "azure",
        ["ksctl-type"] = id.Type == ClusterType.Managed ? "managed" : "selfmanaged",
        ["ksctl-region"] = id.Region,
    };
}

/// <summary>Keys of what the Azure provider records in <see cref="ClusterState.Resources"/>.</summary>
internal static class AzureResourceKeys
{
    public const string Subscription = "azure:subscription";
    public const string ResourceGroup = "azure:resource-group";
    public const string ManagedCluster = "azure:aks";
    public const string Network = "azure:network";
    /// <summary>The AKS Kubernetes version chosen from ARM's list (when none was given), kept so a re-run sends the same body.</summary>
    public const string AksVersion = "azure:aks-version";
    public static string SecurityGroup(NodeRole role) => $"azure:nsg:{AzureNames.RoleSuffix(role)}";
    public static string Vm(string key) => $"azure:vm:{key}";
    public static string Nic(string key) => $"azure:nic:{key}";
    public static string PublicIp(string key) => $"azure:pip:{key}";
    /// <summary>The VM's computer name (cluster-vm-key plus a short random suffix), chosen once so a re-run sends the same body.</summary>
    public static string Hostname(string key) => $"azure:hostname:{key}";
}
