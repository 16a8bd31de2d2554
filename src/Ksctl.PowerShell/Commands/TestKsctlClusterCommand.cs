using System.Management.Automation;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// Checks a cluster live and writes one object per check: the API's /readyz through its endpoint, each Node's Ready
/// condition, each etcd member's health, each load-balancer backend, the etcd certificates' expiry, and the machines
/// in state against the cloud's inventory. Read only. With -Quiet, writes one Boolean: whether every check passed.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "KsctlCluster", DefaultParameterSetName = NameSet)]
[OutputType(typeof(KsctlHealthCheck), typeof(bool))]
public sealed class TestKsctlClusterCommand : ClusterTargetCmdlet
{
    /// <summary>Write only $true when every check passed, else $false.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    protected override void ProcessRecord()
    {
        var state = ResolveTarget();
        if (state is null) return;
        var manager = GetManager();
        var id = state.Id;
        try
        {
            var results = Run(ct => manager.TestAsync(id, ct));
            if (Quiet)
            {
                WriteObject(results.All(r => r.Passed));
                return;
            }
            WriteObject(results.Select(r => new KsctlHealthCheck
            {
                Cluster = id.Name, Check = r.Check, Target = r.Target, Passed = r.Passed, Reason = r.Reason,
            }), enumerateCollection: true);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, id.Name);
        }
    }
}
