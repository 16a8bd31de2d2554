using Ksctl.Core.Model;

namespace Ksctl.Core.Providers;

/// <summary>One machine the cloud reports for a cluster right now.</summary>
public sealed record LiveMachine(string Name, string? ResourceId, string State);

/// <summary>
/// A provider that can list, right now, the machines a self-managed cluster has in its cloud (found by the cluster's
/// tag/label or name), so Test-KsctlCluster can report drift between the state and the cloud. Read only: it must not
/// change anything, and it reports what it finds, including machines the state does not know.
/// </summary>
public interface IInventoryProvider
{
    Task<IReadOnlyList<LiveMachine>> LiveMachinesAsync(ClusterState state, CancellationToken cancellationToken);
}
