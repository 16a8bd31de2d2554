using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Ksctl.Aws.Tests;

/// <summary>EKS clusters and access entries (rules in AwsEmulator.Eks.cs's header).</summary>
public sealed partial class AwsEmulator
{
    private async Task CreateClusterAsync(AwsCall call, JsonObject body)
    {
        var name = body["name"]?.GetValue<string>();
        if (name is null || !EksName.IsMatch(name))
        {
            await Fail(call, 400, "InvalidParameterException", $"The cluster name '{name}' is not valid: it must be 1-100 characters of [0-9A-Za-z][A-Za-z0-9-_]*.");
            return;
        }
        var token = body["clientRequestToken"]?.GetValue<string>();
        var existing = Find(ClusterKey(call.Region, name));
        if (existing is not null)
        {
            if (token is not null && (string?)existing.Fields["token"] == token) { await Json(call, new JsonObject { ["cluster"] = ClusterJson(existing) }); return; }
            await Fail(call, 409, "ResourceInUseException", $"Cluster already exists with name: {name}");
            return;
        }
        var roleArn = body["roleArn"]?.GetValue<string>();
        if (roleArn is null) { await Fail(call, 400, "InvalidParameterException", "roleArn is required."); return; }
        var subnets = StringList(body["resourcesVpcConfig"]?["subnetIds"]);
        if (subnets is null || subnets.Count == 0) { await Fail(call, 400, "InvalidParameterException", "resourcesVpcConfig.subnetIds is required."); return; }
        string? vpc = null;
        var zones = new HashSet<string>(StringComparer.Ordinal);
        foreach (var id in subnets)
        {
            if (SubnetInfo(id, call.Region) is not { } info) { await Fail(call, 400, "InvalidParameterException", $"The subnet ID '{id}' does not exist (Service: AmazonEC2; Status Code: 400; Error Code: InvalidSubnetID.NotFound)"); return; }
            if (vpc is not null && vpc != info.Vpc) { await Fail(call, 400, "InvalidParameterException", "Subnets must all be in the same VPC."); return; }
            vpc = info.Vpc;
            zones.Add(info.Zone);
        }
        if (zones.Count < 2)
        {
            await Fail(call, 400, "InvalidParameterException", "Subnets specified must be in at least two different AZs");
            return;
        }
        var version = body["version"]?.GetValue<string>() ?? EksDefaultVersion;
        if (!EksVersions.Contains(version)) { await Fail(call, 400, "InvalidParameterException", $"unsupported Kubernetes version {version}"); return; }
        var mode = body["accessConfig"]?["authenticationMode"]?.GetValue<string>() ?? "CONFIG_MAP";
        if (mode is not ("API" or "API_AND_CONFIG_MAP" or "CONFIG_MAP")) { await Fail(call, 400, "InvalidParameterException", $"Unsupported authenticationMode {mode}."); return; }
        if (!CanAssume(roleArn, "eks.amazonaws.com")) { await RoleRefused(call, roleArn); return; }
        var cluster = new AwsResource { Kind = "eks-cluster", Id = ClusterKey(call.Region, name), Region = call.Region };
        if (!ReadTags(cluster, body["tags"])) { await Fail(call, 400, "InvalidParameterException", "Tags must be at most 50 keys of 1-128 characters with values of at most 256."); return; }
        cluster.Fields["name"] = name;
        cluster.Fields["token"] = token;
        cluster.Fields["roleArn"] = roleArn;
        cluster.Fields["version"] = version;
        cluster.Fields["subnets"] = subnets;
        cluster.Fields["vpc"] = vpc;
        cluster.Fields["securityGroups"] = StringList(body["resourcesVpcConfig"]?["securityGroupIds"]) ?? [];
        cluster.Fields["mode"] = mode;
        cluster.Fields["bootstrapAdmin"] = body["accessConfig"]?["bootstrapClusterCreatorAdminPermissions"]?.GetValue<bool>() ?? true;
        cluster.Fields["creator"] = call.Caller.Arn;
        Transition(cluster, "CREATING");
        Add(cluster);
        await Json(call, new JsonObject { ["cluster"] = ClusterJson(cluster) });
    }

    private async Task<AwsResource?> ClusterOrFailAsync(AwsCall call, string name)
    {
        var cluster = Find(ClusterKey(call.Region, name));
        if (cluster is null) await Fail(call, 404, "ResourceNotFoundException", $"No cluster found for name: {name}.");
        return cluster;
    }

    private async Task DescribeClusterAsync(AwsCall call, string name)
    {
        if (await ClusterOrFailAsync(call, name) is not { } cluster) return;
        if (!Advance(cluster)) { await Fail(call, 404, "ResourceNotFoundException", $"No cluster found for name: {name}."); return; }
        await Json(call, new JsonObject { ["cluster"] = ClusterJson(cluster) });
    }

    private async Task DeleteClusterAsync(AwsCall call, string name)
    {
        if (await ClusterOrFailAsync(call, name) is not { } cluster) return;
        if (All("eks-nodegroup", call.Region).Any(g => (string)g.Fields["cluster"]! == name))
        {
            await Fail(call, 409, "ResourceInUseException", $"Cluster has nodegroups attached");
            return;
        }
        if ((string)cluster.Fields["status"]! == "DELETING") { await Fail(call, 409, "ResourceInUseException", $"Cluster {name} is already being deleted."); return; }
        Transition(cluster, "DELETING");
        await Json(call, new JsonObject { ["cluster"] = ClusterJson(cluster) });
    }

    private JsonObject ClusterJson(AwsResource c)
    {
        lock (c.Fields)
        {
            var status = (string)c.Fields["status"]!;
            var name = (string)c.Fields["name"]!;
            var json = new JsonObject
            {
                ["name"] = name,
                ["arn"] = $"arn:aws:eks:{c.Region}:{Account}:cluster/{name}",
                ["createdAt"] = c.Created.ToUnixTimeSeconds(),
                ["version"] = (string)c.Fields["version"]!,
                ["roleArn"] = (string)c.Fields["roleArn"]!,
                ["resourcesVpcConfig"] = new JsonObject
                {
                    ["subnetIds"] = Strings((List<string>)c.Fields["subnets"]!),
                    ["vpcId"] = (string?)c.Fields["vpc"],
                    ["endpointPublicAccess"] = true,
                    ["endpointPrivateAccess"] = false,
                },
                ["status"] = status,
                ["certificateAuthority"] = new JsonObject(),
                ["platformVersion"] = "eks.1",
                ["tags"] = TagsOf(c),
                ["accessConfig"] = new JsonObject { ["authenticationMode"] = (string)c.Fields["mode"]! },
            };
            // The endpoint and CA appear once the control plane is up (CREATING answers have neither).
            if (status == "ACTIVE") c.Fields.TryAdd("endpoint", $"https://{Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(c.Id)))[..32]}.gr7.{c.Region}.eks.amazonaws.com");
            if (c.Fields.TryGetValue("endpoint", out var endpoint))
            {
                json["endpoint"] = (string)endpoint!;
                json["certificateAuthority"] = new JsonObject { ["data"] = Convert.ToBase64String(Encoding.ASCII.GetBytes($"-----BEGIN CERTIFICATE-----\nTUlJQ-{name}\n-----END CERTIFICATE-----\n")) };
            }
            return json;
        }
    }

    private async Task CreateAccessEntryAsync(AwsCall call, string clusterName, JsonObject body)
    {
        if (await ClusterOrFailAsync(call, clusterName) is not { } cluster) return;
        var principal = body["principalArn"]?.GetValue<string>();
        if (principal is null || !System.Text.RegularExpressions.Regex.IsMatch(principal, @"^arn:aws:iam::\d{12}:(role|user)/.+$"))
        {
            await Fail(call, 400, "InvalidParameterException", $"The specified principalArn is invalid: {principal} (an IAM role or user ARN is required).");
            return;
        }
        if ((string)cluster.Fields["status"]! != "ACTIVE") { await Fail(call, 400, "InvalidRequestException", $"Cluster {clusterName} is not ACTIVE."); return; }
        if ((string)cluster.Fields["mode"]! == "CONFIG_MAP") { await Fail(call, 400, "InvalidRequestException", "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation."); return; }
        var type = body["type"]?.GetValue<string>() ?? "STANDARD";
        if (type is not ("STANDARD" or "EC2_LINUX" or "EC2_WINDOWS" or "FARGATE_LINUX")) { await Fail(call, 400, "InvalidParameterException", $"Unsupported access entry type {type}."); return; }
        var key = AccessKey(call.Region, clusterName, principal);
        var token = body["clientRequestToken"]?.GetValue<string>();
        if (Find(key) is { } existing)
        {
            if (token is null || (string?)existing.Fields["token"] != token)
            {
                await Fail(call, 409, "ResourceInUseException", "The specified access entry resource is already in use on this cluster.");
                return;
            }
        }
        else
        {
            var entry = new AwsResource { Kind = "eks-access-entry", Id = key, Region = call.Region };
            entry.Fields["token"] = token;
            entry.Fields["policies"] = new Dictionary<string, string>(StringComparer.Ordinal);
            if (!ReadTags(entry, body["tags"])) { await Fail(call, 400, "InvalidParameterException", "Invalid tags."); return; }
            Add(entry);
        }
        await Json(call, new JsonObject
        {
            ["accessEntry"] = new JsonObject
            {
                ["clusterName"] = clusterName, ["principalArn"] = principal, ["type"] = type,
                ["accessEntryArn"] = $"arn:aws:eks:{call.Region}:{Account}:access-entry/{clusterName}/{Guid.NewGuid():N}",
                ["kubernetesGroups"] = new JsonArray(), ["username"] = principal,
            },
        });
    }

    private async Task AssociatePolicyAsync(AwsCall call, string clusterName, string principal, JsonObject body)
    {
        if (await ClusterOrFailAsync(call, clusterName) is null) return;
        if (Find(AccessKey(call.Region, clusterName, principal)) is not { } entry)
        {
            await Fail(call, 404, "ResourceNotFoundException", $"The specified principalArn could not be found. You can view your available access entries with 'list-access-entries'.");
            return;
        }
        var policy = body["policyArn"]?.GetValue<string>();
        if (policy is null || !EksAccessPolicies.Contains(policy)) { await Fail(call, 400, "InvalidParameterException", $"The specified policyArn is invalid: {policy}"); return; }
        var scope = body["accessScope"]?["type"]?.GetValue<string>();
        var namespaces = StringList(body["accessScope"]?["namespaces"]);
        if (scope is not ("cluster" or "namespace")) { await Fail(call, 400, "InvalidParameterException", "accessScope.type must be cluster or namespace."); return; }
        if (scope == "namespace" && (namespaces is null || namespaces.Count == 0)) { await Fail(call, 400, "InvalidParameterException", "A namespace access scope needs namespaces."); return; }
        if (scope == "cluster" && namespaces is { Count: > 0 }) { await Fail(call, 400, "InvalidParameterException", "A cluster access scope takes no namespaces."); return; }
        lock (entry.Fields) ((Dictionary<string, string>)entry.Fields["policies"]!)[policy] = scope;
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        await Json(call, new JsonObject
        {
            ["clusterName"] = clusterName, ["principalArn"] = principal,
            ["associatedAccessPolicy"] = new JsonObject
            {
                ["policyArn"] = policy, ["accessScope"] = new JsonObject { ["type"] = scope, ["namespaces"] = Strings(namespaces ?? []) },
                ["associatedAt"] = now, ["modifiedAt"] = now,
            },
        });
    }

    /// <summary>Which principals are cluster admins of <paramref name="cluster"/> (for tests).</summary>
    public IReadOnlyList<string> EksAdmins(string region, string cluster) =>
        All("eks-access-entry", region).Where(e => e.Id.StartsWith($"eks-access-entry/{region}/{cluster}/", StringComparison.Ordinal))
            .Where(e => ((Dictionary<string, string>)e.Fields["policies"]!).GetValueOrDefault("arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy") == "cluster")
            .Select(e => e.Id[$"eks-access-entry/{region}/{cluster}/".Length..]).ToList();
}
