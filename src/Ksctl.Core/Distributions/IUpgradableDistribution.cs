using Ksctl.Core.Engine;
using Ksctl.Core.Model;

namespace Ksctl.Core.Distributions;

/// <summary>
/// A distribution that can move a running cluster to a newer Kubernetes version in place. It says how to upgrade
/// one node and how to take a worker out of and back into scheduling; <see cref="RollingUpgrade"/> orders them
/// (control planes one at a time, then workers in batches) so every step can be resumed on its own.
/// </summary>
internal interface IUpgradableDistribution
{
    /// <summary>
    /// Upgrades <paramref name="node"/> to <paramref name="version"/> and returns only once its Node is Ready at that
    /// version (and, for a control plane, the API answers through the load balancer). <paramref name="first"/> is the
    /// control plane that upgrades first (kubeadm's "upgrade apply" runs there). Must be safe to run again.
    /// </summary>
    Task UpgradeNodeAsync(StepContext context, NodeState node, string version, bool first, MachineAccess access, CancellationToken cancellationToken);

    /// <summary>Cordons and drains a worker through control plane 0 (its Node stays; it comes back after its upgrade).</summary>
    Task DrainAsync(StepContext context, NodeState node, MachineAccess access, CancellationToken cancellationToken);

    /// <summary>Makes a drained worker schedulable again (safe when it already is).</summary>
    Task UncordonAsync(StepContext context, NodeState node, MachineAccess access, CancellationToken cancellationToken);

    /// <summary>What upgrading a node means for this distribution, in words, for -WhatIf.</summary>
    string DescribeUpgrade(NodeState node, string version, bool first);
}
