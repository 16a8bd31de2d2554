using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Ksctl.Aws.Tests;

/// <summary>
/// EKS (REST-JSON, API version 2017-11-01): clusters, managed node groups and access entries. Routes, members and
/// enums from botocore data/eks/2017-11-01/service-2.json (CreateCluster POST /clusters, DescribeCluster and
/// DeleteCluster /clusters/{name}, CreateNodegroup POST /clusters/{name}/node-groups, DescribeNodegroup and
/// DeleteNodegroup /clusters/{name}/node-groups/{nodegroupName}, UpdateNodegroupConfig POST .../update-config,
/// CreateAccessEntry POST /clusters/{name}/access-entries, AssociateAccessPolicy POST
/// /clusters/{name}/access-entries/{principalArn}/access-policies; timestamps as epoch seconds). Rules and messages
/// from the EKS API reference and user guide: a cluster name is 1-100 of [0-9A-Za-z][A-Za-z0-9-_]*; roleArn and
/// resourcesVpcConfig.subnetIds are required, the subnets must exist, be in one VPC and in at least two availability
/// zones; a role EKS cannot assume (unknown, not trusting eks.amazonaws.com / ec2.amazonaws.com, or not yet propagated)
/// is InvalidParameterException "Role with arn: ..., could not be assumed because it does not exist or the trusted
/// entity is not correct"; a second cluster, node group or access entry of a name is 409 ResourceInUseException
/// unless it repeats the clientRequestToken (idempotent: the same answer); unknown names are 404
/// ResourceNotFoundException; a node group needs an ACTIVE cluster (InvalidRequestException), scalingConfig with
/// minSize ≥ 0, maxSize ≥ 1, minSize ≤ desiredSize ≤ maxSize (InvalidParameterException); a cluster with node groups
/// cannot be deleted (ResourceInUseException); a node group being created, updated or deleted refuses updates and
/// deletes (ResourceInUseException). Status machines: CREATING → ACTIVE, UPDATING → ACTIVE, DELETING → gone, each
/// after <see cref="EksDescribesPerTransition"/> describes (no wall clock: fast and deterministic tests).
/// </summary>
public sealed partial class AwsEmulator
{
    /// <summary>How many Describe calls a cluster or node group stays in a transitional status.</summary>
    public int EksDescribesPerTransition { get; set; } = 2;

    /// <summary>The Kubernetes versions EKS offers (CreateCluster refuses others).</summary>
    public HashSet<string> EksVersions { get; } = ["1.31", "1.32", "1.33", "1.34"];
    public const string EksDefaultVersion = "1.33";

    public static readonly IReadOnlySet<string> EksAccessPolicies = new HashSet<string>
    {
        "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy",
        "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy", "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
    };

    private static readonly Regex EksName = new("^[0-9A-Za-z][A-Za-z0-9\\-_]{0,99}$");
    private static readonly Regex NodegroupNamePattern = new("^[0-9A-Za-z][A-Za-z0-9\\-_]{0,62}$");
    private static readonly HashSet<string> AmiTypes =
        ["AL2_x86_64", "AL2_x86_64_GPU", "AL2_ARM_64", "AL2023_x86_64_STANDARD", "AL2023_ARM_64_STANDARD", "BOTTLEROCKET_x86_64", "BOTTLEROCKET_ARM_64", "CUSTOM"];

    /// <summary>Tests: sees every EKS call (its Action set) before it is answered, e.g. to cancel at a precise point.</summary>
    public Action<AwsCall>? EksObserver { get; set; }

    [AwsService("eks", AwsProtocol.RestJson)]
    private async Task EksAsync(AwsCall call)
    {
        try { await EksRouteAsync(call); }
        finally { EksObserver?.Invoke(call); }
    }

    private async Task EksRouteAsync(AwsCall call)
    {
        var s = Segments(call);
        var body = call.JsonBody as JsonObject ?? new JsonObject();
        call.Action = RestOperationOf(call);
        switch (call.Action)
        {
            case "CreateCluster": await CreateClusterAsync(call, body); return;
            case "DescribeCluster": await DescribeClusterAsync(call, s[1]); return;
            case "DeleteCluster": await DeleteClusterAsync(call, s[1]); return;
            case "CreateNodegroup": await CreateNodegroupAsync(call, s[1], body); return;
            case "DescribeNodegroup": await DescribeNodegroupAsync(call, s[1], s[3]); return;
            case "DeleteNodegroup": await DeleteNodegroupAsync(call, s[1], s[3]); return;
            case "UpdateNodegroupConfig": await UpdateNodegroupAsync(call, s[1], s[3], body); return;
            case "CreateAccessEntry": await CreateAccessEntryAsync(call, s[1], body); return;
            case "AssociateAccessPolicy": await AssociatePolicyAsync(call, s[1], s[3], body); return;
            default: await Fail(call, 404, "UnknownOperationException", $"No operation for {call.Method} {call.RawPath}."); return;
        }
    }

    private static string[] Segments(AwsCall call) => call.RawPath.Trim('/').Split('/').Select(Uri.UnescapeDataString).ToArray();

    /// <summary>The EKS operation a method and path name (the service model's http.method and requestUri), or null.</summary>
    private static string? RestOperationOf(AwsCall call) => (call.Method, Segments(call)) switch
    {
        ("POST", ["clusters"]) => "CreateCluster",
        ("GET", ["clusters", _]) => "DescribeCluster",
        ("DELETE", ["clusters", _]) => "DeleteCluster",
        ("POST", ["clusters", _, "node-groups"]) => "CreateNodegroup",
        ("GET", ["clusters", _, "node-groups", _]) => "DescribeNodegroup",
        ("DELETE", ["clusters", _, "node-groups", _]) => "DeleteNodegroup",
        ("POST", ["clusters", _, "node-groups", _, "update-config"]) => "UpdateNodegroupConfig",
        ("POST", ["clusters", _, "access-entries"]) => "CreateAccessEntry",
        ("POST", ["clusters", _, "access-entries", _, "access-policies"]) => "AssociateAccessPolicy",
        _ => null,
    };

    private static string ClusterKey(string region, string name) => $"eks-cluster/{region}/{name}";
    private static string NodegroupKey(string region, string cluster, string name) => $"eks-nodegroup/{region}/{cluster}/{name}";
    private static string AccessKey(string region, string cluster, string principal) => $"eks-access-entry/{region}/{cluster}/{principal}";

    /// <summary>Advances a transitional status by one describe; returns false when a DELETING resource is now gone.</summary>
    private bool Advance(AwsResource r)
    {
        lock (r.Fields)
        {
            var status = (string)r.Fields["status"]!;
            if (status is not ("CREATING" or "UPDATING" or "DELETING")) return true;
            var left = (int)r.Fields["describesLeft"]! - 1;
            r.Fields["describesLeft"] = left;
            if (left > 0) return true;
            if (status == "DELETING")
            {
                r.Gone = true;
                Remove(r.Id);
                foreach (var entry in _resources.Values.Where(x => x.Kind == "eks-access-entry" && x.Id.StartsWith($"eks-access-entry/{r.Region}/{r.Fields["name"]}/", StringComparison.Ordinal)).ToList())
                    Remove(entry.Id);
                return false;
            }
            r.Fields["status"] = "ACTIVE";
            if (r.Fields.TryGetValue("pendingScaling", out var pending) && pending is JsonObject next) { r.Fields["scaling"] = next; r.Fields.Remove("pendingScaling"); }
            return true;
        }
    }

    private void Transition(AwsResource r, string status)
    {
        lock (r.Fields) { r.Fields["status"] = status; r.Fields["describesLeft"] = EksDescribesPerTransition; }
    }

    /// <summary>Whether EKS can assume the role for <paramref name="service"/> now (a fresh role is refused a few times).</summary>
    private bool CanAssume(string? arn, string service)
    {
        var role = RoleByArn(arn);
        if (role is null) return false;
        lock (role.Fields)
        {
            if ((string?)role.Fields["trusted"] != service) return false;
            var refusals = (int)role.Fields["refusals"]!;
            if (refusals > 0) { role.Fields["refusals"] = refusals - 1; return false; }
            return true;
        }
    }

    private Task RoleRefused(AwsCall call, string? arn) =>
        Fail(call, 400, "InvalidParameterException", $"Role with arn: {arn}, could not be assumed because it does not exist or the trusted entity is not correct");

    private static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode)JsonValue.Create(v)).ToArray());

    private static List<string>? StringList(JsonNode? node) =>
        node is JsonArray a && a.All(x => x is JsonValue v && v.TryGetValue<string>(out _)) ? a.Select(x => x!.GetValue<string>()).ToList() : null;

    private static JsonObject TagsOf(AwsResource r) => new(r.Tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => KeyValuePair.Create(t.Key, (JsonNode?)JsonValue.Create(t.Value))));

    private static bool ReadTags(AwsResource r, JsonNode? tags)
    {
        if (tags is null) return true;
        if (tags is not JsonObject o || o.Count > 50) return false;
        foreach (var (k, v) in o)
        {
            if (k.Length is 0 or > 128 || v is not JsonValue value || !value.TryGetValue<string>(out var s) || s.Length > 256) return false;
            r.Tags[k] = s;
        }
        return true;
    }
}
