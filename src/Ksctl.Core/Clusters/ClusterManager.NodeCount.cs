using Ksctl.Core.Diagnostics;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Providers;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Clusters;

/// <summary>Resize-KsctlCluster -NodeCount: scaling a managed cluster's node pool (AKS agent pool, Civo node pool).</summary>
public sealed partial class ClusterManager
{
    /// <summary>The most nodes a pool may have (AKS: 1 to 1000 for a system pool, managedClusters.json 2024-09-01).</summary>
    public const int MaxNodeCount = 1000;

    /// <summary>The node-pool resize plan for -WhatIf (validated, nothing touched).</summary>
    public async Task<Plan> PlanResizeNodesAsync(ClusterId id, int nodeCount, CancellationToken cancellationToken)
    {
        var state = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        await EnsureAllowedAsync(state, ClusterOperation.Resize, lockHeld: false, cancellationToken).ConfigureAwait(false);
        var (provider, _) = PrepareNodeResize(state, nodeCount);
        return new Plan("resize", id, provider.ResizeSteps(state, nodeCount));
    }

    /// <summary>
    /// Sets the number of nodes of a managed cluster's pool. While it runs the cluster is Configuring; a failure leaves
    /// it ConfiguringFailed and running it again resumes (the same count is set again, which the clouds accept).
    /// </summary>
    public async Task<ClusterState> ResizeNodesAsync(ClusterId id, int nodeCount, OperationOptions options, CancellationToken cancellationToken)
    {
        _providers.Get(id.Provider, options.Credential);
        await using var clusterLock = await Store.AcquireLockAsync(id, "resize", options.BreakStaleLock, cancellationToken).ConfigureAwait(false);
        var state = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        await EnsureAllowedAsync(state, ClusterOperation.Resize, lockHeld: true, cancellationToken).ConfigureAwait(false);
        var (_, resized) = PrepareNodeResize(state, nodeCount);
        var provider = (IManagedResizeProvider)_providers.Get(id.Provider, options.Credential);
        var session = new StateSession(state, Store);
        session.Mutate(s =>
        {
            // Setting a count is idempotent: every resize runs its steps again.
            foreach (var key in s.Steps.Keys.Where(k => k.StartsWith("resize/", StringComparison.Ordinal)).ToList()) s.Steps.Remove(key);
            s.Status = ClusterStatus.Configuring;
            s.LastErrors.Clear();
        });
        await session.CheckpointAsync().ConfigureAwait(false);
        var plan = new Plan("resize", id, provider.ResizeSteps(state, nodeCount));
        _logger.LogInformation("Resizing {Cluster}'s node pool to {Nodes} node(s).", id, nodeCount);
        await RunAsync(plan, session, options, ClusterStatus.Running, ClusterStatus.ConfiguringFailed, "KsctlResizeFailed", cancellationToken).ConfigureAwait(false);
        session.Mutate(s => s.Spec = resized);
        await session.CheckpointAsync().ConfigureAwait(false);
        return state;
    }

    private (IManagedResizeProvider Provider, ClusterSpec Resized) PrepareNodeResize(ClusterState state, int nodeCount)
    {
        if (state.Id.Type != ClusterType.Managed)
            throw new InvalidSpecException("NodeCount", $"{state.Id} is a self-managed cluster: give -WorkerCount (the number of workers) instead of -NodeCount.");
        if (_providers.Get(state.Id.Provider) is not IManagedResizeProvider provider)
            throw new OperationNotAllowedException(state.Id.ToString(), "resize", $"{state.Status} ({state.Id.Provider} managed clusters are not resized by Ksctl in this version)");
        if (nodeCount is < 1 or > MaxNodeCount)
            throw new InvalidSpecException("NodeCount", $"{nodeCount} is out of range: a managed cluster's node pool has 1 to {MaxNodeCount} nodes.");
        return (provider, provider.Prepare(state.Spec with { NodeCount = nodeCount }));
    }
}
