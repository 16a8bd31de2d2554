using System.Text.Json.Nodes;
using Ksctl.Core.Model;

namespace Ksctl.Core.Providers.Gcp;

/// <summary>
/// The live inventory for Test-KsctlCluster: every instance of the recorded project that carries the cluster's
/// ksctl-cluster label and type, in any zone (instances.aggregatedList, compute-api.json: GET
/// projects/{project}/aggregated/instances with filter 'labels.ksctl-cluster = "NAME"', items keyed by scope, paged by
/// nextPageToken), with its status (PROVISIONING, STAGING, RUNNING, STOPPING, STOPPED, SUSPENDED, TERMINATED). What
/// comes back is checked again here (name, labels, zone): an answer that ignored the filter cannot add machines of
/// another cluster. Only the project recorded in state is asked; without one nothing was created yet.
/// </summary>
internal sealed partial class GcpProvider : IInventoryProvider
{
    private const int InventoryPageSize = 500;

    public async Task<IReadOnlyList<LiveMachine>> LiveMachinesAsync(ClusterState state, CancellationToken cancellationToken)
    {
        if (state.Id.Type != ClusterType.SelfManaged || state.Resources.GetValueOrDefault(ProjectKey) is not { } recorded) return [];
        var (client, project) = await ConnectAsync(recorded, cancellationToken).ConfigureAwait(false);
        var labels = GcpNames.Labels(state.Id);
        var filter = Uri.EscapeDataString($"labels.{GcpNames.LabelCluster} = \"{state.Id.Name}\"");
        var list = ComputeUrl($"projects/{project}/aggregated/instances?filter={filter}&maxResults={InventoryPageSize}");
        var machines = new List<LiveMachine>();
        string? token = null;
        for (var pages = 0; pages < 1000; pages++)
        {
            var page = token is null ? list : new Uri(list + "&pageToken=" + Uri.EscapeDataString(token));
            var body = await client.GetAsync(page, "list the cluster's instances", cancellationToken).ConfigureAwait(false);
            foreach (var (scope, entry) in body?["items"] as JsonObject ?? [])
            {
                if (!scope.StartsWith("zones/", StringComparison.Ordinal) || !GcpLocations.IsZone(scope[6..])) continue;
                foreach (var instance in (entry?["instances"] as JsonArray ?? []).OfType<JsonObject>())
                {
                    var name = GcpRestClient.Text(instance, "name");
                    if (!GcpNames.IsName(name) || !labels.All(l => GcpRestClient.Text(instance["labels"], l.Key) == l.Value)) continue;
                    var status = GcpRestClient.Text(instance, "status") is { } s && GcpNames.IsStatus(s) ? s : "unknown";
                    machines.Add(new LiveMachine(name!, $"projects/{project}/{scope}/instances/{name}", status));
                }
            }
            token = GcpRestClient.Text(body, "nextPageToken") is { Length: > 0 } t ? t : null;
            if (token is null) break;
        }
        return machines;
    }
}
