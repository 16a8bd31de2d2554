using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Aws.Eks;

/// <summary>
/// The cluster's managed node group (fixed size: min = max = desired = -NodeCount, as -NodeCount means), created,
/// scaled (UpdateNodegroupConfig) and deleted, each waited on until ACTIVE or gone. EKS answers
/// ResourceInUseException while another update of the group runs; that is waited out.
/// </summary>
internal static partial class EksNodegroups
{
    public const string Key = "eks:nodegroup";

    public static PlanStep CreateStep(EksSessionSource session, ClusterSpec spec) =>
        new(Key, (ctx, ct) => CreateAsync(ctx, session, spec, ct))
        {
            DependsOn = [EksControlPlane.ClusterKey, EksRoles.NodeKey],
            Description = $"create managed node group {EksNames.NodegroupName}: {spec.NodeCount} × {spec.NodeSize} ({AmiType(spec.NodeSize!)}) in both subnets, and wait until ACTIVE",
            Resources = [$"EKS node group {EksNames.NodegroupName} ({spec.NodeCount} × {spec.NodeSize})"],
        };

    public static PlanStep ScaleStep(EksSessionSource session, ClusterId id, int count) =>
        new("eks:scale-nodegroup", (ctx, ct) => ScaleAsync(ctx, session, count, ct))
        {
            Description = $"set node group {EksNames.NodegroupName} to {count} node(s) (UpdateNodegroupConfig) and wait until ACTIVE",
            Resources = [$"EKS node group {EksNames.NodegroupName} of {EksNames.Cluster(id)}: {count} node(s)"],
        };

    public static PlanStep DeleteStep(EksSessionSource session, ClusterId id) =>
        new("eks:delete-nodegroup", (ctx, ct) => DeleteAsync(ctx, session, ct))
        {
            Description = $"delete node group {EksNames.NodegroupName} of EKS cluster '{id.Name}' and wait until it is gone",
            Resources = [$"EKS node group {EksNames.NodegroupName}"],
        };

    /// <summary>Graviton families (m7g, c7gn, t4g) run the ARM64 AL2023 image, the others x86_64 (CreateNodegroup amiType).</summary>
    internal static string AmiType(string instanceType) =>
        AwsInstanceTypes.IsArm(instanceType) ? "AL2023_ARM_64_STANDARD" : "AL2023_x86_64_STANDARD";

    private static JsonObject Scaling(int count) => new() { ["minSize"] = count, ["maxSize"] = count, ["desiredSize"] = count };

    private static async Task CreateAsync(StepContext ctx, EksSessionSource session, ClusterSpec spec, CancellationToken ct)
    {
        var id = ctx.State.Id;
        var cluster = EksNames.Cluster(id);
        var roleArn = ctx.State.Resources.GetValueOrDefault(EksRoles.NodeKey)
            ?? throw new KsctlException("KsctlStateInconsistent", KsctlErrorCategory.InvalidData, "The node role's ARN is not recorded; run the command again.", id.Name);
        using var s = await session(ctx, ct).ConfigureAwait(false);
        var group = await s.Eks.DescribeNodegroupAsync(cluster, EksNames.NodegroupName, ct).ConfigureAwait(false);
        if (group?.Status == "CREATE_FAILED")
        {
            // EKS never repairs a failed group: after the cause is fixed, a re-run replaces it.
            EksControlPlane.EnsureOurs(id, group.Name, group.Tags, "EKS node group");
            ctx.Logger.LogWarning("Node group {Group} is CREATE_FAILED ({Issues}); deleting it to create it again.", group.Name, string.Join("; ", group.Issues));
            await DeleteGroupAsync(ctx, s, cluster, ct).ConfigureAwait(false);
            group = null;
        }
        if (group is null)
        {
            var body = new JsonObject
            {
                ["nodegroupName"] = EksNames.NodegroupName,
                ["scalingConfig"] = Scaling(spec.NodeCount!.Value),
                ["subnets"] = new JsonArray(EksNetwork.SubnetIds(ctx.State).Select(x => (JsonNode)JsonValue.Create(x)).ToArray()),
                ["instanceTypes"] = new JsonArray(JsonValue.Create(spec.NodeSize)),
                ["amiType"] = AmiType(spec.NodeSize!),
                ["capacityType"] = "ON_DEMAND",
                ["nodeRole"] = roleArn,
                ["clientRequestToken"] = EksNames.RequestToken(id, "nodegroup"),
                ["tags"] = new JsonObject(EksNames.Tags(id).Select(t => KeyValuePair.Create(t.Key, (JsonNode?)JsonValue.Create(t.Value)))),
            };
            ctx.Logger.LogInformation("Creating node group {Group}: {Count} × {Size}.", EksNames.NodegroupName, spec.NodeCount, spec.NodeSize);
            try
            {
                group = await EksWait.RetryAsync(s.Timings, $"creating node group {EksNames.NodegroupName}", s.Timings.RolePropagation, ctx.Logger,
                    c => s.Eks.CreateNodegroupAsync(cluster, (JsonObject)body.DeepClone(), c), EksControlPlane.IsRoleNotReady, ct).ConfigureAwait(false);
            }
            catch (AwsApiException e) when (e.Code == "ResourceInUseException")
            {
                group = await s.Eks.DescribeNodegroupAsync(cluster, EksNames.NodegroupName, ct).ConfigureAwait(false) ?? throw e;
            }
        }
        EksControlPlane.EnsureOurs(id, group.Name, group.Tags, "EKS node group");
        ctx.Mutate(st => st.Resources[Key] = EksNames.NodegroupName);
        await WaitActiveAsync(ctx, s, cluster, spec.NodeCount!.Value, ct).ConfigureAwait(false);
    }

    private static async Task WaitActiveAsync(StepContext ctx, EksSession s, string cluster, int count, CancellationToken ct) =>
        await EksWait.UntilAsync(s.Timings, $"node group {EksNames.NodegroupName} to become ACTIVE with {count} node(s)", s.Timings.NodegroupActive, ctx.Logger, async c =>
        {
            var now = await s.Eks.DescribeNodegroupAsync(cluster, EksNames.NodegroupName, c).ConfigureAwait(false)
                ?? throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ObjectNotFound, $"Node group {EksNames.NodegroupName} of {cluster} is gone.", cluster);
            if (now.Status is "CREATE_FAILED" or "DEGRADED")
                throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult,
                    $"EKS reports node group {EksNames.NodegroupName} {now.Status}: {string.Join("; ", now.Issues.DefaultIfEmpty("no issue given"))}", cluster);
            return (now.Status == "ACTIVE" && now.DesiredSize == count, $"{now.Status}, {now.DesiredSize} desired");
        }, ct).ConfigureAwait(false);

    private static async Task ScaleAsync(StepContext ctx, EksSessionSource session, int count, CancellationToken ct)
    {
        var cluster = EksNames.Cluster(ctx.State.Id);
        using var s = await session(ctx, ct).ConfigureAwait(false);
        var group = await s.Eks.DescribeNodegroupAsync(cluster, EksNames.NodegroupName, ct).ConfigureAwait(false)
            ?? throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ObjectNotFound, $"EKS cluster {cluster} has no node group {EksNames.NodegroupName} to resize.", cluster);
        EksControlPlane.EnsureOurs(ctx.State.Id, group.Name, group.Tags, "EKS node group");
        if (!(group.DesiredSize == count && group.MinSize == count && group.MaxSize == count))
        {
            ctx.Logger.LogInformation("Scaling node group {Group} from {From} to {To} node(s).", EksNames.NodegroupName, group.DesiredSize, count);
            await EksWait.RetryAsync(s.Timings, $"scaling node group {EksNames.NodegroupName}", s.Timings.NodegroupActive, ctx.Logger, async c =>
            {
                await s.Eks.UpdateNodegroupConfigAsync(cluster, EksNames.NodegroupName, new JsonObject
                {
                    ["scalingConfig"] = Scaling(count),
                    ["clientRequestToken"] = EksNames.RequestToken(ctx.State.Id, $"scale:{count}:{group.DesiredSize}"),
                }, c).ConfigureAwait(false);
                return true;
            }, e => e.Code == "ResourceInUseException", ct).ConfigureAwait(false);
        }
        await WaitActiveAsync(ctx, s, cluster, count, ct).ConfigureAwait(false);
    }

    private static async Task DeleteAsync(StepContext ctx, EksSessionSource session, CancellationToken ct)
    {
        var cluster = EksNames.Cluster(ctx.State.Id);
        using var s = await session(ctx, ct).ConfigureAwait(false);
        await DeleteGroupAsync(ctx, s, cluster, ct).ConfigureAwait(false);
        ctx.Mutate(st => st.Resources.Remove(Key));
    }

    private static async Task DeleteGroupAsync(StepContext ctx, EksSession s, string cluster, CancellationToken ct)
    {
        var group = await s.Eks.DescribeNodegroupAsync(cluster, EksNames.NodegroupName, ct).ConfigureAwait(false);
        if (group is not null)
        {
            EksControlPlane.EnsureOurs(ctx.State.Id, group.Name, group.Tags, "EKS node group");
            if (group.Status != "DELETING")
            {
                try
                {
                    await EksWait.RetryAsync(s.Timings, $"deleting node group {EksNames.NodegroupName}", s.Timings.NodegroupActive, ctx.Logger, async c =>
                    {
                        await s.Eks.DeleteNodegroupAsync(cluster, EksNames.NodegroupName, c).ConfigureAwait(false);
                        return true;
                    }, e => e.Code == "ResourceInUseException", ct).ConfigureAwait(false);
                }
                catch (AwsApiException e) when (e.Code == "ResourceNotFoundException") { }
            }
            await EksWait.UntilAsync(s.Timings, $"node group {EksNames.NodegroupName} to be deleted", s.Timings.NodegroupGone, ctx.Logger, async c =>
            {
                var now = await s.Eks.DescribeNodegroupAsync(cluster, EksNames.NodegroupName, c).ConfigureAwait(false);
                if (now?.Status == "DELETE_FAILED")
                    throw new KsctlException("KsctlDeletionFailed", KsctlErrorCategory.InvalidResult,
                        $"EKS could not delete node group {EksNames.NodegroupName}: {string.Join("; ", now.Issues.DefaultIfEmpty("no issue given"))}", cluster);
                return (now is null, now?.Status ?? "gone");
            }, ct).ConfigureAwait(false);
        }
    }
}
