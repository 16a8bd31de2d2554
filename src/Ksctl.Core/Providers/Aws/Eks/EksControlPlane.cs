using System.Text.Json.Nodes;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Aws.Eks;

/// <summary>
/// The EKS cluster itself and its admin access entry. EKS refuses a role it cannot assume yet (IAM is eventually
/// consistent: InvalidParameterException "Role with arn ... could not be assumed") and that is retried; a cluster
/// that exists is taken only when its tags say it is this one. Access: authentication mode API with no bootstrap
/// admin, then an explicit access entry for the creator with AmazonEKSClusterAdminPolicy, so who is admin is recorded.
/// </summary>
internal static class EksControlPlane
{
    public const string ClusterKey = "eks:cluster";
    public const string AdminKey = "eks:admin-access";
    public const string CertificateAuthorityKey = "eks:certificate-authority";

    public static PlanStep CreateStep(EksSessionSource session, ClusterSpec spec) =>
        new(ClusterKey, (ctx, ct) => CreateAsync(ctx, session, spec, ct))
        {
            DependsOn = [EksRoles.ClusterKey, EksNetwork.StepName],
            Description = $"create EKS cluster '{spec.Id.Name}' in {spec.Id.Region} (Kubernetes {spec.KubernetesVersion ?? "default of EKS"}, public endpoint, access entries) and wait until ACTIVE (up to {EksTimings.Default.ClusterActive.TotalMinutes:0} minutes)",
            Resources = [$"EKS cluster {EksNames.Cluster(spec.Id)} ({spec.Id.Region})"],
        };

    public static PlanStep AdminStep(EksSessionSource session, ClusterId id) =>
        new(AdminKey, (ctx, ct) => GrantAdminAsync(ctx, session, ct))
        {
            DependsOn = [ClusterKey],
            Description = "make the credentials' principal cluster admin: an access entry with AmazonEKSClusterAdminPolicy (cluster scope)",
            Resources = [$"access entry for the caller on {EksNames.Cluster(id)}"],
        };

    public static PlanStep DeleteStep(EksSessionSource session, ClusterId id, IReadOnlyList<string> after) =>
        new("eks:delete-cluster", (ctx, ct) => DeleteAsync(ctx, session, ct))
        {
            DependsOn = after,
            Description = $"delete EKS cluster '{id.Name}' and wait until it is gone",
            Resources = [$"EKS cluster {EksNames.Cluster(id)} ({id.Region})"],
        };

    internal static bool IsRoleNotReady(AwsApiException e) =>
        e.Code == "InvalidParameterException" && e.Message.Contains("could not be assumed", StringComparison.OrdinalIgnoreCase);

    private static async Task CreateAsync(StepContext ctx, EksSessionSource session, ClusterSpec spec, CancellationToken ct)
    {
        var id = ctx.State.Id;
        var name = EksNames.Cluster(id);
        var roleArn = ctx.State.Resources.GetValueOrDefault(EksRoles.ClusterKey)
            ?? throw new KsctlException("KsctlStateInconsistent", KsctlErrorCategory.InvalidData, "The cluster role's ARN is not recorded; run the command again.", id.Name);
        var subnets = EksNetwork.SubnetIds(ctx.State);
        using var s = await session(ctx, ct).ConfigureAwait(false);
        var cluster = await s.Eks.DescribeClusterAsync(name, ct).ConfigureAwait(false);
        if (cluster is null)
        {
            var body = new JsonObject
            {
                ["name"] = name,
                ["roleArn"] = roleArn,
                ["resourcesVpcConfig"] = new JsonObject
                {
                    ["subnetIds"] = new JsonArray(subnets.Select(x => (JsonNode)JsonValue.Create(x)).ToArray()),
                    ["endpointPublicAccess"] = true,
                    ["endpointPrivateAccess"] = false,
                },
                ["accessConfig"] = new JsonObject { ["authenticationMode"] = "API", ["bootstrapClusterCreatorAdminPermissions"] = false },
                ["clientRequestToken"] = EksNames.RequestToken(id, "cluster"),
                ["tags"] = new JsonObject(EksNames.Tags(id).Select(t => KeyValuePair.Create(t.Key, (JsonNode?)JsonValue.Create(t.Value)))),
            };
            if (spec.KubernetesVersion is { } version) body["version"] = version;
            ctx.Logger.LogInformation("Creating EKS cluster {Name} in {Region}; EKS takes about 10 minutes.", name, id.Region);
            try
            {
                cluster = await EksWait.RetryAsync(s.Timings, $"creating EKS cluster {name}", s.Timings.RolePropagation, ctx.Logger,
                    c => s.Eks.CreateClusterAsync((JsonObject)body.DeepClone(), c), IsRoleNotReady, ct).ConfigureAwait(false);
            }
            catch (AwsApiException e) when (e.Code == "ResourceInUseException")
            {
                cluster = await s.Eks.DescribeClusterAsync(name, ct).ConfigureAwait(false) ?? throw e;
            }
        }
        EnsureOurs(id, cluster.Name, cluster.Tags, "EKS cluster");
        if (cluster.Arn is not null) ctx.Mutate(st => st.Resources[ClusterKey] = cluster.Arn);
        EksCluster? active = null;
        await EksWait.UntilAsync(s.Timings, $"EKS cluster {name} to become ACTIVE", s.Timings.ClusterActive, ctx.Logger, async c =>
        {
            active = await s.Eks.DescribeClusterAsync(name, c).ConfigureAwait(false)
                ?? throw new KsctlException("KsctlCreationFailed", KsctlErrorCategory.InvalidResult, $"EKS cluster {name} disappeared while it was being created.", name);
            if (active.Status == "FAILED")
                throw new KsctlException("KsctlCreationFailed", KsctlErrorCategory.InvalidResult, $"EKS reports cluster {name} FAILED; delete it (Remove-KsctlCluster) and create it again.", name);
            return (active.Status == "ACTIVE", active.Status);
        }, ct).ConfigureAwait(false);
        var endpoint = active!.Endpoint;
        if (endpoint is null || !Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme != "https")
            throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult, $"EKS returned no usable https endpoint for ACTIVE cluster {name} ('{endpoint}').", name);
        if (string.IsNullOrEmpty(active.CertificateAuthority) || !IsBase64(active.CertificateAuthority))
            throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult, $"EKS returned no certificate authority for ACTIVE cluster {name}.", name);
        ctx.Mutate(st =>
        {
            st.Endpoint = endpoint;
            st.KubernetesVersion = active.Version ?? st.KubernetesVersion;
            st.Resources[CertificateAuthorityKey] = active.CertificateAuthority;
        });
        ctx.Logger.LogInformation("EKS cluster {Name} is ACTIVE at {Endpoint}.", name, endpoint);
    }

    private static async Task GrantAdminAsync(StepContext ctx, EksSessionSource session, CancellationToken ct)
    {
        var name = EksNames.Cluster(ctx.State.Id);
        using var s = await session(ctx, ct).ConfigureAwait(false);
        var principal = CanonicalPrincipal(await s.CallerArn(ct).ConfigureAwait(false));
        try
        {
            await s.Eks.CreateAccessEntryAsync(name, new JsonObject
            {
                ["principalArn"] = principal,
                ["type"] = "STANDARD",
                ["clientRequestToken"] = EksNames.RequestToken(ctx.State.Id, "admin:" + principal),
                ["tags"] = new JsonObject(EksNames.Tags(ctx.State.Id).Select(t => KeyValuePair.Create(t.Key, (JsonNode?)JsonValue.Create(t.Value)))),
            }, ct).ConfigureAwait(false);
        }
        catch (AwsApiException e) when (e.Code == "ResourceInUseException") { } // the entry exists (a re-run)
        await s.Eks.AssociateAccessPolicyAsync(name, principal, new JsonObject
        {
            ["policyArn"] = EksPolicies.ClusterAdminAccessPolicy,
            ["accessScope"] = new JsonObject { ["type"] = "cluster" },
        }, ct).ConfigureAwait(false);
        ctx.Mutate(st => st.Resources[AdminKey] = principal);
        ctx.Logger.LogInformation("{Principal} is cluster admin of {Name}.", principal, name);
    }

    /// <summary>
    /// An assumed-role session ARN (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION) names no IAM principal an access
    /// entry can hold; the role's ARN does (aws-iam-authenticator pkg/arn Canonicalize does the same mapping).
    /// </summary>
    internal static string CanonicalPrincipal(string arn)
    {
        var parts = arn.Split(':', 6);
        if (parts.Length != 6 || parts[0] != "arn")
            throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult, $"STS returned '{arn}', which is not an ARN.", arn);
        if (parts[2] == "sts" && parts[5].StartsWith("assumed-role/", StringComparison.Ordinal))
        {
            var role = parts[5].Split('/');
            if (role.Length >= 3) return $"arn:{parts[1]}:iam::{parts[4]}:role/{role[1]}";
        }
        return arn;
    }

    private static async Task DeleteAsync(StepContext ctx, EksSessionSource session, CancellationToken ct)
    {
        var id = ctx.State.Id;
        var name = EksNames.Cluster(id);
        using var s = await session(ctx, ct).ConfigureAwait(false);
        var cluster = await s.Eks.DescribeClusterAsync(name, ct).ConfigureAwait(false);
        if (cluster is not null)
        {
            EnsureOurs(id, cluster.Name, cluster.Tags, "EKS cluster");
            if (cluster.Status != "DELETING")
            {
                try
                {
                    // ResourceInUseException: a node group is still attached (or an update runs); it goes first.
                    await EksWait.RetryAsync(s.Timings, $"deleting EKS cluster {name}", s.Timings.NodegroupGone, ctx.Logger, async c =>
                    {
                        await s.Eks.DeleteClusterAsync(name, c).ConfigureAwait(false);
                        return true;
                    }, e => e.Code == "ResourceInUseException", ct).ConfigureAwait(false);
                }
                catch (AwsApiException e) when (e.Code == "ResourceNotFoundException") { }
            }
            await EksWait.UntilAsync(s.Timings, $"EKS cluster {name} to be deleted", s.Timings.ClusterGone, ctx.Logger, async c =>
            {
                var now = await s.Eks.DescribeClusterAsync(name, c).ConfigureAwait(false);
                return (now is null, now?.Status ?? "gone");
            }, ct).ConfigureAwait(false);
        }
        ctx.Mutate(st => { st.Resources.Remove(ClusterKey); st.Resources.Remove(AdminKey); st.Resources.Remove(CertificateAuthorityKey); });
    }

    internal static void EnsureOurs(ClusterId id, string name, IReadOnlyDictionary<string, string> tags, string kind)
    {
        if (tags.GetValueOrDefault(EksNames.TagCluster) != id.Name)
            throw new KsctlException("KsctlResourceExists", KsctlErrorCategory.ResourceExists,
                $"{kind} {name} exists in {id.Region} but is not tagged {EksNames.TagCluster}={id.Name}; Ksctl does not take over or delete what it did not make. Use another cluster name.", name);
    }

    private static bool IsBase64(string value)
    {
        Span<byte> buffer = new byte[value.Length];
        return Convert.TryFromBase64String(value, buffer, out _);
    }
}
