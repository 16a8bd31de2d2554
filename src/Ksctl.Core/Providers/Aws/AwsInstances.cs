using System.Security.Cryptography;
using System.Text;
using Amazon.EC2;
using Amazon.EC2.Model;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Distributions;
using Ksctl.Core.Model;
using Ksctl.Core.Providers.CloudMachines;
using Ksctl.Core.Remote;
using Microsoft.Extensions.Logging;
using K = Ksctl.Core.Providers.Aws.AwsNames.Keys;

namespace Ksctl.Core.Providers.Aws;

/// <summary>
/// One EC2 instance per node: Ubuntu 24.04 (the AMI from Canonical's SSM parameter), the role's security group, a
/// public address (the network interface's AssociatePublicIpAddress), IMDSv2 required (HttpTokens=required), an
/// encrypted 30 GB gp3 root volume deleted with the instance, and cloud-init user data that installs the host key
/// Ksctl generated (pinned from the first SSH connection). RunInstances carries a client token kept in state, so a
/// lost answer or a resumed create never starts a second instance (EC2 API reference, "Ensure idempotency in Amazon
/// EC2 API requests": the same token returns the same instance).
/// </summary>
internal static class AwsInstances
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(10);
    public static readonly TimeSpan TerminateTimeout = TimeSpan.FromMinutes(10);
    private static readonly string[] Live = ["pending", "running"];

    public static async Task CreateAsync(AwsEc2 ec2, ClusterSpec spec, TopologyNode node, MachineAccess access, CancellationToken ct)
    {
        var ctx = ec2.Ctx;
        var id = spec.Id;
        var name = AwsNames.Instance(id.Name, node.Key);
        var size = AwsHaSpec.SizeOf(spec, node.Role);
        // Keys are saved in state before any request: a resumed create sends the same user data (and the same token).
        var login = await CloudMachineKeys.LoginKeyAsync(ctx, ct).ConfigureAwait(false);
        var hostKey = await CloudMachineKeys.HostKeyAsync(ctx, node.Key, ct).ConfigureAwait(false);
        var subnet = AwsNames.CheckId(ec2.Recorded(K.Subnet), "subnet", "subnet");
        var group = AwsNames.CheckId(ec2.Recorded(K.SecurityGroup(node.Role)), "sg", "security group");
        var image = AwsNames.CheckId(ec2.Recorded(K.Image(AwsHaSpec.Architecture(size))), "ami", "AMI");
        var key = K.Instance(node.Key);

        var instance = await LiveAsync(ec2, node.Key, ct).ConfigureAwait(false);
        if (instance is null)
        {
            var token = ec2.Recorded(K.ClientToken(node.Key));
            if (token is null)
            {
                token = $"{id.Name}-{node.Key}-{RandomNumberGenerator.GetHexString(12, lowercase: true)}";
                await ec2.RecordAsync(K.ClientToken(node.Key), token).ConfigureAwait(false);
            }
            var userData = MachineUserData.CloudConfig(hostKey, AwsNames.User, login.PublicKey);
            ec2.Provider.Logger.LogInformation("Creating EC2 instance {Instance} ({Size}); host key {Fingerprint} is installed by cloud-init.", name, size, hostKey.Fingerprint);
            var run = await ec2.CallAsync("RunInstances", c => ec2.Clients.Ec2.RunInstancesAsync(new RunInstancesRequest
            {
                ClientToken = token,
                ImageId = image,
                InstanceType = InstanceType.FindValue(size),
                MinCount = 1,
                MaxCount = 1,
                KeyName = AwsNames.KeyPair(id.Name),
                UserData = Convert.ToBase64String(Encoding.UTF8.GetBytes(userData)),
                MetadataOptions = new InstanceMetadataOptionsRequest { HttpTokens = HttpTokensState.Required, HttpEndpoint = InstanceMetadataEndpointState.Enabled },
                BlockDeviceMappings =
                [
                    new BlockDeviceMapping
                    {
                        DeviceName = "/dev/sda1",
                        Ebs = new EbsBlockDevice { VolumeSize = 30, VolumeType = VolumeType.Gp3, Encrypted = true, DeleteOnTermination = true },
                    },
                ],
                NetworkInterfaces =
                [
                    new InstanceNetworkInterfaceSpecification
                    {
                        DeviceIndex = 0, SubnetId = subnet, Groups = [group], AssociatePublicIpAddress = true, DeleteOnTermination = true,
                    },
                ],
                TagSpecifications =
                [
                    AwsNames.TagSpec("instance", id, key, name),
                    AwsNames.TagSpec("volume", id, key, name),
                ],
            }, c), ct).ConfigureAwait(false);
            instance = run.Reservation?.Instances?.SingleOrDefault()
                ?? throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult, $"AWS EC2 RunInstances for {name} answered without an instance.", name);
            if (instance.State?.Name?.Value is "terminated" or "shutting-down")
            {
                // The token's instance is gone (a resize removed it earlier): the next attempt gets a new token.
                ec2.Forget(K.ClientToken(node.Key));
                throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult, $"AWS EC2 instance {instance.InstanceId} for {name} is {instance.State.Name.Value}; re-run to create a new one.", name);
            }
            await ec2.RecordAsync(key, AwsNames.CheckId(instance.InstanceId, "i", "instance")).ConfigureAwait(false);
        }

        var running = await WaitRunningAsync(ec2, instance.InstanceId, name, ct).ConfigureAwait(false);
        var privateIp = Address(running.PrivateIpAddress, "private", name);
        var publicIp = Address(running.PublicIpAddress, "public", name);
        ctx.Mutate(s =>
        {
            s.Nodes.RemoveAll(n => n.Key == node.Key);
            s.Nodes.Add(new NodeState
            {
                Key = node.Key, Name = name, Role = node.Role, Index = node.Index, Size = size,
                PublicIP = publicIp, PrivateIP = privateIp, ResourceId = running.InstanceId, HostKey = hostKey.Fingerprint,
                SshUser = AwsNames.User, SshPort = 22,
            });
        });
        await ctx.Session.CheckpointAsync().ConfigureAwait(false);

        // Reachable with the pinned key (waits for the boot within the connect deadline); its hostname is its Node name.
        var shell = await access.ShellAsync(ctx, node.Key, ct).ConfigureAwait(false);
        var facts = await shell.RunAsync(new RemoteScript("machine:facts", "hostname\n", retries: 1), ct).ConfigureAwait(false);
        var hostname = facts.StandardOutput.Trim();
        if (hostname.Length > 0) ctx.Mutate(s => { if (s.Nodes.FirstOrDefault(n => n.Key == node.Key) is { } n) n.Hostname = hostname; });
    }

    /// <summary>The node's pending or running instance: the recorded one, else one its tags find (a lost answer); null if none.</summary>
    private static async Task<Instance?> LiveAsync(AwsEc2 ec2, string nodeKey, CancellationToken ct)
    {
        var key = K.Instance(nodeKey);
        if (ec2.Recorded(key) is { } recorded)
        {
            var id = AwsNames.CheckId(recorded, "i", "instance");
            var found = await DescribeAsync(ec2, id, ct).ConfigureAwait(false);
            if (found is not null && !AwsNames.Owned(found.Tags, ec2.Id)) throw ec2.NotOwned("instance", id);
            if (found?.State?.Name?.Value is { } state && Live.Contains(state)) return found;
            ec2.Forget(key);
            ec2.Forget(K.ClientToken(nodeKey));
        }
        var tagged = await ByTagAsync(ec2, nodeKey, ct).ConfigureAwait(false);
        if (tagged is not null) await ec2.RecordAsync(key, AwsNames.CheckId(tagged.InstanceId, "i", "instance")).ConfigureAwait(false);
        return tagged;
    }

    public static async Task<Instance?> ByTagAsync(AwsEc2 ec2, string nodeKey, CancellationToken ct)
    {
        var filters = AwsNames.ByTag(ec2.Id, K.Instance(nodeKey));
        filters.Add(new Filter { Name = "instance-state-name", Values = [.. Live, "stopping", "stopped"] });
        var answer = await ec2.CallAsync("DescribeInstances", c => ec2.Clients.Ec2.DescribeInstancesAsync(new() { Filters = filters }, c), ct).ConfigureAwait(false);
        return answer.Reservations?.SelectMany(r => r.Instances ?? []).FirstOrDefault();
    }

    /// <summary>The instance, or null when EC2 does not know it (after the not-yet-visible retries).</summary>
    public static async Task<Instance?> DescribeAsync(AwsEc2 ec2, string id, CancellationToken ct)
    {
        try
        {
            var answer = await ec2.CallAsync("DescribeInstances", c => ec2.Clients.Ec2.DescribeInstancesAsync(new() { InstanceIds = [id] }, c), ct).ConfigureAwait(false);
            return answer.Reservations?.SelectMany(r => r.Instances ?? []).FirstOrDefault(i => i.InstanceId == id);
        }
        catch (KsctlException e) when (e.InnerException is Amazon.Runtime.AmazonServiceException s && s.ErrorCode == "InvalidInstanceID.NotFound")
        {
            return null;
        }
    }

    private static async Task<Instance> WaitRunningAsync(AwsEc2 ec2, string id, string name, CancellationToken ct)
    {
        var deadline = ec2.Provider.Time.GetUtcNow() + StartTimeout;
        while (true)
        {
            // Right after RunInstances the id may not be visible yet: DescribeAsync retries that before saying null.
            var instance = await DescribeAsync(ec2, id, ct).ConfigureAwait(false)
                ?? throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ObjectNotFound, $"AWS EC2 instance {id} ({name}) vanished while it started; re-run to create it again.", name);
            var state = instance.State?.Name?.Value;
            if (state == "running" && instance.PublicIpAddress is not null && instance.PrivateIpAddress is not null) return instance;
            if (state is "terminated" or "shutting-down" or "stopped" or "stopping")
                throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult,
                    $"AWS EC2 instance {id} ({name}) is {state}: {instance.StateReason?.Code} {instance.StateReason?.Message}".TrimEnd(), name);
            if (ec2.Provider.Time.GetUtcNow() > deadline)
                throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.OperationTimeout, $"AWS EC2 instance {id} ({name}) is still {state} after {StartTimeout.TotalMinutes:0} minutes; re-run to wait again.", name);
            await Task.Delay(ec2.Provider.Endpoints.PollInterval, ec2.Provider.Time, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Terminates the node's instance (recorded, or found by tag) and waits until it is terminated; forgets its id, token and host key.</summary>
    public static async Task TerminateAsync(AwsEc2 ec2, string nodeKey, CancellationToken ct)
    {
        var key = K.Instance(nodeKey);
        var ids = new List<string>();
        if (ec2.Recorded(key) is { } recorded) ids.Add(AwsNames.CheckId(recorded, "i", "instance"));
        if (await ByTagAsync(ec2, nodeKey, ct).ConfigureAwait(false) is { } tagged && !ids.Contains(tagged.InstanceId)) ids.Add(AwsNames.CheckId(tagged.InstanceId, "i", "instance"));
        foreach (var id in ids)
        {
            var instance = await DescribeAsync(ec2, id, ct).ConfigureAwait(false);
            if (instance is null || instance.State?.Name?.Value == "terminated") continue;
            if (!AwsNames.Owned(instance.Tags, ec2.Id)) throw ec2.NotOwned("instance", id);
            await ec2.TolerateAsync("TerminateInstances", c => ec2.Clients.Ec2.TerminateInstancesAsync(new() { InstanceIds = [id] }, c), ct, "InvalidInstanceID.NotFound").ConfigureAwait(false);
            var deadline = ec2.Provider.Time.GetUtcNow() + TerminateTimeout;
            while ((await DescribeAsync(ec2, id, ct).ConfigureAwait(false))?.State?.Name?.Value is { } state && state != "terminated")
            {
                if (ec2.Provider.Time.GetUtcNow() > deadline)
                    throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.OperationTimeout, $"AWS EC2 instance {id} is still {state} after {TerminateTimeout.TotalMinutes:0} minutes; re-run to wait again.", id);
                await Task.Delay(ec2.Provider.Endpoints.PollInterval, ec2.Provider.Time, ct).ConfigureAwait(false);
            }
            ec2.Provider.Logger.LogInformation("AWS EC2 instance {Instance} terminated.", id);
        }
        ec2.Ctx.Mutate(s =>
        {
            s.Resources.Remove(key);
            s.Resources.Remove(K.ClientToken(nodeKey));
            // A re-created node is a new machine: it gets a new host key.
            CloudMachineKeys.ForgetHostKey(s, nodeKey);
        });
    }

    /// <summary>An address EC2 reports, recorded only when it parses as a plain IPv4 address in canonical form.</summary>
    internal static string Address(string? text, string which, string name)
    {
        if (string.IsNullOrEmpty(text))
            throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult, $"AWS reports no {which} address for instance {name}; re-run to look again.", name);
        if (!System.Net.IPAddress.TryParse(text, out var ip) || ip.ToString() != text || ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
            throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult,
                $"AWS reports a {which} address for instance {name} that is not an IPv4 address ({text.Length} characters, not shown); it was not recorded.", name);
        return text;
    }
}
