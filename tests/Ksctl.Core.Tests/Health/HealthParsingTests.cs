using Ksctl.Core.Health;
using Ksctl.Core.Model;
using Ksctl.Core.Providers;

namespace Ksctl.Core.Tests.Health;

/// <summary>What the machines and clouds answer is untrusted text: the health checks read only the fields they expect.</summary>
public sealed class HealthParsingTests
{
    private const string Header = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc";

    private static string Row(string px, string sv, string status, string check, string desc)
    {
        var columns = Header[2..].Split(',');
        var f = new string[columns.Length];
        Array.Fill(f, "");
        f[Array.IndexOf(columns, "pxname")] = px;
        f[Array.IndexOf(columns, "svname")] = sv;
        f[Array.IndexOf(columns, "status")] = status;
        f[Array.IndexOf(columns, "check_status")] = check;
        f[Array.IndexOf(columns, "check_desc")] = desc;
        return string.Join(',', f);
    }

    [Fact]
    public void HAProxy_stats_give_one_result_per_recorded_control_plane()
    {
        var csv = string.Join('\n', Header,
            Row("kubernetes-api", "FRONTEND", "OPEN", "", ""),
            Row("control-planes", "cp-0", "UP", "L7OK", "Layer7 check passed"),
            Row("control-planes", "cp-1", "DOWN", "L4CON", "Layer4 connection problem"),
            Row("control-planes", "BACKEND", "UP", "", ""),
            Row("other", "cp-2", "UP", "L7OK", ""));
        var results = MachineHealth.ParseStats(["cp-0", "cp-1", "cp-2"], csv);
        Assert.Equal([("cp-0", true), ("cp-1", false), ("cp-2", false)], results.Select(r => (r.Target, r.Passed)));
        Assert.Contains("DOWN: L4CON Layer4 connection problem", results[1].Reason);
        Assert.Contains("no server 'cp-2'", results[2].Reason);
        Assert.All(results, r => Assert.Equal(HealthChecks.LoadBalancerBackend, r.Check));
    }

    [Fact]
    public void No_stats_page_fails_every_backend_with_the_reason()
    {
        var results = MachineHealth.ParseStats(["cp-0"], "noanswer curl: (7) Failed to connect to 127.0.0.1 port 8404\n");
        Assert.Contains("older Ksctl", Assert.Single(results).Reason);
    }

    [Theory]
    [InlineData("answer {\"health\":\"true\",\"reason\":\"\"}", true, "etcd reports health true")]
    [InlineData("answer {\"health\":\"false\",\"reason\":\"RAFT NO LEADER\"}", false, "etcd reports health false: RAFT NO LEADER")]
    [InlineData("noanswer curl: (7) Failed to connect", false, "etcd does not answer")]
    [InlineData("answer <html>", false, "not JSON")]
    [InlineData("$(reboot)", false, "unexpected output")]
    public void Etcd_health_is_read_from_its_JSON_only(string output, bool passed, string reason)
    {
        var result = MachineHealth.ParseEtcd("db-0", output);
        Assert.Equal(passed, result.Passed);
        Assert.Contains(reason, result.Reason);
    }

    [Fact]
    public void Drift_reports_missing_stopped_and_unknown_machines()
    {
        var state = new ClusterState
        {
            Id = new ClusterId(CloudProvider.Civo, ClusterType.SelfManaged, "d", "LON1"),
            Spec = new ClusterSpec { Id = new ClusterId(CloudProvider.Civo, ClusterType.SelfManaged, "d", "LON1") },
            Nodes =
            [
                new NodeState { Name = "d-vm-lb", Key = "lb", Role = NodeRole.LoadBalancer, ResourceId = "i-1" },
                new NodeState { Name = "d-vm-wp-0", Key = "wp-0", Role = NodeRole.Worker, ResourceId = "i-2" },
                new NodeState { Name = "d-vm-wp-1", Key = "wp-1", Role = NodeRole.Worker, ResourceId = "i-3" },
            ],
        };
        var results = InventoryDrift.Compare(state, [new LiveMachine("d-vm-lb", "i-1", "ACTIVE"), new LiveMachine("d-vm-wp-0", "i-2", "SHUTOFF"), new LiveMachine("d-vm-wp-7", "i-9", "ACTIVE")]);
        Assert.Equal([("lb", true), ("wp-0", false), ("wp-1", false), ("d-vm-wp-7", false)], results.Select(r => (r.Target, r.Passed)));
        Assert.Contains("exists but is SHUTOFF", results[1].Reason);
        Assert.Contains("Civo no longer has it", results[2].Reason);
        Assert.Contains("which the state does not record", results[3].Reason);
    }
}
