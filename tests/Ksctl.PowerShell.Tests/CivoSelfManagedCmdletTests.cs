using Xunit;

namespace Ksctl.PowerShell.Tests;

/// <summary>Civo HA clusters through the cmdlets: the plan under -WhatIf needs no key and writes nothing; bad specs are refused first.</summary>
[Collection(PowerShellCollection.Name)]
public sealed class CivoSelfManagedCmdletTests
{
    [Fact]
    public void Civo_HA_WhatIf_shows_network_firewalls_key_instances_and_the_bootstrap_without_a_key()
    {
        var saved = Environment.GetEnvironmentVariable("CIVO_TOKEN");
        Environment.SetEnvironmentVariable("CIVO_TOKEN", null);
        try
        {
            using var session = new KsctlSession();
            var result = session.RunClean("New-KsctlCluster -Name prod -Provider Civo -Type SelfManaged -WorkerCount 2 -WorkerSize g3.large -WhatIf");
            Assert.Empty(result.Output);
            var text = result.HostText;
            foreach (var expected in new[] { "civo network prod-lon1-net", "civo ssh key prod-lon1-ssh", "civo firewall prod-lon1-fw-lb", "civo firewall prod-lon1-fw-wp",
                         "civo instance prod-vm-lb (g3.small", "civo instance prod-vm-cp-2 (g3.medium", "civo instance prod-vm-wp-1 (g3.large", "k3s:cp-0", "context prod-LON1-selfmanaged-civo-ksctl" })
                Assert.Contains(expected, text);
            Assert.True(text.IndexOf("civo:network", StringComparison.Ordinal) < text.IndexOf("machine:lb", StringComparison.Ordinal));
            Assert.Empty(session.StateFiles());
        }
        finally
        {
            Environment.SetEnvironmentVariable("CIVO_TOKEN", saved);
        }
    }

    [Theory]
    [InlineData("-EtcdCount 4", "EtcdCount")]
    [InlineData("-NodeSize g4s.kube.small", "NodeSize")]
    [InlineData("-LoadBalancerSize g4s.kube.small", "LoadBalancerSize")]
    public void Civo_HA_specs_are_validated_before_anything(string extra, string parameter)
    {
        using var session = new KsctlSession();
        var result = session.Run($"New-KsctlCluster -Name prod -Provider Civo -Type SelfManaged {extra} -WhatIf");
        var error = Assert.Single(result.Errors);
        Assert.Equal("KsctlInvalidSpec", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains(parameter, error.Exception.Message);
        Assert.Empty(session.StateFiles());
    }
}
