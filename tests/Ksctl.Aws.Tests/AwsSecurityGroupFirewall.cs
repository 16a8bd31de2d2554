using Ksctl.TestSupport;

namespace Ksctl.Aws.Tests;

/// <summary>
/// A security group's inbound rules as the test machine enforces them (nftables): security groups only allow (EC2 User
/// Guide, "Security group rules": there are no deny rules, inbound traffic no rule allows is dropped, responses to
/// allowed traffic are allowed — the harness's established-connection rule). Protocol -1 is every protocol on every
/// port; tcp/udp carry a port range. Anything this cannot translate throws: a rule silently skipped would make the
/// machine more open or more closed than the instance.
/// </summary>
public static class AwsSecurityGroupFirewall
{
    public static IReadOnlyList<FirewallRule> Inbound(IEnumerable<AwsEmulator.Permission> permissions) =>
        permissions.Select(p => p.Protocol switch
        {
            "-1" => FirewallRule.Allow("any", "*", p.Cidr == "0.0.0.0/0" ? "*" : p.Cidr),
            "tcp" or "udp" => FirewallRule.Allow(p.Protocol, p.From == p.To ? $"{p.From}" : $"{p.From}-{p.To}", p.Cidr == "0.0.0.0/0" ? "*" : p.Cidr),
            var other => throw new NotSupportedException($"security group protocol {other}"),
        }).ToList();
}
