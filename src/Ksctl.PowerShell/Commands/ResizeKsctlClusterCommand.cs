using System.Management.Automation;
using Ksctl.Core.Engine;
using Ksctl.PowerShell.Internal;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// Sets the number of workers of a self-managed cluster: new workers (the next indices) are created or taken from the
/// inventory and joined; surplus workers (the highest indices) are drained, their Nodes deleted, then uninstalled or
/// their machines deleted. A failed resize leaves the cluster ConfiguringFailed; running it again resumes.
/// </summary>
[Cmdlet(VerbsCommon.Resize, "KsctlCluster", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(KsctlCluster))]
public sealed class ResizeKsctlClusterCommand : ClusterOperationCmdlet
{
    /// <summary>The total number of workers wanted (-NodeCount: the node group size of a managed cluster that supports it).</summary>
    [Parameter(Mandatory = true)]
    [Alias("NodeCount")]
    [ValidateRange(0, 1000)]
    public int WorkerCount { get; set; }

    protected override void ProcessRecord()
    {
        var state = ResolveTarget();
        if (state is null) return;
        var manager = GetManager();
        var id = state.Id;
        Plan plan;
        try
        {
            plan = Run(ct => manager.PlanResizeAsync(id, WorkerCount, ct));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, id.Name);
            return;
        }
        if (!ShouldProcess($"Resizing cluster {id} to {WorkerCount} worker(s).{Environment.NewLine}{plan.Render()}",
                $"Resize cluster {id} to {WorkerCount} worker(s)?{Environment.NewLine}{plan.Render()}", "Confirm resize")) return;
        try
        {
            var options = Options();
            var workers = WorkerCount;
            Execute(AsJob, $"Resizing cluster {id.Name}", id.Name, (m, ct) => m.ResizeAsync(id, workers, options, ct), ModelMapper.ToCluster);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, id.Name);
        }
    }
}
