using System.Security.Cryptography;
using System.Text;

namespace Ksctl.Aws.Tests;

/// <summary>
/// Security groups and key pairs. CreateSecurityGroup: GroupName (1-255, not starting "sg-", unique in its VPC:
/// InvalidGroup.Duplicate) and GroupDescription required (MissingParameter). AuthorizeSecurityGroupIngress: IpProtocol
/// tcp/udp/icmp/-1, FromPort and ToPort for tcp/udp (0-65535, from ≤ to), CidrIp a valid CIDR; a rule that exists is
/// InvalidPermission.Duplicate. DeleteSecurityGroup while an instance that is not terminated uses it: DependencyViolation
/// ("resource sg-... has a dependent object"). ImportKeyPair: KeyName unique (InvalidKeyPair.Duplicate),
/// PublicKeyMaterial base64 of an OpenSSH RSA/ED25519/ECDSA public key (InvalidKey.Format); DeleteKeyPair succeeds for an
/// absent key, as EC2's does. Sources: the EC2 API reference of each action and the EC2 User Guide "Amazon EC2 key pairs".
/// </summary>
public sealed partial class AwsEmulator
{
    public sealed record Permission(string Protocol, int From, int To, string Cidr, string? Description);

    private static List<Permission> Permissions(AwsResource group) => (List<Permission>)group.Fields["ingress"]!;

    /// <summary>A security group's inbound rules (for the test machines' firewall).</summary>
    public IReadOnlyList<Permission> Ingress(string groupId) { lock (_gate) return Permissions(_resources[groupId]).ToList(); }

    private Task CreateGroupAsync(AwsCall call)
    {
        var name = Required(call, "GroupName");
        var description = Required(call, "GroupDescription");
        if (name.Length > 255 || name.StartsWith("sg-", StringComparison.OrdinalIgnoreCase) || description.Length > 255)
            throw new Ec2Fault("InvalidParameterValue", $"Invalid value '{name}' for groupName. It may not begin with 'sg-' and must be 1-255 characters.");
        var vpc = Existing(call, "vpc", call.Param("VpcId") ?? throw new Ec2Fault("VPCIdNotSpecified", "No default VPC for this user"), "InvalidVpcID.NotFound", "vpc");
        var tags = TagsFor(call, "security-group");
        lock (_gate)
        {
            if (All("security-group", call.Region).Any(g => Field(g, "vpc") == vpc.Id && Field(g, "name") == name))
                throw new Ec2Fault("InvalidGroup.Duplicate", $"The security group '{name}' already exists for VPC '{vpc.Id}'");
            var group = Tagged(Add(new AwsResource { Kind = "security-group", Id = NewId("sg"), Region = call.Region }), tags);
            group.Fields["vpc"] = vpc.Id;
            group.Fields["name"] = name;
            group.Fields["description"] = description;
            group.Fields["ingress"] = new List<Permission>();
            return Xml(call, $"<return>true</return><groupId>{group.Id}</groupId>{TagSet(group)}");
        }
    }

    private Task AuthorizeIngressAsync(AwsCall call)
    {
        var group = Existing(call, "security-group", Required(call, "GroupId"), "InvalidGroup.NotFound", "security group");
        var added = new List<Permission>();
        foreach (var p in call.Structures("IpPermissions"))
        {
            var protocol = p.GetValueOrDefault("IpProtocol") ?? throw new Ec2Fault("MissingParameter", "The request must contain the parameter ipProtocol");
            if (protocol is not ("tcp" or "udp" or "icmp" or "-1")) throw new Ec2Fault("InvalidParameterValue", $"Invalid value '{protocol}' for IP protocol. Unknown protocol.");
            int from = -1, to = -1;
            if (protocol is "tcp" or "udp")
            {
                if (!int.TryParse(p.GetValueOrDefault("FromPort"), out from) || !int.TryParse(p.GetValueOrDefault("ToPort"), out to))
                    throw new Ec2Fault("InvalidParameterValue", "Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange.");
                if (from is < 0 or > 65535 || to is < 0 or > 65535 || from > to)
                    throw new Ec2Fault("InvalidParameterValue", $"Invalid TCP/UDP port range {from}-{to}.");
            }
            var ranges = p.Where(kv => kv.Key.StartsWith("IpRanges.", StringComparison.Ordinal) && kv.Key.EndsWith(".CidrIp", StringComparison.Ordinal)).ToList();
            if (ranges.Count == 0) throw new Ec2Fault("MissingParameter", "Either IpRanges or UserIdGroupPairs must be given (Ksctl's rules use CIDR sources).");
            foreach (var (k, cidr) in ranges)
            {
                ParseCidr(cidr, "CidrIp");
                added.Add(new Permission(protocol, from, to, cidr, p.GetValueOrDefault(k.Replace(".CidrIp", ".Description"))));
            }
        }
        if (added.Count == 0) throw new Ec2Fault("MissingParameter", "The request must contain the parameter IpPermissions");
        lock (_gate)
        {
            var existing = Permissions(group);
            if (added.FirstOrDefault(a => existing.Any(e => e with { Description = null } == a with { Description = null })) is { } duplicate)
                throw new Ec2Fault("InvalidPermission.Duplicate", $"the specified rule \"peer: {duplicate.Cidr}, {duplicate.Protocol.ToUpperInvariant()}, from port: {duplicate.From}, to port: {duplicate.To}, ALLOW\" already exists");
            existing.AddRange(added);
        }
        return Xml(call, "<return>true</return>");
    }

    private Task DescribeGroupsAsync(AwsCall call)
    {
        var groups = IdsOrAll(call, "GroupId", "security-group", "InvalidGroup.NotFound", "security group");
        groups = Filtered(call, groups, new() { ["vpc-id"] = r => [Field(r, "vpc")], ["group-name"] = r => [Field(r, "name")], ["group-id"] = r => [r.Id] });
        var items = groups.Select(g =>
        {
            lock (_gate)
                return $"<item><ownerId>{g.Owner}</ownerId><groupId>{g.Id}</groupId><groupName>{X(Field(g, "name"))}</groupName><groupDescription>{X(Field(g, "description"))}</groupDescription><vpcId>{Field(g, "vpc")}</vpcId><ipPermissions>"
                    + string.Concat(Permissions(g).GroupBy(p => (p.Protocol, p.From, p.To)).Select(p =>
                        $"<item><ipProtocol>{p.Key.Protocol}</ipProtocol>{(p.Key.Protocol == "-1" ? "" : $"<fromPort>{p.Key.From}</fromPort><toPort>{p.Key.To}</toPort>")}<groups/><ipRanges>"
                        + string.Concat(p.Select(r => $"<item><cidrIp>{r.Cidr}</cidrIp>{(r.Description is null ? "" : $"<description>{X(r.Description)}</description>")}</item>")) + "</ipRanges><ipv6Ranges/><prefixListIds/></item>"))
                    + "</ipPermissions><ipPermissionsEgress><item><ipProtocol>-1</ipProtocol><groups/><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges></item></ipPermissionsEgress>"
                    + TagSet(g) + "</item>";
        });
        return Xml(call, "<securityGroupInfo>" + string.Concat(items) + "</securityGroupInfo>");
    }

    private Task DeleteGroupAsync(AwsCall call)
    {
        var group = Existing(call, "security-group", Required(call, "GroupId"), "InvalidGroup.NotFound", "security group");
        lock (_gate)
        {
            if (Holding(call.Region, i => Field(i, "group") == group.Id) || EksHolds(call.Region, group.Id) || (_groupLag.TryGetValue(group.Id, out var lag) && lag > 0 && (_groupLag[group.Id] = lag - 1) >= 0))
                throw new Ec2Fault("DependencyViolation", $"resource {group.Id} has a dependent object");
            Remove(group.Id);
        }
        return Xml(call, "<return>true</return>");
    }

    private Task ImportKeyPairAsync(AwsCall call)
    {
        var name = Required(call, "KeyName");
        if (name.Length > 255) throw new Ec2Fault("InvalidParameterValue", "Key name must be at most 255 characters.");
        string material;
        try { material = Encoding.ASCII.GetString(Convert.FromBase64String(Required(call, "PublicKeyMaterial"))).Trim(); }
        catch (FormatException) { throw new Ec2Fault("InvalidKey.Format", "Key is not in valid OpenSSH public key format"); }
        var parts = material.Split(' ');
        if (parts.Length < 2 || parts[0] is not ("ssh-rsa" or "ssh-ed25519" or "ecdsa-sha2-nistp256" or "ecdsa-sha2-nistp384" or "ecdsa-sha2-nistp521"))
            throw new Ec2Fault("InvalidKey.Format", "Key is not in valid OpenSSH public key format");
        byte[] blob;
        try { blob = Convert.FromBase64String(parts[1]); }
        catch (FormatException) { throw new Ec2Fault("InvalidKey.Format", "Key is not in valid OpenSSH public key format"); }
        var tags = TagsFor(call, "key-pair");
        lock (_gate)
        {
            if (All("key-pair", call.Region).Any(k => Field(k, "name") == name)) throw new Ec2Fault("InvalidKeyPair.Duplicate", $"The keypair already exists");
            var key = Tagged(Add(new AwsResource { Kind = "key-pair", Id = NewId("key"), Region = call.Region }), tags);
            key.Fields["name"] = name;
            key.Fields["type"] = parts[0] == "ssh-rsa" ? "rsa" : "ed25519";
            key.Fields["fingerprint"] = "SHA256:" + Convert.ToBase64String(SHA256.HashData(blob)).TrimEnd('=');
            key.Fields["material"] = material;
            return Xml(call, $"<keyFingerprint>{Field(key, "fingerprint")}</keyFingerprint><keyName>{X(name)}</keyName><keyPairId>{key.Id}</keyPairId>{TagSet(key)}");
        }
    }

    private Task DescribeKeyPairsAsync(AwsCall call)
    {
        List<AwsResource> keys;
        lock (_gate) keys = All("key-pair", call.Region).ToList();
        foreach (var id in call.List("KeyPairId"))
            if (keys.All(k => k.Id != id)) throw new Ec2Fault("InvalidKeyPair.NotFound", $"The key pair '{id}' does not exist");
        foreach (var name in call.List("KeyName"))
            if (keys.All(k => Field(k, "name") != name)) throw new Ec2Fault("InvalidKeyPair.NotFound", $"The key pair '{name}' does not exist");
        if (call.List("KeyPairId") is { Count: > 0 } ids) keys = keys.Where(k => ids.Contains(k.Id)).ToList();
        if (call.List("KeyName") is { Count: > 0 } names) keys = keys.Where(k => names.Contains(Field(k, "name"))).ToList();
        var found = Filtered(call, keys, new() { ["key-name"] = r => [Field(r, "name")], ["key-pair-id"] = r => [r.Id] });
        return Xml(call, "<keySet>" + string.Concat(found.Select(k =>
            $"<item><keyPairId>{k.Id}</keyPairId><keyFingerprint>{Field(k, "fingerprint")}</keyFingerprint><keyName>{X(Field(k, "name"))}</keyName><keyType>{Field(k, "type")}</keyType>{TagSet(k)}</item>")) + "</keySet>");
    }

    private Task DeleteKeyPairAsync(AwsCall call)
    {
        var id = call.Param("KeyPairId");
        var name = call.Param("KeyName");
        if (id is null && name is null) throw new Ec2Fault("MissingParameter", "The request must contain the parameter KeyName or KeyPairId");
        lock (_gate)
            foreach (var key in All("key-pair", call.Region).Where(k => k.Id == id || (name is not null && Field(k, "name") == name)).ToList())
                Remove(key.Id);
        return Xml(call, $"<return>true</return>{(id is null ? "" : $"<keyPairId>{id}</keyPairId>")}");
    }
}
