using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Engine;
using Ksctl.Core.Kube;
using Ksctl.Core.Model;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Gcp;

/// <summary>
/// Managed GKE: a zonal cluster (-Region us-central1-a) or a regional one (-Region us-central1; GKE then runs the
/// node pool in each of the region's zones), one node pool, Workload Identity on; the create waits for the operation
/// and then for the cluster to be RUNNING. The kubeconfig holds the endpoint and CA and an exec entry: the
/// gke-gcloud-auth-plugin when it is on PATH, else Ksctl's own token command (ksctl gcp-token), which prints an
/// access token from the same credential chain.
/// </summary>
internal sealed partial class GcpProvider : IManagedResizeProvider
{
    internal const string ClusterStep = "gcp:gke-cluster";
    internal const string AuthPlugin = "gke-gcloud-auth-plugin";
    internal const string KsctlTokenVerb = "gcp-token";
    /// <summary>GKE's cluster-name rule (container-api.json Cluster.name): 1-40 characters, lowercase letters, digits, hyphens.</summary>
    internal const int GkeNameLimit = 40;

    internal string ClusterPath(string project, ClusterId id) => $"projects/{project}/locations/{id.Region}/clusters/{id.Name}";

    public IReadOnlyList<PlanStep> CreateSteps(ClusterSpec spec)
    {
        var id = spec.Id;
        var kind = GcpLocations.IsZone(id.Region) ? $"zonal cluster in {id.Region}" : $"regional cluster in {id.Region} (the node pool in each of its zones)";
        return
        [
            new PlanStep(ClusterStep, (ctx, ct) => CreateGkeAsync(ctx, spec, ct))
            {
                Description = $"create GKE {kind} '{id.Name}': node pool '{GkeBodies.NodePool}' {spec.NodeCount} × {spec.NodeSize}, Kubernetes {spec.KubernetesVersion ?? "(the REGULAR channel's default)"}, Workload Identity on (waits until RUNNING)",
                Resources = [$"GKE cluster {id.Name} ({id.Region}), node pool {GkeBodies.NodePool}: {spec.NodeCount} × {spec.NodeSize} per zone, {GkeBodies.DiskSizeGb} GB disks"],
            },
            new PlanStep("kubeconfig", (ctx, ct) => KubeconfigAsync(ctx, ct))
            {
                DependsOn = [ClusterStep],
                Description = $"write the kubeconfig (endpoint, CA, exec credential via {AuthPlugin} or ksctl {KsctlTokenVerb}) as context {id.DefaultContextName}",
                Resources = [$"context {id.DefaultContextName}"],
            },
        ];
    }

    public IReadOnlyList<PlanStep> DeleteSteps(ClusterState state) =>
    [
        new PlanStep("gcp:delete-gke-cluster", (ctx, ct) => DeleteGkeAsync(ctx, ct))
        {
            Description = $"delete GKE cluster '{state.Id.Name}' in {state.Id.Region} with its node pools",
            Resources = [$"GKE cluster {state.Id.Name} ({state.Id.Region})"],
        },
    ];

    public IReadOnlyList<PlanStep> ResizeSteps(ClusterState state, int nodeCount) =>
    [
        new PlanStep("resize/gcp:gke-node-pool", (ctx, ct) => SetPoolSizeAsync(ctx, nodeCount, ct))
        {
            Description = $"set node pool {GkeBodies.NodePool} of GKE cluster '{state.Id.Name}' to {nodeCount} node(s){(GcpLocations.IsZone(state.Id.Region) ? "" : " per zone")} (setSize; waits for the operation)",
            Resources = [$"GKE node pool {GkeBodies.NodePool} of {state.Id.Name}: {state.Spec.NodeCount} → {nodeCount}"],
        },
    ];

    private async Task SetPoolSizeAsync(StepContext ctx, int nodeCount, CancellationToken ct)
    {
        var (client, names) = await SessionAsync(ctx, ct).ConfigureAwait(false);
        var id = ctx.State.Id;
        var path = ClusterPath(names.Project, id);
        await GkeRunningAsync(client, path, id, ct).ConfigureAwait(false);
        await client.PostAndWaitAsync(ContainerUrl($"{path}/nodePools/{GkeBodies.NodePool}:setSize"), new JsonObject { ["nodeCount"] = nodeCount },
            $"resize of node pool {GkeBodies.NodePool}", client.Timings.ClusterDeadline, ct).ConfigureAwait(false);
    }

    private async Task CreateGkeAsync(StepContext ctx, ClusterSpec spec, CancellationToken ct)
    {
        var (client, names) = await SessionAsync(ctx, ct).ConfigureAwait(false);
        var path = ClusterPath(names.Project, spec.Id);
        var existing = await client.GetAsync(ContainerUrl(path), $"GKE cluster {spec.Id.Name}", ct).ConfigureAwait(false);
        if (existing is null)
        {
            _logger.LogInformation("Creating GKE cluster {Name} in {Location} ({Count} × {Size}); this takes several minutes.", spec.Id.Name, spec.Id.Region, spec.NodeCount, spec.NodeSize);
            try
            {
                await client.PostAndWaitAsync(ContainerUrl($"projects/{names.Project}/locations/{spec.Id.Region}/clusters"), GkeBodies.Create(spec, names.Project),
                    $"GKE cluster {spec.Id.Name}", client.Timings.ClusterDeadline, ct).ConfigureAwait(false);
            }
            catch (KsctlException e) when (e.Data["GcpCode"] is "ALREADY_EXISTS")
            {
                // Our own earlier create whose answer was lost: the cluster is checked for our labels below.
                _logger.LogInformation("GKE cluster {Name} exists already.", spec.Id.Name);
            }
        }
        var cluster = await GkeRunningAsync(client, path, spec.Id, ct).ConfigureAwait(false);
        var endpoint = GcpRestClient.Text(cluster, "endpoint");
        if (endpoint is null || !System.Net.IPAddress.TryParse(endpoint, out var ip) || ip.ToString() != endpoint)
            throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult, $"GKE reports no usable endpoint for '{spec.Id.Name}' ('{ClusterId.Printable(endpoint)}').", spec.Id.Name);
        var version = GcpRestClient.Text(cluster, "currentMasterVersion");
        ctx.Mutate(s =>
        {
            s.Endpoint = $"https://{endpoint}";
            if (version is not null && SpecRulesVersion(version)) s.KubernetesVersion = version;
        });
    }

    private static bool SpecRulesVersion(string v) => v.Length <= 40 && v.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '+');

    /// <summary>Polls the cluster until RUNNING (PROVISIONING/RECONCILING waited out; ERROR or DEGRADED with GKE's status message).</summary>
    private async Task<JsonObject> GkeRunningAsync(GcpRestClient client, string path, ClusterId id, CancellationToken ct)
    {
        var until = _time.GetUtcNow() + client.Timings.ClusterDeadline;
        var delay = client.Timings.FirstPoll;
        while (true)
        {
            var cluster = await client.GetAsync(ContainerUrl(path), $"GKE cluster {id.Name}", ct).ConfigureAwait(false)
                ?? throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ObjectNotFound, $"GKE cluster '{id.Name}' is gone; re-run to create it again.", id.Name);
            EnsureOwned(Relabel(cluster), id, $"GKE cluster {id.Name}");
            var status = GcpRestClient.Text(cluster, "status");
            if (status == "RUNNING") return cluster;
            if (status is "ERROR" or "DEGRADED" or "STOPPING" || _time.GetUtcNow() >= until)
                throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult,
                    $"GKE cluster '{id.Name}' is {ClusterId.Printable(status)}: {ClusterId.Printable(GcpRestClient.Text(cluster, "statusMessage"))}", id.Name);
            await Task.Delay(delay, _time, ct).ConfigureAwait(false);
            delay = client.Timings.Next(delay);
        }
    }

    /// <summary>GKE names its labels resourceLabels: the same ownership rule as Compute's labels.</summary>
    private static JsonObject Relabel(JsonObject cluster) => new()
    {
        ["labels"] = cluster["resourceLabels"]?.DeepClone(),
        ["description"] = GcpRestClient.Text(cluster, "description"),
    };

    private async Task KubeconfigAsync(StepContext ctx, CancellationToken ct)
    {
        var (client, names) = await SessionAsync(ctx, ct).ConfigureAwait(false);
        var id = ctx.State.Id;
        var cluster = await GkeRunningAsync(client, ClusterPath(names.Project, id), id, ct).ConfigureAwait(false);
        var endpoint = GcpRestClient.Text(cluster, "endpoint");
        var ca = GcpRestClient.Text(cluster["masterAuth"], "clusterCaCertificate");
        if (endpoint is null || !System.Net.IPAddress.TryParse(endpoint, out _) || ca is null || !IsCertificate(ca))
            throw new KsctlException("KsctlKubeconfigMissing", KsctlErrorCategory.InvalidResult, $"GKE returned no usable endpoint or CA certificate for '{id.Name}'.", id.Name);
        var context = id.DefaultContextName;
        var raw = GkeKubeconfig.Build(context, $"https://{endpoint}", ca, GkeKubeconfig.FindOnPath(AuthPlugin));
        var normalized = KubeconfigFile.Normalize(raw, context);
        ctx.Mutate(s =>
        {
            s.Secrets[ClusterState.KubeconfigSecret] = normalized;
            s.ContextName = context;
            s.Endpoint = $"https://{endpoint}";
        });
    }

    private static bool IsCertificate(string base64)
    {
        try
        {
            using var cert = X509Certificate2.CreateFromPem(Encoding.ASCII.GetString(Convert.FromBase64String(base64)));
            return true;
        }
        catch (Exception e) when (e is FormatException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            return false;
        }
    }

    private async Task DeleteGkeAsync(StepContext ctx, CancellationToken ct)
    {
        var (client, names) = await SessionAsync(ctx, ct).ConfigureAwait(false);
        var id = ctx.State.Id;
        var path = ClusterPath(names.Project, id);
        if (await client.GetAsync(ContainerUrl(path), $"GKE cluster {id.Name}", ct).ConfigureAwait(false) is not { } existing)
        {
            _logger.LogInformation("GKE cluster {Name} was already gone.", id.Name);
            return;
        }
        EnsureOwned(Relabel(existing), id, $"GKE cluster {id.Name}");
        await client.DeleteAsync(ContainerUrl(path), null, $"delete GKE cluster {id.Name}", client.Timings.ClusterDeadline, ct).ConfigureAwait(false);
    }
}
