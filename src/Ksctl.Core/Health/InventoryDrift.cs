using Ksctl.Core.Model;
using Ksctl.Core.Providers;

namespace Ksctl.Core.Health;

/// <summary>
/// Compares the machines the state records with those the cloud reports: one result per recorded machine (present and
/// running, stopped, or gone), and one failure per machine the cloud has for the cluster that the state does not know
/// (an orphan a failed step or someone else left behind). Matched by resource id, else by name.
/// </summary>
internal static class InventoryDrift
{
    public static IReadOnlyList<HealthCheckResult> Compare(ClusterState state, IReadOnlyList<LiveMachine> live)
    {
        var results = new List<HealthCheckResult>();
        var matched = new HashSet<LiveMachine>();
        foreach (var node in state.Nodes.OrderBy(n => n.Role).ThenBy(n => n.Index))
        {
            var target = node.Key ?? node.Name;
            var found = Match(node, live);
            if (found is null)
            {
                results.Add(new(HealthChecks.Inventory, target, false, $"machine '{node.Name}' is recorded in the state but {state.Id.Provider} no longer has it"));
                continue;
            }
            matched.Add(found);
            results.Add(IsRunning(found.State)
                ? new(HealthChecks.Inventory, target, true, $"machine '{found.Name}' exists ({found.State})")
                : new(HealthChecks.Inventory, target, false, $"machine '{found.Name}' exists but is {found.State}"));
        }
        foreach (var extra in live.Where(m => !matched.Contains(m)).OrderBy(m => m.Name, StringComparer.Ordinal))
            results.Add(new(HealthChecks.Inventory, extra.Name, false, $"{state.Id.Provider} has machine '{extra.Name}' for this cluster, which the state does not record"));
        return results;
    }

    /// <summary>The cloud's machine for a recorded node: by resource id, else by name (the drift check's and a repair's one rule).</summary>
    public static LiveMachine? Match(NodeState node, IReadOnlyList<LiveMachine> live) =>
        live.FirstOrDefault(m => node.ResourceId is not null && string.Equals(m.ResourceId, node.ResourceId, StringComparison.OrdinalIgnoreCase))
        ?? live.FirstOrDefault(m => string.Equals(m.Name, node.Name, StringComparison.Ordinal));

    private static bool IsRunning(string state) =>
        state.Equals("running", StringComparison.OrdinalIgnoreCase) || state.Equals("ACTIVE", StringComparison.OrdinalIgnoreCase)
        || state.Equals("PowerState/running", StringComparison.OrdinalIgnoreCase) || state.Equals("reachable", StringComparison.Ordinal) || state.Equals("Succeeded", StringComparison.Ordinal);
}
