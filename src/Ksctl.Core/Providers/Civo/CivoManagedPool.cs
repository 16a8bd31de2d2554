using Ksctl.Core.Diagnostics;
using Ksctl.Core.Engine;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Civo;

/// <summary>
/// Resize-KsctlCluster -NodeCount on Civo: the cluster's node pool count (Ksctl creates clusters with one pool), then
/// the wait until Civo reports the cluster ACTIVE again and the nodes recorded anew.
/// </summary>
internal sealed class CivoManagedPool(Func<CancellationToken, Task<CivoClient>> clients, CivoManagedCluster cluster, ILogger logger)
{
    public async Task SetCountAsync(StepContext ctx, string region, int count, CancellationToken ct)
    {
        var client = await clients(ct).ConfigureAwait(false);
        var name = ctx.State.Id.Name;
        var ours = await cluster.FindOursAsync(client, ctx.State, region, ct).ConfigureAwait(false)
            ?? throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ObjectNotFound, $"Civo has no cluster '{name}' of Ksctl's in {region} any more.", name);
        var pools = await client.ListPoolsAsync(ours.Id, region, ct).ConfigureAwait(false);
        if (pools.Count != 1)
            throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult,
                $"Civo cluster '{name}' has {pools.Count} node pools; Ksctl scales a cluster with the one pool it created. Scale the pools with Civo's own tools.", name);
        var pool = pools[0];
        CivoEndpoint.Id(pool.Id, "pool");
        if (pool.Count == count)
        {
            logger.LogInformation("Civo cluster {Name}'s pool already has {Count} node(s).", name, count);
            return;
        }
        logger.LogInformation("Setting Civo cluster {Name}'s pool {Pool} from {From} to {Count} node(s).", name, pool.Id, pool.Count, count);
        var updated = await client.SetPoolCountAsync(ours.Id, pool.Id, count, region, ct).ConfigureAwait(false);
        if (updated.Count != count)
            throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult,
                $"Civo answered pool {pool.Id} of '{name}' with {updated.Count?.ToString() ?? "no"} node(s) after setting {count}.", name);
    }
}
