using Ksctl.Core.Diagnostics;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Providers;
using Ksctl.Core.Upgrade;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Clusters;

/// <summary>
/// Update-KsctlCluster -KubernetesVersion: validated against the version skew rules before anything is locked or
/// changed, then a plan like any other (the managed cloud's steps, or the distribution's rolling upgrade). The target
/// is recorded while it runs, so a failure or Ctrl+C leaves ConfiguringFailed and a re-run with the same version
/// resumes from the node it stopped at.
/// </summary>
public sealed partial class ClusterManager
{
    /// <summary>The upgrade plan for -WhatIf (validated, nothing touched); empty when the cluster is already at the version.</summary>
    public async Task<Plan> PlanUpgradeAsync(ClusterId id, string kubernetesVersion, int maxUnavailable, CancellationToken cancellationToken)
    {
        var state = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        await EnsureAllowedAsync(state, ClusterOperation.Upgrade, lockHeld: false, cancellationToken).ConfigureAwait(false);
        var target = PrepareUpgrade(state, kubernetesVersion, maxUnavailable);
        if (target is null) return new Plan("upgrade", id, []);
        await using var build = _composer.Upgrade(state, target, maxUnavailable, OperationOptions.Default);
        return build.Plan;
    }

    /// <summary>
    /// Upgrades the cluster to <paramref name="kubernetesVersion"/>: self-managed control planes one at a time, then
    /// workers in batches of <paramref name="maxUnavailable"/> (drain, upgrade, uncordon); managed clusters through
    /// their cloud. Returns the state unchanged when the cluster already runs that version.
    /// </summary>
    public async Task<ClusterState> UpgradeAsync(ClusterId id, string kubernetesVersion, int maxUnavailable, OperationOptions options, CancellationToken cancellationToken)
    {
        _providers.Get(id.Provider, options.Credential);
        await using var clusterLock = await Store.AcquireLockAsync(id, "upgrade", options.BreakStaleLock, cancellationToken).ConfigureAwait(false);
        var state = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        await EnsureAllowedAsync(state, ClusterOperation.Upgrade, lockHeld: true, cancellationToken).ConfigureAwait(false);
        var target = PrepareUpgrade(state, kubernetesVersion, maxUnavailable);
        if (target is null)
        {
            _logger.LogInformation("{Cluster} already runs Kubernetes {Version}; nothing to upgrade.", id, kubernetesVersion);
            return state;
        }
        var resuming = state.UpgradeTargetVersion == target;
        var session = new StateSession(state, Store);
        session.Mutate(s =>
        {
            // A new upgrade starts from scratch; an unfinished one to the same version resumes from its checkpoints.
            if (!resuming) foreach (var key in s.Steps.Keys.Where(k => k.StartsWith("upgrade/", StringComparison.Ordinal)).ToList()) s.Steps.Remove(key);
            s.Status = ClusterStatus.Configuring;
            s.LastErrors.Clear();
            s.UpgradeTargetVersion = target;
        });
        await session.CheckpointAsync().ConfigureAwait(false);
        await using var build = _composer.Upgrade(state, target, maxUnavailable, options);
        _logger.LogInformation("Upgrading {Cluster} to Kubernetes {Version}: {Steps} step(s).", id, target, build.Plan.Steps.Count);
        await RunAsync(build.Plan, session, options, ClusterStatus.Running, ClusterStatus.ConfiguringFailed, "KsctlUpgradeFailed", cancellationToken).ConfigureAwait(false);
        session.Mutate(s =>
        {
            s.Spec = s.Spec with { KubernetesVersion = target };
            // A managed cloud's step records the version it reports (AKS may add the patch it chose).
            if (s.Id.Type == ClusterType.SelfManaged || !KubernetesVersion.TryParse(s.KubernetesVersion, out var reported)
                || !KubernetesVersion.TryParse(target, out var wanted) || reported.CompareTo(wanted) < 0)
                s.KubernetesVersion = target;
            s.UpgradeTargetVersion = null;
        });
        await session.CheckpointAsync().ConfigureAwait(false);
        _logger.LogInformation("{Cluster} runs Kubernetes {Version}.", id, target);
        return state;
    }

    /// <summary>
    /// A worker joined while an upgrade is unfinished would join at the version the cluster is leaving (the spec keeps it
    /// until the upgrade is done) and then be skipped by the resumed upgrade, whose plan was fixed when it began: a
    /// resize that adds workers is refused until the upgrade is finished. Removing workers is not affected.
    /// </summary>
    private static void RefuseJoinDuringUpgrade(ClusterState state, int workerCount)
    {
        if (state.UpgradeTargetVersion is not { } pending) return;
        var workers = state.Nodes.Count(n => n.Role == NodeRole.Worker);
        if (workerCount <= workers) return;
        // What the state says is printed only when it is a version.
        var target = KubernetesVersion.TryParse(pending, out _) ? pending : "<the version it was started with>";
        throw new InvalidSpecException("WorkerCount",
            $"{workerCount} adds workers to {state.Id.Name} while its upgrade to {target} is unfinished: they would join at {state.Spec.KubernetesVersion ?? state.KubernetesVersion}. " +
            $"run Update-KsctlCluster -KubernetesVersion {target} to finish it first, then resize. Nothing was changed.");
    }

    /// <summary>The version to upgrade to, or null when there is nothing to do. Throws InvalidSpecException; touches nothing.</summary>
    private string? PrepareUpgrade(ClusterState state, string kubernetesVersion, int maxUnavailable)
    {
        if (maxUnavailable < 1) throw new InvalidSpecException("MaxUnavailable", $"{maxUnavailable} is not a batch size; give 1 or more workers to upgrade at once.");
        if (!_composer.CanUpgrade(state))
            throw new ProviderNotAvailableException(state.Id.Provider.ToString(),
                $"Upgrading {state.Id.Type} {state.Spec.Distribution?.ToString() ?? state.Distribution} clusters on {state.Id.Provider} is not available in this version of Ksctl.");
        if (string.IsNullOrWhiteSpace(kubernetesVersion)) throw new InvalidSpecException(VersionSkew.Parameter, "give the Kubernetes version to upgrade to, e.g. 1.34.1.");
        var version = kubernetesVersion.Trim();
        if (state.Id.Type == ClusterType.SelfManaged) version = SpecRules.Version(version, version, requirePatch: true);
        else _composer.CheckManagedVersion(state, version);
        // What the state says is pending was written by us, but it is checked like any input before it decides anything.
        if (state.UpgradeTargetVersion is { } pending && state.Status is ClusterStatus.ConfiguringFailed or ClusterStatus.Configuring)
        {
            if (!KubernetesVersion.TryParse(pending, out _))
                throw new StateInvalidException(state.Id.ToString(), Store.Description, $"the pending upgrade version '{pending}' is not a Kubernetes version");
            if (pending != version)
                throw new InvalidSpecException(VersionSkew.Parameter,
                    $"the upgrade of {state.Id.Name} to {pending} did not finish; run Update-KsctlCluster -KubernetesVersion {pending} again to resume it before upgrading to {version}. Nothing was changed.");
        }
        var current = state.KubernetesVersion ?? state.Spec.KubernetesVersion;
        return VersionSkew.Check(current, version) ? version : null;
    }
}
