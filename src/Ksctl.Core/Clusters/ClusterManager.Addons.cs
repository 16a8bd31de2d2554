using Ksctl.Core.Addons;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Clusters;

/// <summary>
/// Add-ons (Add-/Get-/Remove-KsctlAddon): pinned manifests from <see cref="AddonCatalog"/> applied to a Running
/// cluster with server-side apply, one plan step per add-on, each recorded in the state with every object it applied
/// so that Remove deletes exactly those.
/// </summary>
public sealed partial class ClusterManager
{
    public const string AddonOperation = "addon";
    public const string AddonRemoveOperation = "addon-remove";

    /// <summary>Ksctl's add-on catalogue.</summary>
    public static IReadOnlyList<AddonInfo> AvailableAddons => AddonCatalog.All.Select(e => e.Info).ToList();

    public async Task<Plan> PlanAddAddonAsync(ClusterId id, IReadOnlyList<string> names, CancellationToken cancellationToken)
    {
        var entries = ResolveAddons(names);
        var state = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        await EnsureAddonsAllowedAsync(state, "add add-ons to", lockHeld: false, cancellationToken).ConfigureAwait(false);
        return new Plan(AddonOperation, id, entries.Select(e => AddonPlans.Apply(e, _services.Time)));
    }

    public async Task<ClusterState> AddAddonAsync(ClusterId id, IReadOnlyList<string> names, OperationOptions options, CancellationToken cancellationToken)
    {
        var entries = ResolveAddons(names);
        return await ChangeAddonsAsync(id, AddonOperation, "add add-ons to", options, state => entries.Select(e => AddonPlans.Apply(e, _services.Time)), cancellationToken).ConfigureAwait(false);
    }

    public async Task<Plan> PlanRemoveAddonAsync(ClusterId id, IReadOnlyList<string> names, CancellationToken cancellationToken)
    {
        var state = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        await EnsureAddonsAllowedAsync(state, "remove add-ons from", lockHeld: false, cancellationToken).ConfigureAwait(false);
        return new Plan(AddonRemoveOperation, id, Installed(state, names).Select(AddonPlans.Remove));
    }

    public Task<ClusterState> RemoveAddonAsync(ClusterId id, IReadOnlyList<string> names, OperationOptions options, CancellationToken cancellationToken) =>
        ChangeAddonsAsync(id, AddonRemoveOperation, "remove add-ons from", options, state => Installed(state, names).Select(AddonPlans.Remove), cancellationToken);

    private async Task<ClusterState> ChangeAddonsAsync(ClusterId id, string operation, string verb, OperationOptions options,
        Func<ClusterState, IEnumerable<PlanStep>> steps, CancellationToken cancellationToken)
    {
        await using var clusterLock = await Store.AcquireLockAsync(id, operation, options.BreakStaleLock, cancellationToken).ConfigureAwait(false);
        var state = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        await EnsureAddonsAllowedAsync(state, verb, lockHeld: true, cancellationToken).ConfigureAwait(false);
        var plan = new Plan(operation, id, steps(state).ToList());
        var session = new StateSession(state, Store);
        session.Mutate(s =>
        {
            // Each run applies (or deletes) again: apply is idempotent, and a record of an earlier run is not this one's.
            foreach (var key in s.Steps.Keys.Where(k => k.StartsWith(operation + "/", StringComparison.Ordinal)).ToList()) s.Steps.Remove(key);
            s.Status = ClusterStatus.Configuring;
            s.LastErrors.Clear();
            MarkDay2Running(s, operation);
        });
        await session.CheckpointAsync().ConfigureAwait(false);
        _logger.LogInformation("{Operation} on {Cluster}: {Steps} step(s).", operation, id, plan.Steps.Count);
        await RunDay2Async(plan, session, options, "KsctlAddonFailed", cancellationToken).ConfigureAwait(false);
        return state;
    }

    private static IReadOnlyList<AddonCatalog.Entry> ResolveAddons(IReadOnlyList<string> names)
    {
        if (names.Count == 0) throw new InvalidSpecException("Addon", "give at least one add-on name (Get-KsctlAddon -ListAvailable lists them).");
        return names.Select(n => AddonCatalog.Find(n, "Addon")).DistinctBy(e => e.Name).ToList();
    }

    /// <summary>The recorded add-ons named; a name that is not installed is an error naming what is.</summary>
    private static IReadOnlyList<AddonRecord> Installed(ClusterState state, IReadOnlyList<string> names)
    {
        if (names.Count == 0) throw new InvalidSpecException("Addon", "give at least one add-on name (Get-KsctlAddon lists the installed ones).");
        return names.Select(n => state.Addons.FirstOrDefault(a => string.Equals(a.Name, n, StringComparison.OrdinalIgnoreCase))
                ?? throw new KsctlException("KsctlAddonNotFound", KsctlErrorCategory.ObjectNotFound,
                    $"Add-on '{n}' is not installed on {state.Id} (installed: {(state.Addons.Count == 0 ? "none" : string.Join(", ", state.Addons.Select(a => a.Name)))}).", n))
            .DistinctBy(a => a.Name).ToList();
    }

    /// <summary>Add-ons change a cluster that is Running (or whose last change failed), like resize.</summary>
    private async Task EnsureAddonsAllowedAsync(ClusterState state, string verb, bool lockHeld, CancellationToken cancellationToken)
    {
        var status = state.Status;
        if (StatusRules.IsTransitional(status))
        {
            if (!lockHeld && await Store.LockHolderAsync(state.Id, cancellationToken).ConfigureAwait(false) is { } holder)
                throw new ClusterLockedException(state.Id.ToString(), holder);
            status = StatusRules.AfterInterruption(status);
        }
        if (status is not (ClusterStatus.Running or ClusterStatus.ConfiguringFailed))
            throw new KsctlException("KsctlOperationNotAllowed", KsctlErrorCategory.InvalidOperation,
                $"Cannot {verb} cluster {state.Id}: its status is {state.Status}; add-ons need a Running cluster.", state.Id.ToString());
    }
}
