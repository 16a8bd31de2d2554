using System.Text.Json.Nodes;

namespace Ksctl.Azure.Tests;

/// <summary>
/// AKS upgrades on a PUT of an existing managed cluster, refusing what AKS refuses, each rule from its source:
/// <list type="bullet">
/// <item>Kubernetes minor versions cannot be skipped and a cluster cannot be downgraded (learn.microsoft.com/azure/aks/
///   upgrade-aks-cluster, "Kubernetes version upgrades"): 400 OperationNotAllowed, with AKS's wording "Upgrading
///   Kubernetes version 1.28.12 to 1.30.2 is not allowed. Available upgrades: [...]. Please see
///   https://aka.ms/aks-supported-k8s-ver for version details." (as rancher/dashboard#11884 quotes it) and "Downgrading
///   Kubernetes version 1.14.8 to 1.14.7 is not allowed. Available upgrades: ..." (rancher/rancher#24071).</item>
/// <item>A version the region does not list: AgentPoolK8sVersionNotSupported (<see cref="AksVersionViolation"/>).</item>
/// <item>A node pool's orchestratorVersion "must not be greater than the control plane version" and is upgraded, never
///   downgraded (managedClusters.json 2024-09-01, ManagedClusterAgentPoolProfileProperties.orchestratorVersion): 400
///   NodePoolMcVersionIncompatible / OperationNotAllowed.</item>
/// <item>A change of version is a long-running operation: provisioningState "Upgrading" until it completes, then
///   currentKubernetesVersion / currentOrchestratorVersion report the patch AKS chose (the newest of the minor).</item>
/// </list>
/// </summary>
public sealed partial class ArmEmulator
{
    /// <summary>How many PUTs changed a version (control plane or node pool), in order: "cp:1.42.4", "pool:nodepool1:1.42.4".</summary>
    public List<string> AksUpgrades { get; } = [];

    private static (int Major, int Minor, int Patch) Parts(string version)
    {
        var p = version.Split('.');
        return (int.Parse(p[0]), int.Parse(p[1]), p.Length > 2 ? int.Parse(p[2]) : 0);
    }

    private static int Compare(string a, string b) => Parts(a).CompareTo(Parts(b));

    private IEnumerable<string> AvailableUpgrades(string current)
    {
        var (major, minor, _) = Parts(current);
        return KubernetesVersions.Where(v => !v.IsPreview).SelectMany(v => v.Patches)
            .Where(p => Compare(p, current) > 0 && Parts(p).Major == major && Parts(p).Minor <= minor + 1)
            .OrderByDescending(p => Parts(p));
    }

    /// <summary>The refusal of an update to a managed cluster that AKS would refuse, or null.</summary>
    private (string Code, string Message)? AksUpgradeViolation(Resource existing, JsonObject body)
    {
        if (existing.Type != "Microsoft.ContainerService/managedClusters") return null;
        var current = existing.Body["properties"]?["currentKubernetesVersion"]?.GetValue<string>();
        var asked = body["properties"]?["kubernetesVersion"]?.GetValue<string>();
        if (current is null || asked is null) return null;
        var target = ResolveAksVersion(asked);
        var available = $"Available upgrades: [{string.Join(" ", AvailableUpgrades(current))}]. Please see https://aka.ms/aks-supported-k8s-ver for version details.";
        // A minor alone means its newest patch (AKS picks it), so "1.41" on a 1.42 cluster is a downgrade too.
        if (Compare(target, current) < 0)
            return ("OperationNotAllowed", $"Downgrading Kubernetes version {current} to {asked} is not allowed. {available}");
        if (Parts(target).Major != Parts(current).Major || Parts(target).Minor > Parts(current).Minor + 1)
            return ("OperationNotAllowed", $"Upgrading Kubernetes version {current} to {asked} is not allowed. {available}");
        foreach (var pool in (body["properties"]?["agentPoolProfiles"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var name = pool["name"]?.GetValue<string>();
            var wanted = pool["orchestratorVersion"]?.GetValue<string>();
            if (wanted is null) continue;
            if (!KubernetesVersions.Any(v => v.Minor == wanted || v.Patches.Contains(wanted)))
                return ("AgentPoolK8sVersionNotSupported", $"Version {wanted} is not supported in this region. Please use [az aks get-versions] command to get the supported version list in this region.");
            var resolved = ResolveAksVersion(wanted);
            if (Parts(resolved).Minor > Parts(target).Minor || (Parts(resolved).Minor == Parts(target).Minor && Compare(resolved, target) > 0))
                return ("NodePoolMcVersionIncompatible", $"Node pool version {wanted} and control plane version {asked} are incompatible. Minor version of node pool version {Parts(resolved).Minor} is bigger than control plane version {Parts(target).Minor}.");
            var before = PoolCurrent(existing, name);
            if (before is not null && Compare(resolved, before) < 0)
                return ("OperationNotAllowed", $"Downgrading the node pool {name} from {before} to {wanted} is not allowed.");
        }
        return null;
    }

    private static string? PoolCurrent(Resource r, string? name) =>
        (r.Body["properties"]?["agentPoolProfiles"] as JsonArray ?? []).OfType<JsonObject>()
            .FirstOrDefault(p => p["name"]?.GetValue<string>() == name)?["currentOrchestratorVersion"]?.GetValue<string>();

    /// <summary>
    /// After an accepted update: carries each pool's current version over and, when a version changes, starts the
    /// "Upgrading" operation (true) that <see cref="CompleteAksVersions"/> finishes.
    /// </summary>
    private bool AksUpgradeStarts(JsonObject previous, Resource updated)
    {
        if (updated.Type != "Microsoft.ContainerService/managedClusters") return false;
        var changed = false;
        var cpBefore = previous["properties"]?["currentKubernetesVersion"]?.GetValue<string>();
        var cpAfter = ResolveAksVersion(updated.Body["properties"]?["kubernetesVersion"]?.GetValue<string>());
        if (cpBefore is not null && cpAfter != cpBefore)
        {
            AksUpgrades.Add($"cp:{cpAfter}");
            changed = true;
        }
        var old = (previous["properties"]?["agentPoolProfiles"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        foreach (var pool in (updated.Body["properties"]?["agentPoolProfiles"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var name = pool["name"]?.GetValue<string>();
            var before = old.FirstOrDefault(p => p["name"]?.GetValue<string>() == name)?["currentOrchestratorVersion"]?.GetValue<string>();
            if (before is not null) pool["currentOrchestratorVersion"] = before;
            var after = ResolveAksVersion(pool["orchestratorVersion"]?.GetValue<string>() ?? updated.Body["properties"]?["kubernetesVersion"]?.GetValue<string>());
            if (before is not null && after != before)
            {
                AksUpgrades.Add($"pool:{name}:{after}");
                changed = true;
            }
        }
        if (changed) SetState(updated, "Upgrading");
        return changed;
    }

    /// <summary>When a managed cluster's operation succeeds: each pool reports the version it now runs.</summary>
    private void CompleteAksVersions(Resource r)
    {
        var cluster = r.Body["properties"]?["currentKubernetesVersion"]?.GetValue<string>();
        foreach (var pool in (r.Body["properties"]?["agentPoolProfiles"] as JsonArray ?? []).OfType<JsonObject>())
            pool["currentOrchestratorVersion"] = ResolveAksVersion(pool["orchestratorVersion"]?.GetValue<string>() ?? cluster);
    }
}
