using Ksctl.Core.Diagnostics;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Aws.Eks;

/// <summary>
/// The two IAM roles of an EKS cluster: the cluster role (trusted by eks.amazonaws.com) and the node role (trusted by
/// ec2.amazonaws.com), each with the AWS-managed policies EKS needs. Roles are found by name (IAM names are unique per
/// account), and used or deleted only when they carry this cluster's ksctl-cluster and ksctl-region tags.
/// </summary>
internal static class EksRoles
{
    public const string ClusterKey = "aws:iam-role:cluster";
    public const string NodeKey = "aws:iam-role:nodes";

    public static PlanStep CreateStep(EksSessionSource session, ClusterId id, bool nodes) =>
        new(nodes ? NodeKey : ClusterKey, (ctx, ct) => EnsureAsync(ctx, session, nodes, ct))
        {
            Description = nodes
                ? $"create IAM role {EksNames.NodeRole(id)} (trusted by ec2.amazonaws.com) with AmazonEKSWorkerNodePolicy, AmazonEKS_CNI_Policy and AmazonEC2ContainerRegistryReadOnly"
                : $"create IAM role {EksNames.ClusterRole(id)} (trusted by eks.amazonaws.com) with AmazonEKSClusterPolicy",
            Resources = [$"IAM role {(nodes ? EksNames.NodeRole(id) : EksNames.ClusterRole(id))}"],
        };

    public static PlanStep DeleteStep(EksSessionSource session, ClusterId id, IReadOnlyList<string> after) =>
        new("aws:delete-iam-roles", async (ctx, ct) =>
        {
            using var s = await session(ctx, ct).ConfigureAwait(false);
            foreach (var name in new[] { EksNames.NodeRole(id), EksNames.ClusterRole(id) })
                await DeleteAsync(ctx, s, name, ct).ConfigureAwait(false);
            ctx.Mutate(st => { st.Resources.Remove(ClusterKey); st.Resources.Remove(NodeKey); });
        })
        {
            DependsOn = after,
            Description = $"detach the policies from and delete IAM roles {EksNames.NodeRole(id)} and {EksNames.ClusterRole(id)}",
            Resources = [$"IAM role {EksNames.NodeRole(id)}", $"IAM role {EksNames.ClusterRole(id)}"],
        };

    private static async Task EnsureAsync(StepContext ctx, EksSessionSource session, bool nodes, CancellationToken ct)
    {
        var id = ctx.State.Id;
        var name = nodes ? EksNames.NodeRole(id) : EksNames.ClusterRole(id);
        using var s = await session(ctx, ct).ConfigureAwait(false);
        var role = await s.Iam.GetRoleAsync(name, ct).ConfigureAwait(false);
        if (role is null)
        {
            ctx.Logger.LogInformation("Creating IAM role {Role}.", name);
            try
            {
                role = await s.Iam.CreateRoleAsync(name, nodes ? EksPolicies.NodeTrust : EksPolicies.ClusterTrust,
                    $"Ksctl: {(nodes ? "nodes of" : "control plane of")} EKS cluster {id.Name} in {id.Region}", EksNames.Tags(id), ct).ConfigureAwait(false);
            }
            catch (AwsApiException e) when (e.Code == "EntityAlreadyExists")
            {
                // A create whose answer was lost (or a concurrent run): take the role if it is ours.
                role = await s.Iam.GetRoleAsync(name, ct).ConfigureAwait(false)
                    ?? throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult, $"IAM says role {name} exists but cannot find it.", name);
            }
        }
        EnsureOurs(id, role);
        if (!role.Arn.StartsWith("arn:aws", StringComparison.Ordinal) || !role.Arn.EndsWith(":role/" + name, StringComparison.Ordinal))
            throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult, $"IAM returned an unexpected ARN '{role.Arn}' for role {name}.", name);
        ctx.Mutate(st => st.Resources[nodes ? NodeKey : ClusterKey] = role.Arn);
        var attached = await s.Iam.ListAttachedRolePoliciesAsync(name, ct).ConfigureAwait(false);
        foreach (var policy in (nodes ? EksPolicies.NodeRolePolicies : EksPolicies.ClusterRolePolicies).Except(attached))
            await s.Iam.AttachRolePolicyAsync(name, policy, ct).ConfigureAwait(false);
    }

    private static void EnsureOurs(ClusterId id, IamRole role)
    {
        if (role.Tags.GetValueOrDefault(EksNames.TagCluster) != id.Name || role.Tags.GetValueOrDefault(EksNames.TagRegion) != id.Region)
            throw new KsctlException("KsctlResourceExists", KsctlErrorCategory.ResourceExists,
                $"IAM role {role.Name} exists but is not tagged {EksNames.TagCluster}={id.Name}, {EksNames.TagRegion}={id.Region}; Ksctl does not take over or delete a role it did not make. Rename or delete that role, or use another cluster name.", role.Name);
    }

    private static async Task DeleteAsync(StepContext ctx, EksSession s, string name, CancellationToken ct)
    {
        var iam = s.Iam;
        var role = await iam.GetRoleAsync(name, ct).ConfigureAwait(false);
        if (role is null) return;
        EnsureOurs(ctx.State.Id, role);
        await EksWait.RetryAsync(s.Timings, $"deleting IAM role {name}", s.Timings.NetworkInUse, ctx.Logger, async c =>
        {
            foreach (var policy in await iam.ListAttachedRolePoliciesAsync(name, c).ConfigureAwait(false))
            {
                try { await iam.DetachRolePolicyAsync(name, policy, c).ConfigureAwait(false); }
                catch (AwsApiException e) when (e.Code == "NoSuchEntity") { }
            }
            try { await iam.DeleteRoleAsync(name, c).ConfigureAwait(false); }
            catch (AwsApiException e) when (e.Code == "NoSuchEntity") { }
            return true;
        }, e => e.Code == "DeleteConflict", ct).ConfigureAwait(false);
        ctx.Logger.LogInformation("Deleted IAM role {Role}.", name);
    }
}
