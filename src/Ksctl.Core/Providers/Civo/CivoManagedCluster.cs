using Ksctl.Core.Diagnostics;
using Ksctl.Core.Engine;
using Ksctl.Core.Kube;
using Ksctl.Core.Model;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Civo;

/// <summary>
/// The steps of a managed Civo Kubernetes cluster. Civo requires a network: like civo's Terraform provider, Ksctl
/// sends the region's default network (GET /v2/networks, the entry with <c>default: true</c>). The nodes get a firewall
/// of Ksctl's, <c>&lt;name&gt;-&lt;region&gt;-kube-fw</c> (<see cref="CivoFirewallRules.Managed"/>: the API port 6443 and
/// ingress 80/443 from anywhere, the network's own traffic), instead of Civo's default firewall with every port open;
/// it is deleted after the cluster. The cluster id is recorded before waiting, so a resumed create finds it (by id,
/// else by name and Ksctl's tag) instead of creating a second one.
/// </summary>
internal sealed class CivoManagedCluster(Func<CancellationToken, Task<CivoClient>> clients, ILogger logger, TimeProvider time)
{
    internal const string ClusterResource = "civo:cluster";
    internal const string NetworkResource = "civo:network";
    internal const string NetworkCidrResource = "civo:network-cidr";
    internal const string FirewallResource = "civo:firewall";
    internal const string MasterIpResource = "civo:master-ip";

    public async Task ResolveNetworkAsync(StepContext ctx, string region, CancellationToken ct)
    {
        var client = await clients(ct).ConfigureAwait(false);
        var network = (await client.ListNetworksAsync(region, ct).ConfigureAwait(false)).FirstOrDefault(n => n.Default == true)
            ?? throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ObjectNotFound,
                $"Civo lists no default network in {region}; a managed cluster needs one (Civo creates it with the account).", region);
        CivoEndpoint.Id(network.Id, "network");
        ctx.Mutate(s =>
        {
            s.Resources[NetworkResource] = network.Id;
            s.Resources[NetworkCidrResource] = CivoFirewallRules.Cidr(network.Cidr);
        });
    }

    public async Task EnsureFirewallAsync(StepContext ctx, string region, CancellationToken ct)
    {
        var client = await clients(ct).ConfigureAwait(false);
        var networkId = CivoSteps.RecordedOrThrow(ctx, NetworkResource);
        var cidr = CivoSteps.Recorded(ctx, NetworkCidrResource) ?? CivoFirewallRules.Anywhere;
        await new CivoFirewalls(client, logger, time).EnsureAsync(ctx, FirewallResource, CivoNames.ManagedFirewall(ctx.State.Id), networkId, region,
            CivoFirewallRules.Managed(cidr), ct).ConfigureAwait(false);
    }

    public async Task CreateClusterAsync(StepContext ctx, ClusterSpec spec, CancellationToken ct)
    {
        var client = await clients(ct).ConfigureAwait(false);
        var region = spec.Id.Region;
        var request = new CivoClusterRequest
        {
            Name = spec.Id.Name,
            Region = region,
            NetworkId = CivoSteps.RecordedOrThrow(ctx, NetworkResource),
            InstanceFirewall = CivoSteps.RecordedOrThrow(ctx, FirewallResource),
            NumTargetNodes = spec.NodeCount!.Value,
            TargetNodesSize = spec.NodeSize!,
            KubernetesVersion = spec.KubernetesVersion,
            CniPlugin = spec.Cni!,
            Applications = spec.Applications.Count > 0 ? string.Join(",", spec.Applications) : null,
            Tags = $"{CivoNames.Tag} {CivoNames.NameTag(spec.Id.Name)}",
        };
        await CivoSteps.EnsureAsync(ctx, logger, time, ClusterResource, $"Kubernetes cluster {spec.Id.Name}",
            () => FindOursAsync(client, ctx.State, region, ct),
            () => client.CreateClusterAsync(request, ct),
            c => c.Id, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// The cluster of this state: the recorded id if Civo's cluster there carries this cluster's name and tag, else the
    /// one named so and tagged. A cluster of that name without the tag is someone else's: KsctlResourceExists.
    /// </summary>
    public async Task<CivoCluster?> FindOursAsync(CivoClient client, ClusterState state, string region, CancellationToken ct)
    {
        var name = state.Id.Name;
        if (state.Resources.TryGetValue(ClusterResource, out var id))
        {
            var byId = await client.GetClusterAsync(id, region, ct).ConfigureAwait(false);
            if (byId is not null && byId.Name == name && CivoNames.Carries(byId.Tags, name)) return byId;
            if (byId is not null)
                logger.LogWarning("The Civo cluster {Id} recorded for {Name} is '{Other}' without this cluster's tag; it is not used.", id, name, byId.Name);
            else logger.LogWarning("Civo cluster {Id} recorded for {Name} no longer exists.", id, name);
        }
        var named = (await client.ListClustersAsync(region, ct).ConfigureAwait(false)).Where(c => c.Name == name).ToList();
        if (named.Count == 0) return null;
        return named.FirstOrDefault(c => CivoNames.Carries(c.Tags, name)) ?? throw new KsctlException("KsctlResourceExists", KsctlErrorCategory.ResourceExists,
            $"A Civo Kubernetes cluster named '{name}' already exists in {region} and was not created by Ksctl (id {named[0].Id}). Choose another -Name or delete it in Civo.", name);
    }

    public async Task WaitActiveAsync(StepContext ctx, string region, CancellationToken ct)
    {
        var client = await clients(ct).ConfigureAwait(false);
        var id = CivoSteps.RecordedOrThrow(ctx, ClusterResource);
        var name = ctx.State.Id.Name;
        var timeout = CivoTimings.Current.ClusterActive;
        string? last = null;
        await CivoPolling.UntilAsync(time, timeout, async c =>
            {
                var cluster = await client.GetClusterAsync(id, region, c).ConfigureAwait(false)
                    ?? throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ObjectNotFound,
                        $"Civo cluster {id} ('{name}') disappeared while Ksctl waited for it to become ACTIVE.", name);
                if (CivoSteps.IsFailed(cluster.Status))
                    throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult, $"Civo reports cluster '{name}' ({id}) as {cluster.Status}.", name);
                if (cluster.Status != last)
                {
                    logger.LogInformation("Civo cluster {Name} is {Status}; waiting for ACTIVE.", name, cluster.Status ?? "(no status)");
                    last = cluster.Status;
                }
                return (string.Equals(cluster.Status, "ACTIVE", StringComparison.OrdinalIgnoreCase), true, cluster.Status);
            },
            status => $"Civo cluster '{name}' ({id}) was still {status} after {timeout.TotalMinutes:0} minutes. Re-run to keep waiting.", name, ct).ConfigureAwait(false);
    }

    public async Task CaptureKubeconfigAsync(StepContext ctx, string region, CancellationToken ct)
    {
        var id = CivoSteps.RecordedOrThrow(ctx, ClusterResource);
        var cluster = await (await clients(ct).ConfigureAwait(false)).GetClusterAsync(id, region, ct).ConfigureAwait(false)
            ?? throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ObjectNotFound, $"Civo cluster {id} ('{ctx.State.Id.Name}') no longer exists.", ctx.State.Id.Name);
        if (string.IsNullOrWhiteSpace(cluster.Kubeconfig))
            throw new KsctlException("KsctlKubeconfigMissing", KsctlErrorCategory.InvalidResult, $"Civo returned no kubeconfig for cluster '{ctx.State.Id.Name}' ({id}).", ctx.State.Id.Name);
        var context = ctx.State.Id.DefaultContextName;
        var normalized = KubeconfigFile.Normalize(cluster.Kubeconfig, context);
        var server = KubeconfigFile.Parse(normalized, "Civo").Clusters.First().ClusterEndpoint?.Server ?? cluster.ApiEndpoint;
        var masterIp = CivoEndpoint.Address(cluster.MasterIp, "cluster's master IP");
        var nodes = (cluster.Instances ?? []).Select((n, i) => new NodeState
        {
            Name = n.Hostname ?? n.Id ?? $"node-{i}",
            Index = i,
            Role = NodeRole.Worker,
            ResourceId = n.Id,
            Hostname = n.Hostname,
            Size = n.Size,
            PublicIP = CivoEndpoint.Address(n.PublicIp, $"public IP of node {n.Hostname}"),
            PrivateIP = CivoEndpoint.Address(n.PrivateIp, $"private IP of node {n.Hostname}"),
        }).ToList();
        ctx.Mutate(s =>
        {
            s.Secrets[ClusterState.KubeconfigSecret] = normalized;
            s.ContextName = context;
            s.Endpoint = server;
            if (masterIp is not null) s.Resources[MasterIpResource] = masterIp;
            if (!string.IsNullOrEmpty(cluster.KubernetesVersion)) s.KubernetesVersion = cluster.KubernetesVersion;
            foreach (var n in nodes) n.Size ??= s.Spec.NodeSize;
            s.Nodes = nodes;
        });
    }

    public async Task DeleteClusterAsync(StepContext ctx, string region, CancellationToken ct)
    {
        var client = await clients(ct).ConfigureAwait(false);
        CivoCluster? cluster;
        try
        {
            cluster = await FindOursAsync(client, ctx.State, region, ct).ConfigureAwait(false);
        }
        catch (KsctlException e) when (e.ErrorId == "KsctlResourceExists")
        {
            logger.LogWarning("{Message} It is left alone.", e.Message); // a same-named cluster that is not ours: never delete it
            cluster = null;
        }
        if (cluster is null)
        {
            logger.LogInformation("Civo cluster {Name} is already gone.", ctx.State.Id.Name);
            ctx.Mutate(s => s.Resources.Remove(ClusterResource));
            return;
        }
        ctx.Mutate(s => s.Resources[ClusterResource] = cluster.Id);
        if (!await client.DeleteClusterAsync(cluster.Id, region, ct).ConfigureAwait(false))
            logger.LogInformation("Civo cluster {Id} was already gone.", cluster.Id);
    }

    public async Task WaitDeletedAsync(StepContext ctx, string region, CancellationToken ct)
    {
        if (CivoSteps.Recorded(ctx, ClusterResource) is { } id)
        {
            var client = await clients(ct).ConfigureAwait(false);
            var timeout = CivoTimings.Current.ClusterGone;
            await CivoPolling.UntilAsync(time, timeout, async c =>
                {
                    var cluster = await client.GetClusterAsync(id, region, c).ConfigureAwait(false);
                    return (cluster is null, true, cluster?.Status);
                },
                status => $"Civo cluster '{ctx.State.Id.Name}' ({id}) was still {status} {timeout.TotalMinutes:0} minutes after its deletion. Re-run to keep waiting.",
                ctx.State.Id.Name, ct).ConfigureAwait(false);
        }
        ctx.Mutate(s =>
        {
            s.Resources.Remove(ClusterResource);
            s.Resources.Remove(MasterIpResource);
        });
    }

    public async Task DeleteFirewallAsync(StepContext ctx, string region, CancellationToken ct)
    {
        var client = await clients(ct).ConfigureAwait(false);
        await new CivoFirewalls(client, logger, time).DeleteAsync(ctx, FirewallResource, CivoNames.ManagedFirewall(ctx.State.Id), region, ct).ConfigureAwait(false);
        ctx.Mutate(s =>
        {
            s.Resources.Remove(NetworkResource);
            s.Resources.Remove(NetworkCidrResource);
        });
    }
}
