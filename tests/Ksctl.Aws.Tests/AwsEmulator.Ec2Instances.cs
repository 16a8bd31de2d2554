using System.Text;
using System.Text.RegularExpressions;

namespace Ksctl.Aws.Tests;

/// <summary>What a test machine needs to play an instance's boot: its name, decoded user data, private address and rules.</summary>
public sealed record InstanceBoot(string Name, string UserData, string PrivateIp, string SubnetCidr, string VpcCidr, IReadOnlyList<AwsEmulator.Permission> Ingress);

/// <summary>
/// Instances. RunInstances (EC2 API reference): ImageId must exist in the region (InvalidAMIID.NotFound) and match the
/// instance type's architecture; MinCount and MaxCount required; KeyName must exist (InvalidKeyPair.NotFound);
/// network interfaces exclude an instance-level SubnetId/SecurityGroupId (InvalidParameterCombination); the groups must
/// be in the subnet's VPC; UserData is base64 and at most 16 KB; MetadataOptions.HttpTokens optional|required;
/// ClientToken at most 64 ASCII characters, and the same token returns the same instance (with other parameters:
/// IdempotentParameterMismatch). States (the instance lifecycle page): pending (0) → running (16) once the machine
/// booted, shutting-down (32) → terminated (48) after <see cref="TerminatingDescribes"/> looks; a terminated instance
/// stays visible to DescribeInstances, outside the inventory. Right after RunInstances an instance is not visible to
/// DescribeInstances for <see cref="InstanceVisibilityLag"/> calls (InvalidInstanceID.NotFound), as EC2 documents.
/// </summary>
public sealed partial class AwsEmulator
{
    private readonly Dictionary<string, (string Instance, string Request)> _tokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _invisible = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _terminating = new(StringComparer.Ordinal);
    private int _publicCounter = 10;
    private static readonly Regex TypeName = new(@"^[a-z]{1,4}\d[a-z0-9]{0,8}(-flex)?\.(nano|micro|small|medium|large|metal|\d{0,2}xlarge)$", RegexOptions.CultureInvariant);

    /// <summary>Boots an instance on a test machine → (public address it answers SSH on, private address it has).</summary>
    public Func<InstanceBoot, (string PublicIp, string PrivateIp)>? InstanceBooter { get; set; }
    public Action<string>? InstanceReleaser { get; set; }
    /// <summary>Called when RunInstances is accepted (instance name): lets a test cancel mid-create.</summary>
    public Action<string>? OnRunInstances { get; set; }
    public int InstanceVisibilityLag { get; set; } = 1;
    /// <summary>Instance types the region has no capacity for now: RunInstances answers 500 InsufficientInstanceCapacity.</summary>
    public HashSet<string> CapacityShortage { get; } = new(StringComparer.Ordinal);
    public int TerminatingDescribes { get; set; } = 2;
    /// <summary>
    /// How many DeleteSecurityGroup calls still answer DependencyViolation after the last instance using the group
    /// terminated (its network interface is released a moment later, as on EC2).
    /// </summary>
    public int GroupReleaseLag { get; set; } = 1;
    private readonly Dictionary<string, int> _groupLag = new(StringComparer.Ordinal);

    private static string State(AwsResource i) => Field(i, "state");
    private static int Code(string state) => state switch { "pending" => 0, "running" => 16, "shutting-down" => 32, "terminated" => 48, "stopping" => 64, _ => 80 };

    private Task RunInstancesAsync(AwsCall call)
    {
        var request = string.Join('&', call.Parameters.Where(p => p.Key is not ("ClientToken" or "Action" or "Version")).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
        var token = call.Param("ClientToken");
        if (token is not null && (token.Length > 64 || token.Any(c => c > 127)))
            throw new Ec2Fault("InvalidParameterValue", "Value for parameter ClientToken is invalid: at most 64 ASCII characters.");
        lock (_gate)
        {
            if (token is not null && _tokens.TryGetValue(token, out var earlier))
            {
                if (earlier.Request != request) throw new Ec2Fault("IdempotentParameterMismatch", "The client token you have provided is associated with a resource that is already deleted or was created with different parameters. Please use a different client token.");
                return Xml(call, ReservationXml(_resources[earlier.Instance]));
            }
        }
        if (!int.TryParse(Required(call, "MinCount"), out var min) || !int.TryParse(Required(call, "MaxCount"), out var max) || min < 1 || max < min)
            throw new Ec2Fault("InvalidParameterValue", "MinCount and MaxCount must be at least 1, with MinCount <= MaxCount.");
        if (max != 1) throw new Ec2Fault("InvalidParameterValue", "This emulator launches one instance per request (Ksctl asks for one).");
        var image = Required(call, "ImageId");
        var arch = Parameters.Where(p => p.Key.Region == call.Region && p.Value == image).Select(p => p.Key.Name.Contains("/arm64/") ? "arm64" : "amd64").FirstOrDefault()
            ?? throw new Ec2Fault("InvalidAMIID.NotFound", $"The image id '[{image}]' does not exist");
        var type = call.Param("InstanceType") ?? "m1.small";
        if (!TypeName.IsMatch(type)) throw new Ec2Fault("InvalidParameterValue", $"Invalid value '{type}' for InstanceType.");
        var typeArch = Regex.IsMatch(type.Split('.')[0], @"\d[a-z]*g") ? "arm64" : "amd64";
        if (typeArch != arch)
            throw new Ec2Fault("InvalidParameterValue", $"The architecture '{(typeArch == "arm64" ? "arm64" : "x86_64")}' of the specified instance type does not match the architecture '{(arch == "arm64" ? "arm64" : "x86_64")}' of the specified AMI.");
        if (CapacityShortage.Contains(type))
            throw new Ec2Fault("InsufficientInstanceCapacity",
                $"We currently do not have sufficient {type} capacity in the Availability Zone you requested ({call.Region}a). Our system will be working on provisioning additional capacity. You can currently get {type} capacity by not specifying an Availability Zone in your request or choosing {call.Region}b, {call.Region}c.", 500);
        var keyName = call.Param("KeyName");
        lock (_gate)
            if (keyName is not null && All("key-pair", call.Region).All(k => Field(k, "name") != keyName))
                throw new Ec2Fault("InvalidKeyPair.NotFound", $"The key pair '{keyName}' does not exist");
        var nic = call.Structures("NetworkInterface").FirstOrDefault();
        if (nic is not null && (call.Param("SubnetId") is not null || call.List("SecurityGroupId").Count > 0))
            throw new Ec2Fault("InvalidParameterCombination", "Network interfaces and an instance-level subnet ID may not be specified on the same request");
        var subnetId = nic?.GetValueOrDefault("SubnetId") ?? call.Param("SubnetId") ?? throw new Ec2Fault("MissingInput", "No subnets found for the default VPC. Please specify a subnet.");
        var subnet = Existing(call, "subnet", subnetId, "InvalidSubnetID.NotFound", "subnet");
        var groups = nic is null ? call.List("SecurityGroupId") : nic.Where(p => p.Key.StartsWith("SecurityGroupId.", StringComparison.Ordinal)).Select(p => p.Value).ToList();
        if (groups.Count != 1) throw new Ec2Fault("InvalidParameterValue", "Ksctl gives each instance exactly one security group; got " + groups.Count);
        var group = Existing(call, "security-group", groups[0], "InvalidGroup.NotFound", "security group");
        if (Field(group, "vpc") != Field(subnet, "vpc"))
            throw new Ec2Fault("InvalidParameter", $"Security group {group.Id} and subnet {subnet.Id} belong to different networks.");
        var userData = call.Param("UserData") is { } encoded ? Decode(encoded) : "";
        if (Encoding.UTF8.GetByteCount(userData) > 16384) throw new Ec2Fault("InvalidParameterValue", "User data is limited to 16384 bytes");
        if (call.Param("MetadataOptions.HttpTokens") is { } tokens && tokens is not ("optional" or "required"))
            throw new Ec2Fault("InvalidParameterValue", $"Invalid value '{tokens}' for HttpTokens.");
        foreach (var bdm in call.Structures("BlockDeviceMapping"))
            if (bdm.GetValueOrDefault("Ebs.VolumeType") is { } vt && vt is not ("gp2" or "gp3" or "io1" or "io2" or "st1" or "sc1" or "standard"))
                throw new Ec2Fault("InvalidParameterValue", $"Invalid value '{vt}' for volumeType.");
        var tags = TagsFor(call, "instance");
        var volumeTags = call.Structures("TagSpecification").Any(s => s.GetValueOrDefault("ResourceType") == "volume");

        AwsResource instance;
        lock (_gate)
        {
            instance = Tagged(Add(new AwsResource { Kind = "instance", Id = NewId("i"), Region = call.Region }), tags);
            var next = (uint)subnet.Fields["next"]!;
            subnet.Fields["next"] = next + 1;
            instance.Fields["state"] = "pending";
            instance.Fields["private"] = Address(next);
            instance.Fields["type"] = type;
            instance.Fields["image"] = image;
            instance.Fields["key"] = keyName;
            instance.Fields["subnet"] = subnet.Id;
            instance.Fields["vpc"] = Field(subnet, "vpc");
            instance.Fields["group"] = group.Id;
            instance.Fields["userData"] = userData;
            instance.Fields["httpTokens"] = call.Param("MetadataOptions.HttpTokens") ?? "optional";
            instance.Fields["associatePublic"] = nic?.GetValueOrDefault("AssociatePublicIpAddress") == "true";
            instance.Fields["volume"] = call.Structures("BlockDeviceMapping").FirstOrDefault();
            instance.Fields["volumeTagged"] = volumeTags;
            instance.Fields["reservation"] = NewId("r");
            if (token is not null) _tokens[token] = (instance.Id, request);
            _invisible[instance.Id] = InstanceVisibilityLag;
        }
        OnRunInstances?.Invoke(tags.GetValueOrDefault("Name") ?? instance.Id);
        Boot(instance, subnet, group);
        return Xml(call, ReservationXml(instance));
    }

    private void Boot(AwsResource instance, AwsResource subnet, AwsResource group)
    {
        var name = instance.Tags.GetValueOrDefault("Name") ?? instance.Id;
        var vpc = _resources[Field(subnet, "vpc")];
        var boot = new InstanceBoot(name, Field(instance, "userData"), Field(instance, "private"), Field(subnet, "cidr"), Field(vpc, "cidr"), Ingress(group.Id));
        _ = Task.Run(() =>
        {
            (string PublicIp, string PrivateIp) addresses;
            try
            {
                addresses = InstanceBooter?.Invoke(boot) ?? ($"198.51.100.{Interlocked.Increment(ref _publicCounter)}", boot.PrivateIp);
            }
            catch (Exception e)
            {
                lock (_gate) { instance.Fields["state"] = "terminated"; instance.Fields["reason"] = "Server.InternalError: " + e.Message; instance.Gone = true; }
                return;
            }
            lock (_gate)
            {
                if (State(instance) != "pending") return;
                instance.Fields["private"] = addresses.PrivateIp;
                if ((bool)instance.Fields["associatePublic"]!) instance.Fields["public"] = addresses.PublicIp;
                instance.Fields["state"] = "running";
            }
        });
    }

    private static string Decode(string base64)
    {
        try { return Encoding.UTF8.GetString(Convert.FromBase64String(base64)); }
        catch (FormatException) { throw new Ec2Fault("InvalidParameterValue", "Invalid BASE64 encoding of user data."); }
    }

    private string ReservationXml(AwsResource i) =>
        $"<reservationId>{Field(i, "reservation")}</reservationId><ownerId>{i.Owner}</ownerId><groupSet/><instancesSet><item>{InstanceXml(i)}</item></instancesSet>";

    private string InstanceXml(AwsResource i)
    {
        lock (_gate)
        {
            var state = State(i);
            var group = _resources.GetValueOrDefault(Field(i, "group"));
            return $"<instanceId>{i.Id}</instanceId><imageId>{Field(i, "image")}</imageId><instanceState><code>{Code(state)}</code><name>{state}</name></instanceState>"
                + $"<privateDnsName>ip-{Field(i, "private").Replace('.', '-')}.ec2.internal</privateDnsName><keyName>{X(Field(i, "key"))}</keyName><amiLaunchIndex>0</amiLaunchIndex>"
                + $"<instanceType>{Field(i, "type")}</instanceType><launchTime>{i.Created.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}</launchTime><placement><availabilityZone>{i.Region}a</availabilityZone><tenancy>default</tenancy></placement>"
                + (state == "terminated" ? "" : $"<subnetId>{Field(i, "subnet")}</subnetId><vpcId>{Field(i, "vpc")}</vpcId><privateIpAddress>{Field(i, "private")}</privateIpAddress>")
                + (state == "running" && Field(i, "public").Length > 0 ? $"<ipAddress>{Field(i, "public")}</ipAddress>" : "")
                + $"<groupSet><item><groupId>{Field(i, "group")}</groupId><groupName>{X(group is null ? "" : Field(group, "name"))}</groupName></item></groupSet>"
                + (Field(i, "reason") is { Length: > 0 } reason ? $"<stateReason><code>{X(reason.Split(':')[0])}</code><message>{X(reason)}</message></stateReason>" : "")
                + $"<architecture>{(Regex.IsMatch(Field(i, "type").Split('.')[0], @"\d[a-z]*g") ? "arm64" : "x86_64")}</architecture><rootDeviceType>ebs</rootDeviceType><rootDeviceName>/dev/sda1</rootDeviceName>"
                + $"<metadataOptions><state>applied</state><httpTokens>{Field(i, "httpTokens")}</httpTokens><httpEndpoint>enabled</httpEndpoint></metadataOptions>"
                + TagSet(i);
        }
    }

    private Task DescribeInstancesAsync(AwsCall call)
    {
        var ids = call.List("InstanceId");
        List<AwsResource> found;
        lock (_gate)
        {
            // Every instance of the region, terminated ones included (they stay visible for a while).
            var all = _resources.Values.Where(r => r.Kind == "instance" && r.Region == call.Region && !(_invisible.GetValueOrDefault(r.Id) > 0)).ToList();
            foreach (var id in ids)
            {
                if (_invisible.TryGetValue(id, out var lag) && lag > 0)
                {
                    _invisible[id] = lag - 1;
                    throw new Ec2Fault("InvalidInstanceID.NotFound", $"The instance ID '{id}' does not exist");
                }
                if (all.All(r => r.Id != id)) throw new Ec2Fault("InvalidInstanceID.NotFound", $"The instance ID '{id}' does not exist");
            }
            found = ids.Count == 0 ? all : all.Where(r => ids.Contains(r.Id)).ToList();
            foreach (var i in found.Where(i => State(i) == "shutting-down"))
                if ((_terminating[i.Id] = _terminating.GetValueOrDefault(i.Id) + 1) >= TerminatingDescribes)
                {
                    i.Fields["state"] = "terminated";
                    i.Fields.Remove("public");
                    i.Gone = true;
                    _groupLag[Field(i, "group")] = GroupReleaseLag;
                    InstanceReleaser?.Invoke(i.Tags.GetValueOrDefault("Name") ?? i.Id);
                }
        }
        found = Filtered(call, found, new()
        {
            ["instance-state-name"] = r => [State(r)], ["instance-id"] = r => [r.Id], ["vpc-id"] = r => [Field(r, "vpc")], ["subnet-id"] = r => [Field(r, "subnet")],
        }).ToList();
        return Xml(call, "<reservationSet>" + string.Concat(found.Select(i =>
            $"<item><reservationId>{Field(i, "reservation")}</reservationId><ownerId>{i.Owner}</ownerId><groupSet/><instancesSet><item>{InstanceXml(i)}</item></instancesSet></item>")) + "</reservationSet>");
    }

    private Task TerminateInstancesAsync(AwsCall call)
    {
        var ids = call.List("InstanceId");
        if (ids.Count == 0) throw new Ec2Fault("MissingParameter", "The request must contain the parameter InstanceId");
        var items = new StringBuilder();
        lock (_gate)
        {
            foreach (var id in ids)
                if (!_resources.TryGetValue(id, out var i) || i.Kind != "instance" || i.Region != call.Region)
                    throw new Ec2Fault("InvalidInstanceID.NotFound", $"The instance ID '{id}' does not exist");
            foreach (var id in ids)
            {
                var i = _resources[id];
                var before = State(i);
                if (before != "terminated") i.Fields["state"] = "shutting-down";
                items.Append($"<item><instanceId>{id}</instanceId><currentState><code>{Code(State(i))}</code><name>{State(i)}</name></currentState><previousState><code>{Code(before)}</code><name>{before}</name></previousState></item>");
            }
        }
        return Xml(call, $"<instancesSet>{items}</instancesSet>");
    }

    /// <summary>The instances of a region that are not terminated (what a test counts as machines).</summary>
    public IReadOnlyList<AwsResource> LiveInstances(string region) { lock (_gate) return All("instance", region).Where(i => State(i) != "terminated").ToList(); }
}
