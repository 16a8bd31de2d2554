using System.Text.Json.Nodes;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Azure;

/// <summary>
/// Resize-KsctlCluster -NodeCount on AKS: the system agent pool's count through ARM (AgentPools_CreateOrUpdate,
/// containerservice 2024-09-01: PUT …/managedClusters/{name}/agentPools/{pool}, a long-running operation). The pool is
/// read first and its immutable fields (vmSize, mode, osType, type) are sent back as they are, so only the count changes.
/// </summary>
internal sealed partial class AzureProvider : IManagedResizeProvider
{
    public const string AgentPoolStep = "azure:agent-pool-count";

    public IReadOnlyList<PlanStep> ResizeSteps(ClusterState state, int nodeCount) =>
    [
        new PlanStep(AgentPoolStep, (ctx, ct) => SetAgentPoolCountAsync(ctx, nodeCount, ct))
        {
            Description = $"set AKS agent pool '{AzureBodies.SystemPool}' of '{state.Id.Name}' to {nodeCount} node(s) (waits until AKS has scaled it)",
            Resources = [.. AzureRecordedIds.ForDisplay(state, AzureResourceKeys.ManagedCluster).Select(id => $"{id}/agentPools/{AzureBodies.SystemPool}")],
        },
    ];

    private async Task SetAgentPoolCountAsync(StepContext ctx, int nodeCount, CancellationToken ct)
    {
        var (client, names) = await SessionAsync(ctx, ct).ConfigureAwait(false);
        var name = ctx.State.Id.Name;
        var recorded = Recorded(ctx, AzureResourceKeys.ManagedCluster)
            ?? throw new KsctlException("KsctlStateInvalid", KsctlErrorCategory.InvalidData, $"The state of '{name}' records no AKS cluster id.", name);
        var poolId = $"{AzureRecordedIds.Verify(names, AzureResourceKeys.ManagedCluster, recorded)}/agentPools/{AzureBodies.SystemPool}";
        var pool = await client.GetAsync(poolId, AzureApiVersions.ContainerService, ct).ConfigureAwait(false)
            ?? throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ObjectNotFound, $"AKS cluster '{name}' has no agent pool '{AzureBodies.SystemPool}'.", name);
        if (pool["properties"] is not JsonObject current)
            throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult, $"Azure returned agent pool '{AzureBodies.SystemPool}' of '{name}' without properties.", name);
        if (current["enableAutoScaling"] is JsonValue auto && auto.TryGetValue<bool>(out var autoscales) && autoscales)
            throw new InvalidSpecException("NodeCount", $"agent pool '{AzureBodies.SystemPool}' of '{name}' has the cluster autoscaler enabled; AKS sets its count itself.");
        var body = new JsonObject { ["properties"] = new JsonObject { ["count"] = nodeCount } };
        foreach (var field in new[] { "vmSize", "mode", "osType", "type" })
            if (current[field] is JsonValue v && v.TryGetValue<string>(out var text)) body["properties"]![field] = text;
        _logger.LogInformation("Setting AKS agent pool {Pool} of {Name} to {Count} node(s).", AzureBodies.SystemPool, name, nodeCount);
        var result = await client.PutAsync(poolId, AzureApiVersions.ContainerService, body, $"agent pool {AzureBodies.SystemPool} of AKS cluster {name}",
            ManagedClusterTimeout, ct).ConfigureAwait(false);
        var count = result["properties"]?["count"] is JsonValue c && c.TryGetValue<int>(out var n) ? n : (int?)null;
        if (count != nodeCount)
            throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult,
                $"AKS reports agent pool '{AzureBodies.SystemPool}' of '{name}' at {count?.ToString() ?? "no"} node(s) after setting {nodeCount}.", name);
    }
}
