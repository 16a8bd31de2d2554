using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Ksctl.Azure.Tests;

/// <summary>
/// The emulator's read-only catalogue: a subscription's locations (Microsoft.Resources) and the VM sizes of a location
/// (Microsoft.Compute), in ARM's list shape (<c>value</c>, and <c>nextLink</c> when <see cref="CatalogPageSize"/> pages it).
/// Each answers only the api-versions ARM documents for it, as ARM does (400 InvalidApiVersionParameter otherwise).
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
            body["nextLink"] = $"{BaseUrl.ToString().TrimEnd('/')}{ctx.Request.Path}?api-version={version}&$skiptoken={skip + take}";
        await Json(ctx, 200, body);
        return true;
    }
}
