using System.Text.Json.Nodes;

namespace Ksctl.Aws.Tests;

/// <summary>EKS managed node groups (rules in AwsEmulator.Eks.cs's header).</summary>
public sealed partial class AwsEmulator
{
    private async Task CreateNodegroupAsync(AwsCall call, string clusterName, JsonObject body)
    {
        if (await ClusterOrFailAsync(call, clusterName) is not { } cluster) return;
        var name = body["nodegroupName"]?.GetValue<string>();
        if (name is null || !NodegroupNamePattern.IsMatch(name)) { await Fail(call, 400, "InvalidParameterException", $"Nodegroup name '{name}' is not valid (1-63 of [0-9A-Za-z][A-Za-z0-9-_]*)."); return; }
        var token = body["clientRequestToken"]?.GetValue<string>();
        if (Find(NodegroupKey(call.Region, clusterName, name)) is { } existing)
        {
            if (token is not null && (string?)existing.Fields["token"] == token) { await Json(call, new JsonObject { ["nodegroup"] = NodegroupJson(existing) }); return; }
            await Fail(call, 409, "ResourceInUseException", $"NodeGroup already exists with name {name} and cluster name {clusterName}");
            return;
        }
        if ((string)cluster.Fields["status"]! != "ACTIVE") { await Fail(call, 400, "InvalidRequestException", $"Cluster '{clusterName}' is not in ACTIVE status"); return; }
        if (ScalingError(body["scalingConfig"] as JsonObject ?? new JsonObject { ["minSize"] = 1, ["maxSize"] = 2, ["desiredSize"] = 2 }) is { } scalingError)
        {
            await Fail(call, 400, "InvalidParameterException", scalingError);
            return;
        }
        var subnets = StringList(body["subnets"]);
        if (subnets is null || subnets.Count == 0) { await Fail(call, 400, "InvalidParameterException", "subnets is required."); return; }
        foreach (var id in subnets)
        {
            if (SubnetInfo(id, call.Region) is not { } info) { await Fail(call, 400, "InvalidParameterException", $"The subnet ID '{id}' does not exist"); return; }
            if (info.Vpc != (string?)cluster.Fields["vpc"]) { await Fail(call, 400, "InvalidParameterException", $"Subnet {id} is not in the cluster's VPC."); return; }
        }
        var instanceTypes = StringList(body["instanceTypes"]) ?? ["t3.medium"];
        var amiType = body["amiType"]?.GetValue<string>() ?? "AL2023_x86_64_STANDARD";
        if (!AmiTypes.Contains(amiType)) { await Fail(call, 400, "InvalidParameterException", $"Unsupported amiType {amiType}."); return; }
        var arm = amiType.Contains("ARM", StringComparison.Ordinal);
        foreach (var type in instanceTypes)
        {
            var family = type.Split('.')[0];
            var graviton = System.Text.RegularExpressions.Regex.IsMatch(family, "^[a-z]+[0-9]+[a-z-]*g[a-z-]*$");
            if (graviton != arm) { await Fail(call, 400, "InvalidParameterException", $"[{type}] is not a valid instance type for requested amiType {amiType}"); return; }
        }
        var capacity = body["capacityType"]?.GetValue<string>() ?? "ON_DEMAND";
        if (capacity is not ("ON_DEMAND" or "SPOT" or "CAPACITY_BLOCK")) { await Fail(call, 400, "InvalidParameterException", $"Unsupported capacityType {capacity}."); return; }
        var roleArn = body["nodeRole"]?.GetValue<string>();
        if (roleArn is null) { await Fail(call, 400, "InvalidParameterException", "nodeRole is required."); return; }
        if (!CanAssume(roleArn, "ec2.amazonaws.com")) { await RoleRefused(call, roleArn); return; }
        var group = new AwsResource { Kind = "eks-nodegroup", Id = NodegroupKey(call.Region, clusterName, name), Region = call.Region };
        if (!ReadTags(group, body["tags"])) { await Fail(call, 400, "InvalidParameterException", "Invalid tags."); return; }
        group.Fields["name"] = name;
        group.Fields["cluster"] = clusterName;
        group.Fields["token"] = token;
        group.Fields["scaling"] = (body["scalingConfig"] as JsonObject)?.DeepClone() ?? new JsonObject { ["minSize"] = 1, ["maxSize"] = 2, ["desiredSize"] = 2 };
        group.Fields["subnets"] = subnets;
        group.Fields["instanceTypes"] = instanceTypes;
        group.Fields["amiType"] = amiType;
        group.Fields["capacityType"] = capacity;
        group.Fields["nodeRole"] = roleArn;
        // A node role without the worker policies makes nodes that cannot join: EKS reports the group CREATE_FAILED.
        var policies = (HashSet<string>)RoleByArn(roleArn)!.Fields["policies"]!;
        var issues = new[] { "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy", "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly" }
            .Where(p => !policies.Contains(p)).Select(p => $"AccessDenied: the node role lacks {p}").ToList();
        // Nodes in a public subnet reach the endpoint only with a public address (EKS user guide, managed node groups).
        var noPublicIp = subnets.Where(id => Find(id) is { } sn && !(sn.Fields.GetValueOrDefault("mapPublicIp") is true)).ToList();
        if (noPublicIp.Count > 0)
            issues.Add($"Ec2SubnetInvalidConfiguration: One or more Amazon EC2 Subnets of [{string.Join(", ", noPublicIp)}] for node group {name} does not automatically assign public IP addresses to instances launched into it. If you want your instances to be assigned a public IP address, then you need to enable auto-assign public IP address for the subnet.");
        group.Fields["issues"] = issues;
        Transition(group, "CREATING");
        Add(group);
        await Json(call, new JsonObject { ["nodegroup"] = NodegroupJson(group) });
    }

    private static string? ScalingError(JsonObject scaling)
    {
        int? Get(string n) => scaling[n] is JsonValue v && v.TryGetValue<int>(out var i) ? i : null;
        var (min, max, desired) = (Get("minSize"), Get("maxSize"), Get("desiredSize"));
        if (min is < 0) return "Minimum capacity " + min + " can't be less than 0";
        if (max is < 1) return "Maximum capacity " + max + " can't be less than 1";
        if (min is { } a && max is { } b && a > b) return $"Minimum capacity {a} can't be greater than maximum capacity {b}";
        if (desired is { } d && ((min is { } lo && d < lo) || (max is { } hi && d > hi))) return $"Desired capacity:{d} can't be greater than max size:{max} or less than min size:{min}";
        return null;
    }

    private async Task<AwsResource?> NodegroupOrFailAsync(AwsCall call, string clusterName, string name)
    {
        if (await ClusterOrFailAsync(call, clusterName) is null) return null;
        var group = Find(NodegroupKey(call.Region, clusterName, name));
        if (group is null) await Fail(call, 404, "ResourceNotFoundException", $"No node group found for name: {name}.");
        return group;
    }

    private async Task DescribeNodegroupAsync(AwsCall call, string clusterName, string name)
    {
        if (await NodegroupOrFailAsync(call, clusterName, name) is not { } group) return;
        lock (group.Fields)
        {
            // The CREATING → ACTIVE step ends in CREATE_FAILED when nodes cannot join.
            if ((string)group.Fields["status"]! == "CREATING" && (int)group.Fields["describesLeft"]! == 1 && ((List<string>)group.Fields["issues"]!).Count > 0)
                group.Fields["status"] = "CREATE_FAILED";
        }
        if (!Advance(group)) { await Fail(call, 404, "ResourceNotFoundException", $"No node group found for name: {name}."); return; }
        await Json(call, new JsonObject { ["nodegroup"] = NodegroupJson(group) });
    }

    private async Task UpdateNodegroupAsync(AwsCall call, string clusterName, string name, JsonObject body)
    {
        if (await NodegroupOrFailAsync(call, clusterName, name) is not { } group) return;
        var status = (string)group.Fields["status"]!;
        if (status != "ACTIVE") { await Fail(call, 409, "ResourceInUseException", $"Nodegroup {name} is currently in {status} state, cannot update."); return; }
        if (body["scalingConfig"] is not JsonObject requested) { await Fail(call, 400, "InvalidParameterException", "No changes needed: give scalingConfig, labels, taints or updateConfig."); return; }
        var merged = (JsonObject)((JsonObject)group.Fields["scaling"]!).DeepClone();
        foreach (var (k, v) in requested) merged[k] = v?.DeepClone();
        if (ScalingError(merged) is { } error) { await Fail(call, 400, "InvalidParameterException", error); return; }
        lock (group.Fields) group.Fields["pendingScaling"] = merged;
        Transition(group, "UPDATING");
        await Json(call, new JsonObject
        {
            ["update"] = new JsonObject
            {
                ["id"] = Guid.NewGuid().ToString(), ["status"] = "InProgress", ["type"] = "ConfigUpdate",
                ["params"] = new JsonArray(requested.Select(p => (JsonNode)new JsonObject { ["type"] = p.Key switch { "minSize" => "MinSize", "maxSize" => "MaxSize", _ => "DesiredSize" }, ["value"] = p.Value?.ToJsonString() }).ToArray()),
                ["createdAt"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), ["errors"] = new JsonArray(),
            },
        });
    }

    private async Task DeleteNodegroupAsync(AwsCall call, string clusterName, string name)
    {
        if (await NodegroupOrFailAsync(call, clusterName, name) is not { } group) return;
        var status = (string)group.Fields["status"]!;
        if (status is "CREATING" or "UPDATING" or "DELETING") { await Fail(call, 409, "ResourceInUseException", $"Nodegroup {name} is currently in {status} state."); return; }
        Transition(group, "DELETING");
        await Json(call, new JsonObject { ["nodegroup"] = NodegroupJson(group) });
    }

    private JsonObject NodegroupJson(AwsResource g)
    {
        lock (g.Fields)
        {
            var name = (string)g.Fields["name"]!;
            var cluster = (string)g.Fields["cluster"]!;
            var status = (string)g.Fields["status"]!;
            var issues = status == "CREATE_FAILED" ? (List<string>)g.Fields["issues"]! : [];
            return new JsonObject
            {
                ["nodegroupName"] = name,
                ["nodegroupArn"] = $"arn:aws:eks:{g.Region}:{Account}:nodegroup/{cluster}/{name}/{g.Created.ToUnixTimeSeconds():x}",
                ["clusterName"] = cluster,
                ["createdAt"] = g.Created.ToUnixTimeSeconds(),
                ["status"] = status,
                ["capacityType"] = (string)g.Fields["capacityType"]!,
                ["scalingConfig"] = ((JsonObject)g.Fields["scaling"]!).DeepClone(),
                ["instanceTypes"] = Strings((List<string>)g.Fields["instanceTypes"]!),
                ["subnets"] = Strings((List<string>)g.Fields["subnets"]!),
                ["amiType"] = (string)g.Fields["amiType"]!,
                ["nodeRole"] = (string)g.Fields["nodeRole"]!,
                ["health"] = new JsonObject { ["issues"] = new JsonArray(issues.Select(i => (JsonNode)new JsonObject { ["code"] = i.Split(':')[0], ["message"] = i[(i.IndexOf(':') + 2)..] }).ToArray()) },
                ["tags"] = TagsOf(g),
            };
        }
    }

    /// <summary>The nodes a node group has now (desired size when ACTIVE), for tests.</summary>
    public int? EksNodeCount(string region, string cluster, string name) =>
        Find(NodegroupKey(region, cluster, name)) is { } g ? ((JsonObject)g.Fields["scaling"]!)["desiredSize"]?.GetValue<int>() : null;
}
