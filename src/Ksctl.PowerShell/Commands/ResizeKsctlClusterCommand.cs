using System.Management.Automation;
using Ksctl.Core.Engine;
using Ksctl.PowerShell.Internal;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// Sets the number of workers of a self-managed cluster (-WorkerCount): new workers (the next indices) are created or
/// taken from the inventory and joined; surplus workers (the highest indices) are drained, their Nodes deleted, then
/// uninstalled or their machines deleted. Or the node count of a managed cluster's pool (-NodeCount: AKS agent pool,
/// Civo node pool). A failed resize leaves the cluster ConfiguringFailed; running it again resumes.
/// </summary>
[Cmdlet(VerbsCommon.Resize, "KsctlCluster", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(KsctlCluster))]
public sealed class ResizeKsctlClusterCommand : ClusterOperationCmdlet
{
    /// <summary>The total number of workers wanted (self-managed clusters).</summary>
    [Parameter]
    [ValidateRange(0, 1000)]
    public int WorkerCount { get; set; }

    /// <summary>The number of nodes of the node pool (managed clusters).</summary>
    [Parameter]
    public int NodeCount { get; set; }

    protected override void ProcessRecord()
    {
        // Exactly one count: the workers of a self-managed cluster, or the nodes of a managed one's pool.
        var workersGiven = MyInvocation.BoundParameters.ContainsKey(nameof(WorkerCount));
        if (workersGiven == MyInvocation.BoundParameters.ContainsKey(nameof(NodeCount)))
        {
            WriteFailure(new Ksctl.Core.Diagnostics.InvalidSpecException(workersGiven ? "NodeCount" : "WorkerCount",
                "give either -WorkerCount (the workers of a self-managed cluster) or -NodeCount (the node pool of a managed cluster), not both or neither."), TargetName);
            return;
        }
        var state = ResolveTarget();
        if (state is null) return;
        var manager = GetManager();
        var id = state.Id;
        int? nodes = workersGiven ? null : NodeCount;
        var count = nodes ?? WorkerCount;
        var what = nodes is null ? $"{count} worker(s)" : $"{count} node(s) in its node pool";
        Plan plan;
        try
        {
            plan = Run(ct => nodes is null ? manager.PlanResizeAsync(id, count, ct) : manager.PlanResizeNodesAsync(id, count, ct));
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
            Execute(AsJob, $"Resizing cluster {id.Name}", id.Name,
                (m, ct) => nodes is null ? m.ResizeAsync(id, count, options, ct) : m.ResizeNodesAsync(id, count, options, ct), ModelMapper.ToCluster);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, id.Name);
        }
    }
}
