using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Ksctl.Azure.Tests;

/// <summary>
/// The emulator's read-only catalogue: a subscription's locations (Microsoft.Resources) and the VM sizes of a location
/// (Microsoft.Compute), in ARM's list shape (<c>value</c>, and <c>nextLink</c> when <see cref="CatalogPageSize"/> pages it).
/// Each answers only the api-versions ARM documents for it, as ARM does (400 InvalidApiVersionParameter otherwise).
/// AKS's versions of a location: GET /subscriptions/{s}/providers/Microsoft.ContainerService/locations/{l}/kubernetesVersions
/// answers <c>{"values": [{"version", "isDefault", "isPreview", "capabilities", "patchVersions"}]}</c> (azure-rest-api-specs
/// containerservice/.../aks/stable/2024-09-01/examples/KubernetesVersions_List.json; note "values", not "value").
/// </summary>
public sealed partial class ArmEmulator
{
    /// <summary>A location as ARM lists it: Physical regions hold resources, Logical ones ("global", geographies) do not.</summary>
    public sealed record Location(string Name, string RegionType = "Physical");

    /// <summary>Not in Ksctl's static region list: a test that sees it knows the list came from here.</summary>
    public const string EmulatorOnlyRegion = "ksctlemulatorwest";
    /// <summary>Not in Ksctl's static size list.</summary>
    public const string EmulatorOnlySize = "Standard_KE4s_v9";

    public List<Location> Locations { get; } =
    [
        new("westeurope"), new("eastus"), new(EmulatorOnlyRegion), new("northeurope"),
        new("global", "Logical"), new("europe", "Logical"),
    ];

    /// <summary>VM sizes per location (lowercase name); a physical location without an entry offers <see cref="DefaultVmSizes"/>.</summary>
    public Dictionary<string, string[]> VmSizes { get; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["westeurope"] = ["Standard_D2s_v5", "Standard_B2s", "Standard_WE8s_v9"],
    };

    public string[] DefaultVmSizes { get; set; } = ["Standard_DS2_v2", EmulatorOnlySize, "Standard_B2s", "Standard_F2s"];

    /// <summary>While set, catalogue requests wait for it after <see cref="CatalogArrived"/> is signalled (cancellation tests).</summary>
    public TaskCompletionSource? CatalogGate { get; set; }
    public TaskCompletionSource CatalogArrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Items per page of the catalogue lists (0: one page), to exercise nextLink.</summary>
    public int CatalogPageSize { get; set; }

    private static readonly string[] LocationApiVersions = ["2022-12-01", "2021-01-01", "2020-01-01"];
    private static readonly string[] VmSizeApiVersions = ["2024-07-01", "2024-03-01", "2023-09-01"];

    /// <summary>GET /subscriptions/{s}/locations and /subscriptions/{s}/providers/Microsoft.Compute/locations/{l}/vmSizes; false: not a catalogue path.</summary>
    private async Task<bool> CatalogAsync(HttpContext ctx, string[] segments)
    {
        var isLocations = segments.Length == 3 && segments[2].Equals("locations", StringComparison.OrdinalIgnoreCase);
        var isVmSizes = segments.Length == 7 && segments[2].Equals("providers", StringComparison.OrdinalIgnoreCase)
            && segments[3].Equals("Microsoft.Compute", StringComparison.OrdinalIgnoreCase)
            && segments[4].Equals("locations", StringComparison.OrdinalIgnoreCase)
            && segments[6].Equals("vmSizes", StringComparison.OrdinalIgnoreCase);
        if (!isLocations && !isVmSizes) return false;
        if (ctx.Request.Method != "GET")
        {
            await Error(ctx, 405, "MethodNotAllowed", $"{ctx.Request.Method} is not supported on {ctx.Request.Path}.");
            return true;
        }
        var version = ctx.Request.Query["api-version"].ToString();
        var supported = isLocations ? LocationApiVersions : VmSizeApiVersions;
        if (!supported.Contains(version))
        {
            await Error(ctx, 400, "InvalidApiVersionParameter",
                $"The api-version '{version}' is invalid. The supported versions are '{string.Join(",", supported)}'.");
            return true;
        }
        CatalogArrived.TrySetResult();
        if (CatalogGate is { } gate) await gate.Task.WaitAsync(ctx.RequestAborted);
        JsonObject[] items;
        lock (_gate)
        {
            if (isLocations)
            {
                var subscription = segments[1];
                items = Locations.Select(l => new JsonObject
                {
                    ["id"] = $"/subscriptions/{subscription}/locations/{l.Name}",
                    ["name"] = l.Name,
                    ["type"] = "Region",
                    ["displayName"] = l.Name,
                    ["metadata"] = new JsonObject { ["regionType"] = l.RegionType, ["regionCategory"] = l.RegionType == "Physical" ? "Recommended" : "Other" },
                }).ToArray();
            }
            else
            {
                var location = segments[5];
                if (!Locations.Any(l => l.RegionType == "Physical" && l.Name.Equals(location, StringComparison.OrdinalIgnoreCase)))
                {
                    items = null!;
                }
                else
                {
                    items = (VmSizes.TryGetValue(location, out var sizes) ? sizes : DefaultVmSizes).Select(n => new JsonObject
                    {
                        ["name"] = n, ["numberOfCores"] = 2, ["memoryInMB"] = 8192, ["maxDataDiskCount"] = 4,
                        ["osDiskSizeInMB"] = 1047552, ["resourceDiskSizeInMB"] = 16384,
                    }).ToArray();
                }
            }
        }
        if (items is null)
        {
            await Error(ctx, 400, "NoRegisteredProviderFound",
                $"No registered resource provider found for location '{segments[5]}' and API version '{version}' for type 'locations/vmSizes'.");
            return true;
        }
        // Paging as ARM does it: a nextLink that carries the api-version and an opaque continuation token.
        var skip = int.TryParse(ctx.Request.Query["$skiptoken"], out var s) ? s : 0;
        var take = CatalogPageSize > 0 ? CatalogPageSize : items.Length;
        var body = new JsonObject { ["value"] = new JsonArray(items.Skip(skip).Take(take).Select(i => (JsonNode)i).ToArray()) };
        if (skip + take < items.Length)
            body["nextLink"] = $"{(LinkBase ?? BaseUrl).ToString().TrimEnd('/')}{ctx.Request.Path}?api-version={version}&$skiptoken={skip + take}";
        await Json(ctx, 200, body);
        return true;
    }

    /// <summary>A minor version as AKS lists it; the last patch is what a cluster created with the minor gets.</summary>
    public sealed record AksVersion(string Minor, string[] Patches, bool IsDefault = false, bool IsPreview = false);

    /// <summary>What kubernetesVersions serves (per test). Deliberately not today's versions: Ksctl must read them, not know them.</summary>
    public List<AksVersion> KubernetesVersions { get; } =
    [
        new("1.41", ["1.41.3", "1.41.5"]),
        new("1.42", ["1.42.1", "1.42.4"], IsDefault: true),
        new("1.43", ["1.43.0"], IsPreview: true),
    ];

    private static readonly string[] ContainerServiceApiVersions = ["2024-09-01", "2024-10-01", "2025-01-01"];

    private async Task<bool> KubernetesVersionsAsync(HttpContext ctx, string[] segments)
    {
        if (!(segments.Length == 7 && segments[2].Equals("providers", StringComparison.OrdinalIgnoreCase)
            && segments[3].Equals("Microsoft.ContainerService", StringComparison.OrdinalIgnoreCase)
            && segments[4].Equals("locations", StringComparison.OrdinalIgnoreCase)
            && segments[6].Equals("kubernetesVersions", StringComparison.OrdinalIgnoreCase))) return false;
        var version = ctx.Request.Query["api-version"].ToString();
        if (!ContainerServiceApiVersions.Contains(version))
        {
            await Error(ctx, 400, "InvalidApiVersionParameter", $"The api-version '{version}' is invalid. The supported versions are '{string.Join(",", ContainerServiceApiVersions)}'.");
            return true;
        }
        JsonArray values;
        lock (_gate)
            values = new JsonArray(KubernetesVersions.Select(v =>
            {
                var item = new JsonObject { ["version"] = v.Minor };
                if (v.IsDefault) item["isDefault"] = true;
                if (v.IsPreview) item["isPreview"] = true;
                item["capabilities"] = new JsonObject { ["supportPlan"] = new JsonArray("KubernetesOfficial") };
                item["patchVersions"] = new JsonObject(v.Patches.Select(p => KeyValuePair.Create(p, (JsonNode?)new JsonObject { ["upgrades"] = new JsonArray() })));
                return (JsonNode)item;
            }).ToArray());
        await Json(ctx, 200, new JsonObject { ["values"] = values });
        return true;
    }

    /// <summary>The version AKS gives a cluster: the last patch of the minor asked for (or of the default), or the patch given.</summary>
    private string ResolveAksVersion(string? asked)
    {
        var minor = KubernetesVersions.FirstOrDefault(v => v.Minor == asked) ?? (asked is null ? KubernetesVersions.First(v => v.IsDefault) : null);
        if (minor is not null) return minor.Patches[^1];
        return asked!;
    }

    /// <summary>AKS refuses a version it does not list (400, as AKS answers an unsupported version).</summary>
    private (string Code, string Message)? AksVersionViolation(JsonObject body)
    {
        var asked = body["properties"]?["kubernetesVersion"]?.GetValue<string>();
        if (asked is null || KubernetesVersions.Any(v => v.Minor == asked || v.Patches.Contains(asked))) return null;
        return ("AgentPoolK8sVersionNotSupported", $"Version {asked} is not supported in this region. Please use [az aks get-versions] command to get the supported version list in this region.");
    }
}
