using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Ksctl.Azure.Tests;

/// <summary>
/// Collection GETs of a resource group, and changes made behind Ksctl's back. Rules from azure-rest-api-specs,
/// specification/compute/resource-manager/Microsoft.Compute/stable/2024-07-01 (virtualMachine.json,
/// VirtualMachines_List): GET /subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.Compute/virtualMachines answers
/// VirtualMachineListResult {"value": [VirtualMachine...], "nextLink"}; "$expand" is ExpandTypeForListVMs, whose only
/// value is "instanceView" (anything else is 400 InvalidParameter); a group that does not exist is 404
/// ResourceGroupNotFound (ARM's common behaviour for any path under a missing group).
/// </summary>
public sealed partial class ArmEmulator
{
    /// <summary>Answers the list routes; false when the path is not one (the caller goes on to single resources).</summary>
    private async Task<bool> ListAsync(HttpContext ctx, string[] segments)
    {
        if (ctx.Request.Method != "GET" || segments.Length != 7 || !segments[4].Equals("providers", StringComparison.OrdinalIgnoreCase)) return false;
        var type = segments[5] + "/" + segments[6];
        if (!type.Equals("Microsoft.Compute/virtualMachines", StringComparison.OrdinalIgnoreCase))
        {
            await Error(ctx, 404, "NotFound", $"No list route for {type}.");
            return true;
        }
        var expand = ctx.Request.Query["$expand"].ToString();
        if (expand.Length > 0 && expand != "instanceView")
        {
            await Error(ctx, 400, "InvalidParameter", $"The value '{expand}' of parameter '$expand' is not valid. Allowed values: instanceView.");
            return true;
        }
        var group = segments[3];
        JsonArray items;
        lock (_gate)
        {
            if (!_resources.Values.Any(r => r.Type == "Microsoft.Resources/resourceGroups" && r.Name.Equals(group, StringComparison.OrdinalIgnoreCase)))
                items = null!;
            else
                items = new JsonArray(_resources.Values
                    .Where(r => r.Type == "Microsoft.Compute/virtualMachines" && r.Group.Equals(group, StringComparison.OrdinalIgnoreCase))
                    .OrderBy(r => r.Name, StringComparer.Ordinal)
                    .Select(r => (JsonNode)r.Body.DeepClone()).ToArray());
        }
        if (items is null)
        {
            await Error(ctx, 404, "ResourceGroupNotFound", $"Resource group '{group}' could not be found.");
            return true;
        }
        await Json(ctx, 200, new JsonObject { ["value"] = items });
        return true;
    }

    /// <summary>Deletes a VM as someone in the portal would: no request from Ksctl, its machine released at once.</summary>
    public void DeleteVmOutOfBand(string name)
    {
        lock (_gate)
        {
            var vm = _resources.Values.Single(r => r.Type == "Microsoft.Compute/virtualMachines" && r.Name == name);
            Remove(vm);
        }
    }
}
