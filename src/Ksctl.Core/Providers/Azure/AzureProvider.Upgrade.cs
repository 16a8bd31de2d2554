using System.Text.Json.Nodes;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Upgrade;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Azure;

/// <summary>
/// AKS upgrades the way "az aks upgrade --control-plane-only" then "az aks nodepool upgrade" do them
/// (learn.microsoft.com/azure/aks/upgrade-aks-cluster): a PUT of the managed cluster with the new
/// properties.kubernetesVersion and every agentPoolProfiles[].orchestratorVersion kept, then a PUT with the pools'
/// orchestratorVersion raised to it (managedClusters.json 2024-09-01: orchestratorVersion "must not be greater than the
/// control plane version"). Each step reads the cluster first and skips what AKS already reports done, so a re-run resumes.
/// </summary>
internal sealed partial class AzureProvider : IManagedUpgradeProvider
{
    public const string UpgradeControlPlaneStep = "aks:upgrade-control-plane";
    public const string UpgradeNodePoolsStep = "aks:upgrade-node-pools";

    public void CheckUpgradeVersion(ClusterState state, string version)
    {
        if (!AksVersion.IsMatch(version))
            throw new InvalidSpecException("KubernetesVersion", $"'{version}' is not an AKS Kubernetes version; use major.minor or major.minor.patch, e.g. 1.30 or 1.30.4.");
    }

    public IReadOnlyList<PlanStep> UpgradeSteps(ClusterState state, string version) =>
    [
        AzureRecordedIds.VerifyStep(state),
        new PlanStep(UpgradeControlPlaneStep, (ctx, ct) => UpgradeControlPlaneAsync(ctx, version, ct))
        {
            DependsOn = [AzureRecordedIds.StepName],
            Description = $"upgrade the AKS control plane of '{state.Id.Name}' to Kubernetes {version} (node pools keep their version; waits until AKS reports it)",
            Resources = [$"managedClusters {state.Id.Name}: kubernetesVersion {version}"],
        },
        new PlanStep(UpgradeNodePoolsStep, (ctx, ct) => UpgradeNodePoolsAsync(ctx, version, ct))
        {
            DependsOn = [UpgradeControlPlaneStep],
            Description = $"upgrade the node pools of '{state.Id.Name}' to Kubernetes {version} (AKS surges, drains and replaces the nodes)",
            Resources = [$"agentPoolProfiles[*].orchestratorVersion {version}"],
        },
    ];

    private async Task UpgradeControlPlaneAsync(StepContext ctx, string version, CancellationToken ct)
    {
        var (client, names) = await SessionAsync(ctx, ct).ConfigureAwait(false);
        var cluster = await client.GetAsync(names.ManagedClusterId, AzureApiVersions.ContainerService, ct).ConfigureAwait(false)
            ?? throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ObjectNotFound, $"AKS cluster '{ctx.State.Id.Name}' was not found in Azure.", ctx.State.Id.Name);
        var current = ReportedVersion(cluster["properties"]?["currentKubernetesVersion"]);
        if (Reached(current, version))
        {
            Record(ctx, current!);
            return;
        }
        var body = Writable(cluster);
        body["properties"]!["kubernetesVersion"] = version;
        foreach (var pool in Pools(body))
            pool["orchestratorVersion"] = ReportedVersion(pool["currentOrchestratorVersion"]) ?? ReportedVersion(pool["orchestratorVersion"]) ?? current;
        _logger.LogInformation("Upgrading the AKS control plane of {Name} from {From} to {To}; this takes several minutes.", ctx.State.Id.Name, current, version);
        var upgraded = await client.PutAsync(names.ManagedClusterId, AzureApiVersions.ContainerService, body, $"AKS control plane of {ctx.State.Id.Name}", ManagedClusterTimeout, ct).ConfigureAwait(false);
        Record(ctx, ReportedVersion(upgraded["properties"]?["currentKubernetesVersion"]) ?? version);
    }

    private async Task UpgradeNodePoolsAsync(StepContext ctx, string version, CancellationToken ct)
    {
        var (client, names) = await SessionAsync(ctx, ct).ConfigureAwait(false);
        var cluster = await client.GetAsync(names.ManagedClusterId, AzureApiVersions.ContainerService, ct).ConfigureAwait(false)
            ?? throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ObjectNotFound, $"AKS cluster '{ctx.State.Id.Name}' was not found in Azure.", ctx.State.Id.Name);
        var body = Writable(cluster);
        var pending = Pools(body).Where(p => !Reached(ReportedVersion(p["currentOrchestratorVersion"]) ?? ReportedVersion(p["orchestratorVersion"]), version)).ToList();
        if (pending.Count == 0) return;
        foreach (var pool in pending) pool["orchestratorVersion"] = version;
        _logger.LogInformation("Upgrading {Count} node pool(s) of {Name} to {Version}.", pending.Count, ctx.State.Id.Name, version);
        await client.PutAsync(names.ManagedClusterId, AzureApiVersions.ContainerService, body, $"AKS node pools of {ctx.State.Id.Name}", ManagedClusterTimeout, ct).ConfigureAwait(false);
    }

    /// <summary>A version Azure reported, used only when it is a version (the answer is not trusted further).</summary>
    private static string? ReportedVersion(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<string>(out var text) && AksVersion.IsMatch(text) ? text : null;

    /// <summary>"1.42.4" has reached "1.42" or "1.42.4"; anything older has not.</summary>
    private static bool Reached(string? current, string wanted)
    {
        if (!KubernetesVersion.TryParse(current, out var have) || !KubernetesVersion.TryParse(wanted, out var want)) return false;
        return want.Patch is null ? have.Major == want.Major && have.Minor >= want.Minor || have.Major > want.Major : have.CompareTo(want) >= 0;
    }

    private static void Record(StepContext ctx, string version) => ctx.Mutate(s => s.KubernetesVersion = version);

    /// <summary>The cluster as read, minus what Azure computes (a PUT carries only what may be written).</summary>
    private static JsonObject Writable(JsonObject cluster)
    {
        var body = (JsonObject)cluster.DeepClone();
        foreach (var key in new[] { "id", "name", "type", "systemData" }) body.Remove(key);
        if (body["properties"] is JsonObject p)
            foreach (var key in new[] { "provisioningState", "powerState", "fqdn", "currentKubernetesVersion", "azurePortalFQDN", "maxAgentPools" }) p.Remove(key);
        foreach (var pool in Pools(body))
            foreach (var key in new[] { "provisioningState", "powerState", "currentOrchestratorVersion", "nodeImageVersion" }) pool.Remove(key);
        return body;
    }

    private static IEnumerable<JsonObject> Pools(JsonObject body) =>
        (body["properties"]?["agentPoolProfiles"] as JsonArray ?? []).OfType<JsonObject>();
}
