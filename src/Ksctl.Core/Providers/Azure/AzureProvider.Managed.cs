using System.Text;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Engine;
using Ksctl.Core.Kube;
using Ksctl.Core.Model;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Azure;

/// <summary>Managed AKS clusters: the resource group, the cluster (with an explicit node resource group) and its kubeconfig.</summary>
internal sealed partial class AzureProvider
{
    public IReadOnlyList<PlanStep> CreateSteps(ClusterSpec spec)
    {
        var id = spec.Id;
        var group = AzureNames.ResourceGroupName(id);
        return
        [
            GroupStep(id),
            new PlanStep(AzureResourceKeys.ManagedCluster, (ctx, ct) => CreateManagedClusterAsync(ctx, spec, ct))
            {
                DependsOn = [AzureResourceKeys.ResourceGroup],
                Description = $"create AKS cluster '{id.Name}' in {id.Region}: system node pool {spec.NodeCount} × {spec.NodeSize}, Kubernetes {spec.KubernetesVersion ?? $"(the default AKS lists for {id.Region})"}, network plugin {spec.Cni} (waits until provisioned, up to {ManagedClusterTimeout.TotalMinutes:0} minutes)",
                Resources = [$"Microsoft.ContainerService/managedClusters {id.Name} in {group} (node pool '{AzureBodies.SystemPool}': {spec.NodeCount} × {spec.NodeSize}; AKS adds node resource group {AzureNames.NodeResourceGroupName(id)})"],
            },
            new PlanStep("kubeconfig", (ctx, ct) => CaptureKubeconfigAsync(ctx, ct))
            {
                DependsOn = [AzureResourceKeys.ManagedCluster],
                Description = $"capture the admin kubeconfig (listClusterAdminCredential) as context {id.DefaultContextName}",
                Resources = [$"context {id.DefaultContextName}"],
            },
        ];
    }

    public IReadOnlyList<PlanStep> DeleteSteps(ClusterState state)
    {
        var id = state.Id;
        return
        [
            // Every recorded id is checked before the first request; each step's Resources are the exact ids it deletes.
            AzureRecordedIds.VerifyStep(state),
            new PlanStep(AzureResourceKeys.ManagedCluster, (ctx, ct) => DeleteRecordedAsync(ctx, AzureResourceKeys.ManagedCluster, AzureApiVersions.ContainerService, ManagedClusterTimeout, ct))
            {
                DependsOn = [AzureRecordedIds.StepName],
                Description = $"delete AKS cluster '{id.Name}' (and with it its node resource group {AzureNames.NodeResourceGroupName(id)})",
                Resources = AzureRecordedIds.ForDisplay(state, AzureResourceKeys.ManagedCluster),
            },
            DeleteGroupStep(state, [AzureResourceKeys.ManagedCluster, AzureRecordedIds.StepName]),
        ];
    }

    internal PlanStep GroupStep(ClusterId id) =>
        new(AzureResourceKeys.ResourceGroup, (ctx, ct) => CreateGroupAsync(ctx, ct))
        {
            IsAlreadyDone = (ctx, ct) => ProvisionedAsync(ctx, AzureResourceKeys.ResourceGroup, AzureApiVersions.Resources, ct),
            Description = $"create resource group {AzureNames.ResourceGroupName(id)} in {id.Region}, tagged ksctl-cluster={id.Name}",
            Resources = [$"resource group {AzureNames.ResourceGroupName(id)} ({id.Region})"],
        };

    internal PlanStep DeleteGroupStep(ClusterState state, IReadOnlyList<string> after) =>
        new("azure:delete-resource-group", (ctx, ct) => DeleteRecordedAsync(ctx, AzureResourceKeys.ResourceGroup, AzureApiVersions.Resources, GroupTimeout, ct))
        {
            DependsOn = after,
            Description = $"delete resource group {AzureNames.ResourceGroupName(state.Id)} (last: anything Ksctl left in it goes with it)",
            Resources = AzureRecordedIds.ForDisplay(state, AzureResourceKeys.ResourceGroup),
        };

    private async Task CreateGroupAsync(StepContext ctx, CancellationToken ct)
    {
        var (client, names) = await SessionAsync(ctx, ct).ConfigureAwait(false);
        await RecordAsync(ctx, AzureResourceKeys.ResourceGroup, names.ResourceGroupId).ConfigureAwait(false);
        await client.PutAsync(names.ResourceGroupId, AzureApiVersions.Resources, AzureBodies.ResourceGroup(ctx.State.Id), $"resource group {names.ResourceGroup}", GroupTimeout, ct).ConfigureAwait(false);
    }

    private async Task CreateManagedClusterAsync(StepContext ctx, ClusterSpec spec, CancellationToken ct)
    {
        var (client, names) = await SessionAsync(ctx, ct).ConfigureAwait(false);
        await RecordAsync(ctx, AzureResourceKeys.ManagedCluster, names.ManagedClusterId).ConfigureAwait(false);
        var version = await AksVersionAsync(ctx, client, spec, ct).ConfigureAwait(false);
        _logger.LogInformation("Creating AKS cluster {Name} in {Region} ({Count} × {Size}, Kubernetes {Version}); this takes several minutes.", spec.Id.Name, spec.Id.Region, spec.NodeCount, spec.NodeSize, version);
        var cluster = await client.PutAsync(names.ManagedClusterId, AzureApiVersions.ContainerService, AzureBodies.ManagedCluster(spec with { KubernetesVersion = version }),
            $"AKS cluster {spec.Id.Name}", ManagedClusterTimeout, ct).ConfigureAwait(false);
        var properties = cluster["properties"];
        var fqdn = properties?["fqdn"]?.GetValue<string>();
        var current = properties?["currentKubernetesVersion"]?.GetValue<string>() ?? properties?["kubernetesVersion"]?.GetValue<string>();
        ctx.Mutate(s =>
        {
            if (fqdn is not null) s.Endpoint = $"https://{fqdn}:443";
            if (current is not null) s.KubernetesVersion = current;
        });
    }

    private async Task CaptureKubeconfigAsync(StepContext ctx, CancellationToken ct)
    {
        var (client, names) = await SessionAsync(ctx, ct).ConfigureAwait(false);
        var result = await client.PostActionAsync(names.ManagedClusterId, "listClusterAdminCredential", AzureApiVersions.ContainerService,
            $"admin credentials of AKS cluster {ctx.State.Id.Name}", ct).ConfigureAwait(false);
        var encoded = result["kubeconfigs"]?.AsArray().FirstOrDefault()?["value"]?.GetValue<string>();
        if (string.IsNullOrWhiteSpace(encoded))
            throw new KsctlException("KsctlKubeconfigMissing", KsctlErrorCategory.InvalidResult, $"Azure returned no admin kubeconfig for AKS cluster '{ctx.State.Id.Name}'.", ctx.State.Id.Name);
        string raw;
        try { raw = Encoding.UTF8.GetString(Convert.FromBase64String(encoded)); }
        catch (FormatException e)
        {
            throw new KsctlException("KsctlKubeconfigMissing", KsctlErrorCategory.InvalidResult, $"Azure's admin kubeconfig for '{ctx.State.Id.Name}' is not base64.", ctx.State.Id.Name, e);
        }
        var context = ctx.State.Id.DefaultContextName;
        var normalized = KubeconfigFile.Normalize(raw, context);
        var server = KubeconfigFile.Parse(normalized, "Azure").Clusters.First().ClusterEndpoint?.Server;
        ctx.Mutate(s =>
        {
            s.Secrets[ClusterState.KubeconfigSecret] = normalized;
            s.ContextName = context;
            if (server is not null) s.Endpoint = server;
        });
    }
}
