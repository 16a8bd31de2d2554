using Ksctl.Core.Distributions.Etcd;
using Ksctl.Core.Distributions.K3s;

namespace Ksctl.SelfManaged.Tests;

/// <summary>
/// Issue #11 items 1 and 8 at the text level: the k3s and k3s-agent units carry every directive k3s's install.sh
/// writes (create_systemd_service_file), and etcd's unit survives a slow quorum. The systemctl stand-in enforces the
/// same on the machines (K3sConformanceTests).
/// </summary>
public sealed class UnitFileTests
{
    private static readonly string[] K3sDirectives =
    [
        "Wants=network-online.target", "After=network-online.target", "Type=notify", "KillMode=process", "Delegate=yes",
        "LimitNOFILE=1048576", "LimitNPROC=infinity", "LimitCORE=infinity", "TasksMax=infinity", "TimeoutStartSec=0",
        "Restart=always", "RestartSec=5s", "EnvironmentFile=-/etc/default/%N", "EnvironmentFile=-/etc/sysconfig/%N",
    ];

    [Fact]
    public void K3s_server_and_agent_units_are_written_as_the_upstream_installer_writes_them()
    {
        var server = K3sDistribution.ServerUnit(["https://10.0.0.2:2379"], "1.2.3.4", "10.0.0.1", null, null);
        var agent = K3sUnits.Agent("https://10.0.0.1:6443");
        foreach (var d in K3sDirectives)
        {
            Assert.Contains("\n" + d + "\n", server);
            Assert.Contains("\n" + d + "\n", agent);
        }
        Assert.Contains("EnvironmentFile=-/etc/systemd/system/k3s.service.env\n", server);
        Assert.Contains("EnvironmentFile=-/etc/systemd/system/k3s-agent.service.env\n", agent);
        Assert.Contains("ExecStart=/usr/local/bin/k3s \\\n    server \\\n", server);
        Assert.Contains("ExecStart=/usr/local/bin/k3s \\\n    agent \\\n", agent);
        // Servers share one agent token; agents get only the agent token file and no server flag.
        Assert.Contains("'--agent-token-file=/etc/ksctl/k3s-agent-token'", server);
        Assert.Contains("'--kube-apiserver-arg=anonymous-auth=true'", server);
        Assert.Contains("'--token-file=/etc/ksctl/k3s-token'", agent);
        Assert.DoesNotContain("agent-token", agent);
        Assert.DoesNotContain("datastore", agent);
    }

    [Fact]
    public void Etcd_unit_does_not_let_systemd_kill_a_member_waiting_for_its_quorum()
    {
        var unit = EtcdDatastore.Unit(0, "10.0.0.2", [(0, "10.0.0.2"), (1, "10.0.0.3"), (2, "10.0.0.4")], "demo-etcd");
        foreach (var d in new[] { "Type=notify", "TimeoutStartSec=0", "Restart=always", "RestartSec=5s", "Wants=network-online.target", "After=network-online.target" })
            Assert.Contains("\n" + d + "\n", unit);
        Assert.Contains("systemctl restart --no-block etcd", EtcdDatastore.StartScript());
    }
}
