using Amazon.EC2.Model;
using Ksctl.Core.Model;
using K = Ksctl.Core.Providers.Aws.AwsNames.Keys;

namespace Ksctl.Core.Providers.Aws;

/// <summary>
/// One security group per role (&lt;name&gt;-fw-{lb,db,cp,wp}), rules like Azure's NSGs. Security groups only allow
/// (EC2 User Guide, "Security group rules": no deny rules; inbound is closed unless a rule opens it; the group's
/// default outbound rule allows all). Every role: SSH (22) from anywhere (Ksctl connects from wherever it runs; logins
/// need the generated key) and all traffic from inside the VPC (etcd, the API behind HAProxy, kubelet, the CNI's
/// overlay), as Azure's AllowVnetInBound does; the load balancer: 6443 from anywhere; workers: NodePorts
/// 30000-32767 from anywhere. Nothing else reaches a machine from outside the VPC: etcd (2379-2380) is closed to the
/// internet.
/// </summary>
internal static class AwsSecurityGroups
{
    public sealed record Rule(string Protocol, int From, int To, string Cidr, string Why)
    {
        public override string ToString() => $"{(Protocol == "-1" ? "all traffic" : $"{Protocol.ToUpperInvariant()} {(From == To ? $"{From}" : $"{From}-{To}")}")} from {(Cidr == "0.0.0.0/0" ? "anywhere" : Cidr)} ({Why})";
    }

    public static IReadOnlyList<Rule> RulesFor(NodeRole role)
    {
        var rules = new List<Rule>
        {
            new("tcp", 22, 22, "0.0.0.0/0", "SSH from Ksctl"),
            new("-1", -1, -1, AwsNames.VpcCidr, "inside the VPC"),
        };
        if (role == NodeRole.LoadBalancer) rules.Add(new("tcp", 6443, 6443, "0.0.0.0/0", "Kubernetes API through HAProxy"));
        if (role == NodeRole.Worker) rules.Add(new("tcp", 30000, 32767, "0.0.0.0/0", "NodePort services"));
        return rules;
    }

    public static async Task<string> EnsureAsync(AwsEc2 ec2, NodeRole role, CancellationToken ct)
    {
        var vpc = AwsNames.CheckId(ec2.Recorded(K.Vpc), "vpc", "VPC");
        var key = K.SecurityGroup(role);
        var name = AwsNames.SecurityGroup(ec2.Id.Name, role);
        var group = await ec2.EnsureAsync(key, "sg", "security group",
            async (id, c) => (await DescribeAsync(ec2, id, c).ConfigureAwait(false))?.Tags,
            async c => (await ec2.CallAsync("DescribeSecurityGroups", x => ec2.Clients.Ec2.DescribeSecurityGroupsAsync(new() { Filters = AwsNames.ByTag(ec2.Id, key) }, x), c).ConfigureAwait(false))
                .SecurityGroups?.FirstOrDefault()?.GroupId,
            async c => (await ec2.CallAsync("CreateSecurityGroup", x => ec2.Clients.Ec2.CreateSecurityGroupAsync(new()
            {
                GroupName = name,
                Description = $"Ksctl {ec2.Id.Name}: {role} machines",
                VpcId = vpc,
                TagSpecifications = [AwsNames.TagSpec("security-group", ec2.Id, key, name)],
            }, x), c).ConfigureAwait(false)).GroupId, ct).ConfigureAwait(false);

        var existing = (await DescribeAsync(ec2, group, ct).ConfigureAwait(false))?.IpPermissions ?? [];
        foreach (var rule in RulesFor(role))
        {
            if (existing.Any(p => Same(p, rule))) continue;
            await ec2.TolerateAsync("AuthorizeSecurityGroupIngress", x => ec2.Clients.Ec2.AuthorizeSecurityGroupIngressAsync(new()
            {
                GroupId = group,
                IpPermissions =
                [
                    new IpPermission
                    {
                        IpProtocol = rule.Protocol,
                        FromPort = rule.Protocol == "-1" ? null : rule.From,
                        ToPort = rule.Protocol == "-1" ? null : rule.To,
                        Ipv4Ranges = [new IpRange { CidrIp = rule.Cidr, Description = rule.Why }],
                    },
                ],
            }, x), ct, "InvalidPermission.Duplicate").ConfigureAwait(false);
        }
        return group;
    }

    private static bool Same(IpPermission p, Rule rule) =>
        p.IpProtocol == rule.Protocol && (rule.Protocol == "-1" || (p.FromPort == rule.From && p.ToPort == rule.To))
        && p.Ipv4Ranges?.Any(r => r.CidrIp == rule.Cidr) == true;

    public static async Task<SecurityGroup?> DescribeAsync(AwsEc2 ec2, string id, CancellationToken ct)
    {
        try
        {
            return (await ec2.CallAsync("DescribeSecurityGroups", x => ec2.Clients.Ec2.DescribeSecurityGroupsAsync(new() { GroupIds = [id] }, x), ct, notFoundIsFinal: true).ConfigureAwait(false))
                .SecurityGroups?.FirstOrDefault();
        }
        catch (Diagnostics.KsctlException e) when (e.InnerException is Amazon.Runtime.AmazonServiceException s && AwsErrors.IsNotYetVisible(s))
        {
            return null;
        }
    }
}
