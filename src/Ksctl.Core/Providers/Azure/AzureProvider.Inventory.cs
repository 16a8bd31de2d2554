using Ksctl.Core.Model;

namespace Ksctl.Core.Providers.Azure;

/// <summary>
/// The live inventory for Test-KsctlCluster: the VMs of the cluster's resource group that carry its tag
/// (VirtualMachines_List, compute 2024-07-01: GET .../resourceGroups/{group}/providers/Microsoft.Compute/virtualMachines,
/// paged by nextLink), with their provisioningState. Only the subscription recorded in state is asked; a group that is
/// gone is an empty inventory (every recorded machine is then reported missing).
/// </summary>
internal sealed partial class AzureProvider : IInventoryProvider
{
    public async Task<IReadOnlyList<LiveMachine>> LiveMachinesAsync(ClusterState state, CancellationToken cancellationToken)
    {
        if (state.Resources.GetValueOrDefault(AzureResourceKeys.Subscription) is not { } recorded) return [];
        var (client, subscription) = await ConnectAsync(AzureRecordedIds.Subscription(state.Id, recorded), cancellationToken).ConfigureAwait(false);
        var names = new AzureNames(subscription, state.Id);
        if (await client.GetAsync(names.ResourceGroupId, AzureApiVersions.Resources, cancellationToken).ConfigureAwait(false) is null) return [];
        var vms = await client.ListAsync($"{names.ResourceGroupId}/providers/Microsoft.Compute/virtualMachines", AzureApiVersions.Compute,
            "list the cluster's virtual machines", cancellationToken).ConfigureAwait(false);
        return vms
            .Where(vm => vm["tags"]?["ksctl-cluster"]?.GetValue<string>() == state.Id.Name)
            .Select(vm => new LiveMachine(
                vm["name"]?.GetValue<string>() ?? "",
                vm["id"]?.GetValue<string>(),
                vm["properties"]?["provisioningState"]?.GetValue<string>() ?? "unknown"))
            .Where(m => m.Name.Length > 0)
            .ToList();
    }
}
