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
    /// <summary>SelfManaged: the total number of workers wanted.</summary>
    [Parameter]
    [ValidateRange(0, 1000)]
    public int WorkerCount { get; set; }

    /// <summary>Managed (GKE): the number of nodes of the node pool (per zone for a regional cluster).</summary>
    [Parameter]
    [ValidateRange(1, 1000)]
    public int NodeCount { get; set; }

    protected override void ProcessRecord()
    {
        var byNodes = MyInvocation.BoundParameters.ContainsKey(nameof(NodeCount));
        if (MyInvocation.BoundParameters.ContainsKey(nameof(WorkerCount)) == byNodes)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException("Give exactly one of -WorkerCount (SelfManaged clusters) and -NodeCount (Managed clusters)."),
                "KsctlInvalidSpec", ErrorCategory.InvalidArgument, null));
            return;
        }
        var state = ResolveTarget();
        if (state is null) return;
        var manager = GetManager();
        var id = state.Id;
        var count = byNodes ? NodeCount : WorkerCount;
        var what = byNodes ? $"{count} node(s)" : $"{count} worker(s)";
        Plan plan;
        try
        {
            plan = byNodes ? Run(ct => manager.PlanResizeNodePoolAsync(id, count, ct)) : Run(ct => manager.PlanResizeAsync(id, count, ct));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, id.Name);
            return;
        }
        if (!ShouldProcess($"Resizing cluster {id} to {what}.{Environment.NewLine}{plan.Render()}",
                $"Resize cluster {id} to {what}?{Environment.NewLine}{plan.Render()}", "Confirm resize")) return;
        try
        {
            var options = Options();
            var pool = byNodes;
            Execute(AsJob, $"Resizing cluster {id.Name}", id.Name,
                (m, ct) => pool ? m.ResizeNodePoolAsync(id, count, options, ct) : m.ResizeAsync(id, count, options, ct), ModelMapper.ToCluster);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, id.Name);
        }
    }
}
