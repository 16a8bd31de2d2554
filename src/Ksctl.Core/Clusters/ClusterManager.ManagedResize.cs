using Ksctl.Core.Diagnostics;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Providers;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Clusters;

/// <summary>Resizing the node pool of a managed cluster (-NodeCount), where the provider offers it (GKE).</summary>
public sealed partial class ClusterManager
{
    /// <summary>The node-pool resize plan for -WhatIf (validated, nothing touched).</summary>
    public async Task<Plan> PlanResizeNodePoolAsync(ClusterId id, int nodeCount, CancellationToken cancellationToken)
    {
        var state = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        await EnsureAllowedAsync(state, ClusterOperation.Resize, lockHeld: false, cancellationToken).ConfigureAwait(false);
        return new Plan("resize", id, NodePoolSteps(state, nodeCount, null));
    }

    /// <summary>Sets the managed cluster's node pool to <paramref name="nodeCount"/> nodes; the spec records the new count.</summary>
    public async Task<ClusterState> ResizeNodePoolAsync(ClusterId id, int nodeCount, OperationOptions options, CancellationToken cancellationToken)
    {
        _providers.Get(id.Provider, options.Credential);
        await using var clusterLock = await Store.AcquireLockAsync(id, "resize", options.BreakStaleLock, cancellationToken).ConfigureAwait(false);
        var state = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        await EnsureAllowedAsync(state, ClusterOperation.Resize, lockHeld: true, cancellationToken).ConfigureAwait(false);
        var plan = new Plan("resize", id, NodePoolSteps(state, nodeCount, options));
        var session = new StateSession(state, Store);
        session.Mutate(s =>
        {
            foreach (var key in s.Steps.Keys.Where(k => k.StartsWith("resize/", StringComparison.Ordinal)).ToList()) s.Steps.Remove(key);
            s.Status = ClusterStatus.Configuring;
            s.LastErrors.Clear();
        });
        await session.CheckpointAsync().ConfigureAwait(false);
        _logger.LogInformation("Resizing the node pool of {Cluster} to {Count} node(s).", id, nodeCount);
        await RunAsync(plan, session, options, ClusterStatus.Running, ClusterStatus.ConfiguringFailed, "KsctlResizeFailed", cancellationToken).ConfigureAwait(false);
        session.Mutate(s => s.Spec = s.Spec with { NodeCount = nodeCount });
        await session.CheckpointAsync().ConfigureAwait(false);
        return state;
    }

    private IReadOnlyList<PlanStep> NodePoolSteps(ClusterState state, int nodeCount, OperationOptions? options)
    {
        if (state.Id.Type != ClusterType.Managed)
            throw new InvalidSpecException("NodeCount", "applies to Managed clusters; resize a SelfManaged cluster with -WorkerCount.");
        var provider = options is null ? _providers.Get(state.Id.Provider) : _providers.Get(state.Id.Provider, options.Credential);
        if (provider is not IManagedResizeProvider resizable)
            throw new OperationNotAllowedException(state.Id.ToString(), "resize", $"{state.Status} ({state.Id.Provider} managed clusters are resized by their cloud's node pool, not by Ksctl in this version)");
        // The same bounds as creation: the provider's Prepare says what -NodeCount may be.
        provider.Prepare(state.Spec with { NodeCount = nodeCount });
        return resizable.ResizeSteps(state, nodeCount);
    }
}
