using System.Management.Automation;
using Ksctl.Core.Clusters;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.PowerShell.Completers;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// What Add- and Remove-KsctlAddon share: the cluster (by name or from the pipeline), the add-on names, the lock
/// switch, and the order of a change (resolve, plan with Core's validation, ask, run), with one error record per
/// failed cluster. The two cmdlets say only how they plan, ask and run.
/// </summary>
public abstract class AddonChangeCmdlet : ClusterTargetCmdlet
{
    /// <summary>The add-ons to apply or remove (Get-KsctlAddon lists them).</summary>
    [Parameter(Mandatory = true)]
    [ArgumentCompleter(typeof(AddonNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Addon { get; set; } = [];

    /// <summary>Takes over the cluster's lock when its holder is gone.</summary>
    [Parameter]
    public SwitchParameter BreakStaleLock { get; set; }

    /// <summary>The plan of the change, validated by Core; nothing is touched.</summary>
    private protected abstract Task<Plan> PlanAsync(ClusterManager manager, ClusterId id, IReadOnlyList<string> names, CancellationToken cancellationToken);

    /// <summary>ShouldProcess (or its -Force variant) for this change.</summary>
    private protected abstract bool Confirm(ClusterState state, Plan plan);

    /// <summary>Runs the change and writes its output.</summary>
    private protected abstract void Change(ClusterManager manager, ClusterState state, IReadOnlyList<string> names, Plan plan, OperationOptions options);

    protected override void ProcessRecord()
    {
        var state = ResolveTarget();
        if (state is null) return;
        var manager = GetManager();
        var names = Addon;
        Plan plan;
        try
        {
            plan = Run(ct => PlanAsync(manager, state.Id, names, ct));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, state.Id.Name);
            return;
        }
        if (!Confirm(state, plan)) return;
        try
        {
            Change(manager, state, names, plan, new OperationOptions { BreakStaleLock = BreakStaleLock });
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, state.Id.Name);
        }
    }
}
