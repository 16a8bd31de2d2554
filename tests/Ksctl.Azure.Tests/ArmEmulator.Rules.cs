using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Ksctl.Azure.Tests;

/// <summary>
/// What ARM and the resource providers refuse in a PUT body, each rule with its upstream definition:
/// <list type="bullet">
/// <item>Name lengths and characters per type: learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules
///   (resourceGroups 1-90; virtualNetworks 2-64; networkSecurityGroups, networkInterfaces, publicIPAddresses 1-80;
///   virtualMachines 1-64 on Linux; managedClusters 1-63) and the managedClusters <c>resourceName</c> pattern of
///   azure-rest-api-specs containerservice/.../aks/stable/2024-09-01/managedClusters.json.</item>
/// <item>AKS node resource group: <c>properties.nodeResourceGroup</c> (managedClusters.json 2024-09-01, "The name of the
///   resource group containing agent pool nodes"); when absent AKS derives MC_&lt;group&gt;_&lt;cluster&gt;_&lt;location&gt;, and
///   either way a name over 80 characters is refused with 400 InvalidParameter "The length of the node resource group name
///   is too long. The maximum length is 80 …" (the wording AKS returns, as quoted in Azure/aad-pod-identity#810 and
///   rancher/rancher#21264; https://aka.ms/aks-naming-rules). It cannot change after creation.</item>
/// <item>AKS dnsPrefix: 1-54 characters, letters, digits and hyphens, starting and ending alphanumeric (AKS naming rules).</item>
/// <item>A VM's osProfile.computerName: 1-64 characters on Linux (resource-name-rules, virtualMachines).</item>
/// <item>Locations: a resource group only in a physical location of the subscription, 400 LocationNotAvailableForResourceGroup;
///   other resources 400 LocationNotAvailableForResourceType (common-deployment-errors; the list is <see cref="Locations"/>).</item>
/// <item>A VM size the location does not offer: 409 SkuNotAvailable (learn.microsoft.com/azure/azure-resource-manager/
///   troubleshooting/error-sku-not-available; the sizes are those of the vmSizes list, <see cref="VmSizes"/>).</item>
/// <item>Statuses: ResourceGroupNotFound 404, SkuNotAvailable 409, the other validation errors 400.</item>
/// <item>api-versions: each namespace answers only versions it publishes (the stable folders of azure-rest-api-specs:
///   resources 2021-04-01…2024-03-01, network 2023-09-01…2024-05-01, compute 2023-09-01…2024-11-01, containerservice aks
///   2024-08-01…2025-01-01); any other is 400 NoRegisteredProviderFound, as ARM answers it.</item>
/// </list>
/// </summary>
public sealed partial class ArmEmulator
{
    private sealed record NameRule(int Min, int Max, Regex Pattern);

    private static readonly Regex NetworkName = new(@"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9_])?$");
    private static readonly Dictionary<string, NameRule> NameRules = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Microsoft.Resources/resourceGroups"] = new(1, 90, new Regex(@"^[-\w._()]*[-\w_()]$")),
        ["Microsoft.Network/virtualNetworks"] = new(2, 64, NetworkName),
        ["Microsoft.Network/networkSecurityGroups"] = new(1, 80, NetworkName),
        ["Microsoft.Network/networkInterfaces"] = new(1, 80, NetworkName),
        ["Microsoft.Network/publicIPAddresses"] = new(1, 80, NetworkName),
        ["Microsoft.Compute/virtualMachines"] = new(1, 64, new Regex(@"^[^_\W][\w.-]*[\w_]$|^[A-Za-z0-9]$")),
        ["Microsoft.ContainerService/managedClusters"] = new(1, 63, new Regex(@"^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{0,61}[a-zA-Z0-9]$")),
    };

    private static readonly Regex DnsPrefix = new(@"^[a-zA-Z0-9]$|^[a-zA-Z0-9][a-zA-Z0-9-]{0,52}[a-zA-Z0-9]$");

    /// <summary>ARM's limit on a resource group name, which the AKS node resource group must respect too.</summary>
    public const int MaxResourceGroupName = 80;

    private static (string Code, string Message)? NameRuleViolation(string type, string name)
    {
        if (!NameRules.TryGetValue(type, out var rule)) return null;
        if (name.Length < rule.Min || name.Length > rule.Max || !rule.Pattern.IsMatch(name))
            return (type == "Microsoft.Resources/resourceGroups" ? "InvalidResourceGroupName" : "InvalidResourceName",
                $"Resource name '{name}' is invalid for type {type}: it must be {rule.Min}-{rule.Max} characters of the allowed set (length {name.Length}).");
        return null;
    }

    /// <summary>AKS's own checks of a managed cluster body; fills in the derived node resource group as AKS does.</summary>
    private static (string Code, string Message)? ManagedClusterViolation(string group, string name, JsonObject body)
    {
        var properties = body["properties"] as JsonObject;
        var dns = properties?["dnsPrefix"]?.GetValue<string>();
        if (dns is not null && !DnsPrefix.IsMatch(dns))
            return ("InvalidParameter", $"The value of parameter dnsPrefix is invalid: '{dns}'. It must be 1-54 letters, digits and hyphens, starting and ending with a letter or digit. Please see https://aka.ms/aks-naming-rules for more details.");
        var nodeGroup = properties?["nodeResourceGroup"]?.GetValue<string>() ?? $"MC_{group}_{name}_{body["location"]?.GetValue<string>()}";
        if (nodeGroup.Length > MaxResourceGroupName)
            return ("InvalidParameter", $"The length of the node resource group name is too long. The maximum length is {MaxResourceGroupName} and the length of the value provided is {nodeGroup.Length}. Please see https://aka.ms/aks-naming-rules for more details.");
        if (nodeGroup.Equals(group, StringComparison.OrdinalIgnoreCase))
            return ("InvalidParameter", "The node resource group must not be the resource group of the cluster itself.");
        if (properties is not null) properties["nodeResourceGroup"] = nodeGroup;
        return null;
    }

    private static (string Code, string Message)? ComputerNameViolation(JsonObject body)
    {
        var computer = body["properties"]?["osProfile"]?["computerName"]?.GetValue<string>();
        return computer is { Length: < 1 or > 64 }
            ? ("InvalidParameter", $"The value '{computer}' of parameter 'osProfile.computerName' is invalid: Linux computer names are 1-64 characters.")
            : null;
    }

    private static int StatusOf(string code) => code switch
    {
        "ResourceGroupNotFound" => 404,
        "SkuNotAvailable" => 409,
        _ => 400,
    };

    private (string Code, string Message)? LocationViolation(string type, string location)
    {
        var physical = Locations.Where(l => l.RegionType == "Physical").Select(l => l.Name).ToList();
        if (physical.Contains(location, StringComparer.OrdinalIgnoreCase)) return null;
        return type == "Microsoft.Resources/resourceGroups"
            ? ("LocationNotAvailableForResourceGroup", $"The provided location '{location}' is not available for resource group. List of available regions is '{string.Join(",", physical)}'.")
            : ("LocationNotAvailableForResourceType", $"The provided location '{location}' is not available for resource type '{type}'. List of available regions for the resource type is '{string.Join(",", physical)}'.");
    }

    private (string Code, string Message)? SizeViolation(string id, JsonObject body)
    {
        var size = body["properties"]?["hardwareProfile"]?["vmSize"]?.GetValue<string>();
        var location = body["location"]!.GetValue<string>();
        var offered = VmSizes.TryGetValue(location, out var sizes) ? sizes : DefaultVmSizes;
        if (size is null || offered.Contains(size, StringComparer.OrdinalIgnoreCase)) return null;
        return ("SkuNotAvailable", $"The requested size for resource '{id}' is currently not available in location '{location}' zones '' for subscription '{Subscription}'. Please try another size or deploy to a different location or zones. See https://aka.ms/azureskunotavailable for details.");
    }

    private static readonly Dictionary<string, string[]> ApiVersions = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Microsoft.Resources"] = ["2021-04-01", "2022-09-01", "2023-07-01", "2024-03-01"],
        ["Microsoft.Network"] = ["2023-09-01", "2023-11-01", "2024-01-01", "2024-03-01", "2024-05-01"],
        ["Microsoft.Compute"] = ["2023-09-01", "2024-03-01", "2024-07-01", "2024-11-01"],
        ["Microsoft.ContainerService"] = ["2024-08-01", "2024-09-01", "2024-10-01", "2025-01-01"],
    };

    /// <summary>A resource request (by type) or a registration request with an api-version its namespace does not publish.</summary>
    private static (string Code, string Message)? ApiVersionViolation(string type, string location, string version)
    {
        var ns = type.Split('/')[0];
        if (!ApiVersions.TryGetValue(ns, out var versions) || versions.Contains(version)) return null;
        return ("NoRegisteredProviderFound", $"No registered resource provider found for location '{location}' and API version '{version}' for type '{type[(ns.Length + 1)..]}'. The supported api-versions are '{string.Join(", ", versions)}'.");
    }
}
