using System.Text.Json;
using System.Text.RegularExpressions;

namespace Ksctl.Aws.Tests;

/// <summary>
/// IAM (query protocol, API version 2010-05-08, namespace https://iam.amazonaws.com/doc/2010-05-08/, a global service
/// signed for us-east-1): the role calls Ksctl makes for EKS. Rules, from botocore data/iam/2010-05-08/service-2.json
/// and the IAM API reference (CreateRole, GetRole, AttachRolePolicy, DetachRolePolicy, ListAttachedRolePolicies,
/// DeleteRole; "Common Errors"): RoleName is 1-64 of [\w+=,.@-] (ValidationError otherwise); AssumeRolePolicyDocument is
/// required and must be a JSON policy with Version and Statement (MalformedPolicyDocument); a second role of a name is
/// 409 EntityAlreadyExists; an unknown role or policy, or a detach of a policy not attached, is 404 NoSuchEntity; a role
/// with attached policies cannot be deleted (409 DeleteConflict "Cannot delete entity, must detach all policies
/// first."); at most 50 tags (LimitExceeded). Answers carry AssumeRolePolicyDocument URL-encoded, as IAM does.
/// Eventual consistency: a new role is refused by EKS <see cref="FreshRoleRefusals"/> times (AwsEmulator.Eks.cs), the
/// way EKS answers "could not be assumed" for a role IAM has not propagated yet.
/// </summary>
public sealed partial class AwsEmulator
{
    private static readonly HashSet<string> IamActions =
        ["CreateRole", "GetRole", "AttachRolePolicy", "DetachRolePolicy", "ListAttachedRolePolicies", "DeleteRole"];

    /// <summary>The AWS-managed policies this IAM knows (what EKS roles use), by ARN → name.</summary>
    public static readonly IReadOnlyDictionary<string, string> ManagedPolicies = new[]
    {
        "AmazonEKSClusterPolicy", "AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly",
        "AmazonSSMManagedInstanceCore", "AmazonEKSServicePolicy",
    }.ToDictionary(n => $"arn:aws:iam::aws:policy/{n}", n => n);

    /// <summary>How many times EKS refuses a newly created role before it "has propagated" (0: usable at once).</summary>
    public int FreshRoleRefusals { get; set; } = 1;

    private static readonly Regex RoleNamePattern = new(@"^[\w+=,.@-]{1,64}$");

    [AwsService("iam", AwsProtocol.Query, XmlNamespace = "https://iam.amazonaws.com/doc/2010-05-08/", ApiVersion = "2010-05-08", SigningRegion = "us-east-1")]
    private async Task IamAsync(AwsCall call)
    {
        if (!await QueryEnvelopeAsync(call, IamActions)) return;
        var name = call.Param("RoleName");
        if (name is null) { await Fail(call, 400, "ValidationError", "1 validation error detected: Value null at 'roleName' failed to satisfy constraint: Member must not be null"); return; }
        if (!RoleNamePattern.IsMatch(name))
        {
            await Fail(call, 400, "ValidationError", $"1 validation error detected: Value '{name}' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ and length 1-64");
            return;
        }
        var role = Find(RoleId(name));
        switch (call.Action)
        {
            case "CreateRole": await CreateRoleAsync(call, name, role); return;
            case "ListAttachedRolePolicies":
            case "GetRole":
            case "AttachRolePolicy":
            case "DetachRolePolicy":
            case "DeleteRole":
                if (role is null) { await Fail(call, 404, "NoSuchEntity", $"The role with name {name} cannot be found."); return; }
                break;
        }
        var policies = (HashSet<string>)role!.Fields["policies"]!;
        switch (call.Action)
        {
            case "GetRole":
                await Xml(call, RoleXml(role));
                return;
            case "AttachRolePolicy":
            {
                var arn = call.Param("PolicyArn");
                if (arn is null || !arn.StartsWith("arn:", StringComparison.Ordinal)) { await Fail(call, 400, "InvalidInput", $"ARN {arn} is not valid."); return; }
                if (!ManagedPolicies.ContainsKey(arn)) { await Fail(call, 404, "NoSuchEntity", $"Policy {arn} does not exist or is not attachable."); return; }
                lock (role.Fields) policies.Add(arn);
                await Xml(call, "");
                return;
            }
            case "DetachRolePolicy":
            {
                var arn = call.Param("PolicyArn") ?? "";
                bool removed;
                lock (role.Fields) removed = policies.Remove(arn);
                if (!removed) { await Fail(call, 404, "NoSuchEntity", $"Policy {arn} was not found."); return; }
                await Xml(call, "");
                return;
            }
            case "ListAttachedRolePolicies":
            {
                string members;
                lock (role.Fields)
                    members = string.Concat(policies.OrderBy(p => p, StringComparer.Ordinal).Select(p =>
                        $"<member><PolicyName>{X(ManagedPolicies[p])}</PolicyName><PolicyArn>{X(p)}</PolicyArn></member>"));
                await Xml(call, $"<IsTruncated>false</IsTruncated><AttachedPolicies>{members}</AttachedPolicies>");
                return;
            }
            case "DeleteRole":
            {
                int attached;
                lock (role.Fields) attached = policies.Count;
                if (attached > 0) { await Fail(call, 409, "DeleteConflict", "Cannot delete entity, must detach all policies first."); return; }
                role.Gone = true;
                Remove(role.Id);
                await Xml(call, "");
                return;
            }
        }
    }

    private static string RoleId(string name) => "role/" + name.ToLowerInvariant(); // IAM names are unique case-insensitively

    /// <summary>The role's ARN if it exists (for EKS's checks).</summary>
    internal AwsResource? RoleByArn(string? arn)
    {
        if (arn is null) return null;
        var prefix = $"arn:aws:iam::{Account}:role/";
        return arn.StartsWith(prefix, StringComparison.Ordinal) ? Find(RoleId(arn[prefix.Length..].Split('/').Last())) : null;
    }

    private async Task CreateRoleAsync(AwsCall call, string name, AwsResource? existing)
    {
        var document = call.Param("AssumeRolePolicyDocument");
        if (document is null) { await Fail(call, 400, "ValidationError", "1 validation error detected: Value null at 'assumeRolePolicyDocument' failed to satisfy constraint: Member must not be null"); return; }
        string? trusted = null;
        try
        {
            using var json = JsonDocument.Parse(document);
            if (!json.RootElement.TryGetProperty("Version", out _) || !json.RootElement.TryGetProperty("Statement", out var statements))
                throw new JsonException("Version and Statement are required");
            foreach (var st in statements.ValueKind == JsonValueKind.Array ? statements.EnumerateArray().ToList() : [statements])
                if (st.TryGetProperty("Principal", out var p) && p.TryGetProperty("Service", out var svc)) trusted = svc.ToString();
        }
        catch (JsonException e) { await Fail(call, 400, "MalformedPolicyDocument", $"This policy contains invalid Json: {e.Message}"); return; }
        var tags = call.Structures("Tags.member");
        if (tags.Count > 50) { await Fail(call, 409, "LimitExceeded", "Cannot exceed quota for TagsPerRole: 50."); return; }
        if ((call.Param("Description")?.Length ?? 0) > 1000) { await Fail(call, 400, "ValidationError", "Description is longer than 1000."); return; }
        if (existing is not null) { await Fail(call, 409, "EntityAlreadyExists", $"Role with name {name} already exists."); return; }
        var role = new AwsResource { Kind = "role", Id = RoleId(name), Region = "global" };
        role.Fields["name"] = name;
        role.Fields["arn"] = $"arn:aws:iam::{Account}:role/{name}";
        role.Fields["roleId"] = "AROA" + NewId("r")[2..].ToUpperInvariant();
        role.Fields["document"] = document;
        role.Fields["trusted"] = trusted;
        role.Fields["policies"] = new HashSet<string>(StringComparer.Ordinal);
        role.Fields["refusals"] = FreshRoleRefusals;
        foreach (var t in tags) if (t.TryGetValue("Key", out var k)) role.Tags[k] = t.GetValueOrDefault("Value") ?? "";
        Add(role);
        await Xml(call, RoleXml(role));
    }

    private static string RoleXml(AwsResource role)
    {
        var tags = role.Tags.IsEmpty ? "" : "<Tags>" + string.Concat(role.Tags.OrderBy(t => t.Key, StringComparer.Ordinal)
            .Select(t => $"<member><Key>{X(t.Key)}</Key><Value>{X(t.Value)}</Value></member>")) + "</Tags>";
        return $"<Role><Path>/</Path><RoleName>{X((string)role.Fields["name"]!)}</RoleName><RoleId>{X((string)role.Fields["roleId"]!)}</RoleId>" +
            $"<Arn>{X((string)role.Fields["arn"]!)}</Arn><CreateDate>{role.Created.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}</CreateDate>" +
            $"<AssumeRolePolicyDocument>{X(Uri.EscapeDataString((string)role.Fields["document"]!))}</AssumeRolePolicyDocument>{tags}</Role>";
    }
}
