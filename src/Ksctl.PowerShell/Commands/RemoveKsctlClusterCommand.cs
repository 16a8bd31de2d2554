using System.Management.Automation;
using Ksctl.Core.Engine;
using Ksctl.PowerShell.Internal;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// Deletes clusters: every cloud resource of the plan, then the state (last, so that a failure can be resumed).
/// Confirms each cluster (ConfirmImpact High), listing the exact resources the plan deletes; -Force skips the prompt
/// only (-WhatIf and $WhatIfPreference still apply). A stale lock is taken over only with -BreakStaleLock.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "KsctlCluster", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(KsctlCluster))]
public sealed class RemoveKsctlClusterCommand : ClusterOperationCmdlet
{
    /// <summary>Skips the confirmation prompt (never -WhatIf).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Writes the removed cluster (as it was before deletion) to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Keeps the context, cluster and user entries Switch-KsctlContext merged into kubeconfig files.</summary>
    [Parameter]
    public SwitchParameter KeepContext { get; set; }

    protected override void ProcessRecord()
    {
        var state = ResolveTarget();
        if (state is null) return;
        var manager = GetManager();
        var id = state.Id;
        Plan plan;
        try
        {
            plan = Run(ct => manager.PlanDeleteAsync(id, ct));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, id.Name);
            return;
        }

        var resources = DeletedResources(plan);
        var description = $"Deleting cluster {id}.{Environment.NewLine}{resources}{plan.Render()}";
        var warning = $"Delete cluster {id} and every resource it owns?{Environment.NewLine}{resources}{plan.Render()}";
        if (!ShouldProcessUnlessForced(Force, description, warning, "Confirm cluster deletion")) return;

        var snapshot = ModelMapper.ToCluster(state);
        try
        {
            var options = Options() with { KeepKubeconfigEntries = KeepContext.IsPresent };
            Execute(AsJob, $"Deleting cluster {id.Name}", id.Name,
                async (m, ct) => { await m.DeleteAsync(id, options, ct).ConfigureAwait(false); return true; },
                _ => PassThru ? snapshot : null);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, id.Name);
        }
    }

    /// <summary>"Resources deleted:" and one line per resource id the plan's steps name (the providers list exact ids).</summary>
    private static string DeletedResources(Plan plan)
    {
        var ids = plan.TopologicalOrder().SelectMany(s => s.Resources).Distinct(StringComparer.Ordinal).ToList();
        if (ids.Count == 0) return "";
        return "Resources deleted:" + Environment.NewLine + string.Concat(ids.Select(r => $"  - {r}{Environment.NewLine}"));
    }
}
