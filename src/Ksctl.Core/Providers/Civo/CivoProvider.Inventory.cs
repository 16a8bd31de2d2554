using Ksctl.Core.Model;

namespace Ksctl.Core.Providers.Civo;

/// <summary>
/// The live inventory for Test-KsctlCluster: the instances of the cluster's region that carry its tag
/// (GET /v2/instances?region=, paged as civogo's ListInstances reads it), with their status (ACTIVE when running).
/// Untagged instances are never reported: they are not the cluster's, whatever their names.
/// </summary>
internal sealed partial class CivoProvider : IInventoryProvider
{
    public async Task<IReadOnlyList<LiveMachine>> LiveMachinesAsync(ClusterState state, CancellationToken cancellationToken)
    {
        var client = await ClientAsync(cancellationToken).ConfigureAwait(false);
        var instances = await client.ListInstancesAsync(state.Id.Region, cancellationToken).ConfigureAwait(false);
        return instances
            .Where(i => CivoNames.Carries(i.Tags, state.Id.Name) && !string.IsNullOrEmpty(i.Hostname))
            .Select(i => new LiveMachine(i.Hostname!, i.Id, i.Status ?? "unknown"))
            .ToList();
    }
}
