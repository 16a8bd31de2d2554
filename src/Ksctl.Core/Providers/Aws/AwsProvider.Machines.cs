using Ksctl.Core.Distributions;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Providers.CloudMachines;
using Ksctl.Core.Remote;
using K = Ksctl.Core.Providers.Aws.AwsNames.Keys;

namespace Ksctl.Core.Providers.Aws;

/// <summary>
/// Self-managed HA clusters on EC2: a VPC with one public subnet, internet gateway and route table, one security group
/// per role, the login key imported as a key pair, and one Ubuntu 24.04 instance per node (user ubuntu), all created
/// in parallel once the network exists; then the distribution's bootstrap runs unchanged over SSH with pinned host keys.
/// Deletion is the reverse (AwsProvider.MachineDeletion.cs).
/// </summary>
internal sealed partial class AwsProvider : ISelfManagedProvider
{
    internal static readonly NodeRole[] Roles = [NodeRole.LoadBalancer, NodeRole.Datastore, NodeRole.ControlPlane, NodeRole.Worker];

    public bool KeepsMachines => false;

    public RemoteMachine Connection(ClusterState state, NodeState node) => CloudMachineKeys.Connection(state, node);

    partial void PrepareSelfManaged(ClusterSpec spec, ref ClusterSpec? prepared) => prepared = AwsHaSpec.Prepare(spec, Descriptor);

    /// <summary>Runs one step's EC2 work with its own clients (disposed when the step ends).</summary>
    private async Task Ec2Async(StepContext ctx, CancellationToken ct, Func<AwsEc2, Task> work)
    {
        using var ec2 = await AwsEc2.OpenAsync(this, ctx, ct).ConfigureAwait(false);
        await work(ec2).ConfigureAwait(false);
    }

    public IReadOnlyList<PlanStep> MachineSteps(ClusterSpec spec, SelfManagedTopology topology, MachineAccess access)
    {
        var id = spec.Id;
        var name = id.Name;
        var where = $"in {id.Region}, tagged {AwsNames.ClusterTag}={name}";
        var architectures = topology.All.Select(n => AwsHaSpec.Architecture(AwsHaSpec.SizeOf(spec, n.Role))).Distinct().Order().ToList();
        var steps = new List<PlanStep>
        {
            new(K.Vpc, (ctx, ct) => Ec2Async(ctx, ct, e => AwsNetwork.VpcAsync(e, ct)))
            {
                Description = $"create VPC {AwsNames.Vpc(name)} ({AwsNames.VpcCidr})",
                Resources = [$"VPC {AwsNames.Vpc(name)} {AwsNames.VpcCidr} {where}"],
            },
            new(K.Subnet, (ctx, ct) => Ec2Async(ctx, ct, e => AwsNetwork.SubnetAsync(e, ct)))
            {
                DependsOn = [K.Vpc],
                Description = $"create subnet {AwsNames.Subnet(name)} ({AwsNames.SubnetCidr})",
                Resources = [$"subnet {AwsNames.Subnet(name)} {AwsNames.SubnetCidr}"],
            },
            new(K.Gateway, (ctx, ct) => Ec2Async(ctx, ct, e => AwsNetwork.GatewayAsync(e, ct)))
            {
                DependsOn = [K.Vpc],
                Description = $"create internet gateway {AwsNames.Gateway(name)} and attach it to the VPC",
                Resources = [$"internet gateway {AwsNames.Gateway(name)}, attached to {AwsNames.Vpc(name)}"],
            },
            new(K.RouteTable, (ctx, ct) => Ec2Async(ctx, ct, e => AwsNetwork.RoutesAsync(e, ct)))
            {
                DependsOn = [K.Subnet, K.Gateway],
                Description = $"create route table {AwsNames.RouteTable(name)} (0.0.0.0/0 to the internet gateway) for the subnet",
                Resources = [$"route table {AwsNames.RouteTable(name)}: 0.0.0.0/0 -> {AwsNames.Gateway(name)}, associated with {AwsNames.Subnet(name)}"],
            },
            new(K.KeyPair, (ctx, ct) => Ec2Async(ctx, ct, async e =>
            {
                var login = await CloudMachineKeys.LoginKeyAsync(ctx, ct).ConfigureAwait(false);
                await AwsNetwork.KeyPairAsync(e, login.PublicKey, ct).ConfigureAwait(false);
            }))
            {
                Description = $"import the generated login key as key pair {AwsNames.KeyPair(name)}",
                Resources = [$"key pair {AwsNames.KeyPair(name)} (the login key Ksctl generates)"],
            },
            new("aws:image", (ctx, ct) => Ec2Async(ctx, ct, async e =>
            {
                foreach (var architecture in architectures) await AwsNetwork.ImageAsync(e, architecture, ct).ConfigureAwait(false);
            }))
            {
                Description = "look up Canonical's Ubuntu 24.04 AMI in the region (public SSM parameter)",
                Resources = architectures.Select(a => $"AMI: /aws/service/canonical/ubuntu/server/24.04/stable/current/{a}/hvm/ebs-gp3/ami-id (read only)").ToList(),
            },
        };
        // All four groups exist even with no workers, so that a later resize only adds instances.
        foreach (var role in Roles)
            steps.Add(new PlanStep(K.SecurityGroup(role), (ctx, ct) => Ec2Async(ctx, ct, e => AwsSecurityGroups.EnsureAsync(e, role, ct)))
            {
                DependsOn = [K.Vpc],
                Description = $"create security group {AwsNames.SecurityGroup(name, role)} for the {role} machines",
                Resources = [$"security group {AwsNames.SecurityGroup(name, role)}: inbound {string.Join(", ", AwsSecurityGroups.RulesFor(role))}"],
            });
        foreach (var node in topology.All)
        {
            var instance = AwsNames.Instance(name, node.Key);
            var size = AwsHaSpec.SizeOf(spec, node.Role);
            steps.Add(new PlanStep(node.MachineStep, (ctx, ct) => Ec2Async(ctx, ct, e => AwsInstances.CreateAsync(e, spec, node, access, ct)))
            {
                DependsOn = [K.RouteTable, K.SecurityGroup(node.Role), K.KeyPair, "aws:image"],
                Description = $"create EC2 instance {instance} ({size}, Ubuntu 24.04, user {AwsNames.User}); its generated host key is installed by cloud-init and pinned",
                Resources =
                [
                    $"EC2 instance {instance}: {size}, Ubuntu 24.04 LTS ({AwsHaSpec.Architecture(size)}), public IPv4, IMDSv2 required, security group {AwsNames.SecurityGroup(name, node.Role)}",
                    $"EBS volume of {instance}: 30 GB gp3, encrypted, deleted with the instance",
                ],
            });
        }
        return steps;
    }
}
