using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace Ksctl.Azure.Tests;

/// <summary>
/// AKS agent pools as child resources of a managed cluster (azure-rest-api-specs, specification/containerservice/
/// resource-manager/Microsoft.ContainerService/aks/stable/2024-09-01/managedClusters.json: AgentPools_Get and
/// AgentPools_CreateOrUpdate on …/managedClusters/{resourceName}/agentPools/{agentPoolName}). The pool is the cluster's
/// agentPoolProfiles entry of that name, so both views always agree. Rules:
/// <list type="bullet">
/// <item>agentPoolName matches <c>^[a-z][a-z0-9]{0,11}$</c> (the path parameter's pattern).</item>
/// <item>count: "Allowed values must be in the range of 0 to 1000 (inclusive) for user pools and in the range of 1 to
///   1000 (inclusive) for system pools"; mode is the AgentPoolMode enum (System, User).</item>
/// <item>vmSize, osType and mode of an existing pool cannot change (a new pool is needed): PropertyChangeNotAllowed, as
///   ARM answers for any immutable property.</item>
/// <item>While another operation runs on the cluster, AKS refuses a second one: 409 OperationNotAllowed.</item>
/// <item>The PUT is a long-running operation on the cluster (provisioningState Updating, then Succeeded) with
///   Azure-AsyncOperation, like every AKS write.</item>
/// </list>
/// This emulator knows only the pools a cluster was created with: a PUT naming another pool is refused, not created.
/// </summary>
public sealed partial class ArmEmulator
{
    private static readonly Regex AgentPoolName = new("^[a-z][a-z0-9]{0,11}$");

    /// <summary>Counts of the PUTs on agent pools (the body's properties.count), in order.</summary>
    public List<int> AgentPoolCounts { get; } = [];

    private async Task<bool> AgentPoolAsync(HttpContext ctx, string id, string type)
    {
        if (!type.Equals("Microsoft.ContainerService/managedClusters/agentPools", StringComparison.OrdinalIgnoreCase)) return false;
        var parts = id.Split('/');
        var clusterId = string.Join('/', parts[..^2]);
        var poolName = parts[^1];
        if (!AgentPoolName.IsMatch(poolName))
        {
            await Error(ctx, 400, "InvalidParameter", $"The agent pool name '{poolName}' is invalid: it must match ^[a-z][a-z0-9]{{0,11}}$.");
            return true;
        }
        if (ctx.Request.Method == "GET")
        {
            JsonObject? view;
            lock (_gate) view = _resources.TryGetValue(clusterId, out var c) ? PoolView(c, poolName) : null;
            await (view is null
                ? Error(ctx, 404, "ResourceNotFound", $"The Resource 'Microsoft.ContainerService/managedClusters/{parts[^3]}/agentPools/{poolName}' was not found.")
                : Json(ctx, 200, view));
            return true;
        }
        if (ctx.Request.Method != "PUT")
        {
            await Error(ctx, 405, "MethodNotAllowed", $"{ctx.Request.Method} is not supported on agent pools here.");
            return true;
        }
        JsonObject body;
        try { body = JsonNode.Parse(await new StreamReader(ctx.Request.Body).ReadToEndAsync()) as JsonObject ?? throw new FormatException("not an object"); }
        catch (Exception e) { await Error(ctx, 400, "InvalidRequestContent", $"The request content was invalid and could not be deserialized: {e.Message}"); return true; }
        (int Status, string Code, string Message)? refused = null;
        string? opId = null;
        JsonObject? answer = null;
        lock (_gate)
        {
            var profile = _resources.TryGetValue(clusterId, out var cluster) ? Profile(cluster, poolName) : null;
            var props = body["properties"] as JsonObject;
            if (cluster is null) refused = (404, "ResourceNotFound", $"The Resource 'Microsoft.ContainerService/managedClusters/{parts[^3]}' under resource group '{parts[4]}' was not found.");
            else if (profile is null) refused = (400, "InvalidParameter", $"Agent pool '{poolName}' does not exist (this emulator does not create new pools).");
            else if (cluster.Operation is not null) refused = (409, "OperationNotAllowed", "Operation is not allowed because there's an in progress update managed cluster operation on the managed cluster.");
            else if (props is null) refused = (400, "InvalidParameter", "The request body has no properties.");
            else if (PoolViolation(profile, props) is { } violation) refused = violation;
            else
            {
                var count = props["count"]!.GetValue<int>();
                AgentPoolCounts.Add(count);
                profile["count"] = count;
                SetState(cluster, "Updating");
                var op = NewOperation(clusterId, delete: false);
                InjectFailure(op, cluster);
                opId = op.Id;
                answer = PoolView(cluster, poolName);
            }
        }
        if (refused is { } r) { await Error(ctx, r.Status, r.Code, r.Message); return true; }
        AddOperationHeaders(ctx, opId!, location: false);
        await Json(ctx, 200, answer!);
        return true;
    }

    private static (int, string, string)? PoolViolation(JsonObject profile, JsonObject props)
    {
        var mode = props["mode"]?.GetValue<string>() ?? profile["mode"]?.GetValue<string>() ?? "User";
        if (mode is not ("System" or "User")) return (400, "InvalidParameter", $"The value '{mode}' of properties.mode is not valid; AgentPoolMode is System or User.");
        if (props["count"] is not JsonValue c || !c.TryGetValue<int>(out var count))
            return (400, "InvalidParameter", "properties.count is required and must be an integer.");
        var min = mode == "System" ? 1 : 0;
        if (count < min || count > 1000)
            return (400, "InvalidParameter", $"The value of properties.count {count} is invalid: allowed values are {min} to 1000 (inclusive) for {mode.ToLowerInvariant()} pools.");
        foreach (var field in new[] { "vmSize", "osType", "mode" })
        {
            var sent = props[field]?.GetValue<string>();
            if (sent is not null && !string.Equals(sent, profile[field]?.GetValue<string>(), StringComparison.OrdinalIgnoreCase))
                return (409, "PropertyChangeNotAllowed", $"Changing property '{field}' is not allowed.");
        }
        return null;
    }

    private static JsonObject? Profile(Resource cluster, string pool) =>
        (cluster.Body["properties"]?["agentPoolProfiles"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(p => p["name"]?.GetValue<string>() == pool);

    private static JsonObject? PoolView(Resource cluster, string pool)
    {
        if (Profile(cluster, pool) is not { } profile) return null;
        var properties = (JsonObject)profile.DeepClone();
        properties.Remove("name");
        properties["provisioningState"] = cluster.State;
        return new JsonObject
        {
            ["id"] = $"{cluster.Id}/agentPools/{pool}",
            ["name"] = pool,
            ["type"] = "Microsoft.ContainerService/managedClusters/agentPools",
            ["properties"] = properties,
        };
    }
}
