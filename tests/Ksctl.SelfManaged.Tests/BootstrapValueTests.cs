using Ksctl.Core.Diagnostics;
using Ksctl.Core.Distributions.Etcd;
using Ksctl.Core.Distributions.HAProxy;
using Ksctl.Core.Distributions.K3s;

namespace Ksctl.SelfManaged.Tests;

/// <summary>
/// Issue #12 item 3, for the K3s, etcd and HAProxy bootstrap: every value that reaches a unit, a script or the
/// HAProxy config comes from the state (addresses a provider or a user recorded) and goes through one validation
/// path, so a hostile value is KsctlInvalidSpec naming its source instead of a new flag, line or shell word.
/// </summary>
public sealed class BootstrapValueTests
{
    public static TheoryData<string> Hostile() => new()
    {
        "10.0.0.1;reboot", "10.0.0.1\nExecStartPre=/bin/sh -c id", "$(id)", "10.0.0.1 --token=stolen", "'10.0.0.1'",
        "10.0.0.1%n", "a\"b", "`id`", "", "10.0.0.1\\", "host_name.example",
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void A_hostile_load_balancer_address_never_reaches_a_k3s_unit(string value)
    {
        var error = Assert.Throws<InvalidSpecException>(() => K3sDistribution.ServerUnit(["https://10.0.0.2:2379"], value, "10.0.0.1", null, null));
        Assert.Equal("KsctlInvalidSpec", error.ErrorId);
        Assert.Contains("LoadBalancer", error.Parameter);
        Assert.Throws<InvalidSpecException>(() => K3sDistribution.ServerUnit(["https://10.0.0.2:2379"], "10.0.0.1", value, null, null));
    }

    [Theory]
    [MemberData(nameof(Hostile))]
    public void A_hostile_datastore_address_never_reaches_a_unit_or_script(string value)
    {
        Assert.Throws<InvalidSpecException>(() => K3sDistribution.ServerUnit([$"https://{value}:2379"], "10.0.0.1", "10.0.0.1", null, null));
        Assert.Throws<InvalidSpecException>(() => EtcdDatastore.Unit(0, value, [(0, value)], "demo-etcd"));
        Assert.Throws<InvalidSpecException>(() => EtcdDatastore.Unit(0, "10.0.0.2", [(0, "10.0.0.2"), (1, value)], "demo-etcd"));
        Assert.Throws<InvalidSpecException>(() => EtcdDatastore.HealthScript(["https://10.0.0.2:2379", $"https://{value}:2379"]));
    }

    [Theory]
    [MemberData(nameof(Hostile))]
    public void A_hostile_control_plane_address_never_reaches_the_haproxy_config(string value)
    {
        var error = Assert.Throws<InvalidSpecException>(() => HAProxyLoadBalancer.Config([("cp-0", "10.0.0.5"), ("cp-1", value)]));
        Assert.Contains("ControlPlane", error.Parameter);
    }

    [Fact]
    public void Valid_addresses_and_host_names_are_written_as_given()
    {
        var unit = K3sDistribution.ServerUnit(["https://10.0.0.2:2379", "https://db-1.lab.example:2379"], "lb.lab.example", "10.0.0.1", "https://10.0.0.1:6443", null);
        Assert.Contains("'--tls-san=lb.lab.example'", unit);
        Assert.Contains("'--datastore-endpoint=https://10.0.0.2:2379,https://db-1.lab.example:2379'", unit);
        Assert.Contains("server cp-0 fd00::5:6443 check".Replace("fd00::5", "[fd00::5]"), HAProxyLoadBalancer.Config([("cp-0", "fd00::5")]));
    }
}
