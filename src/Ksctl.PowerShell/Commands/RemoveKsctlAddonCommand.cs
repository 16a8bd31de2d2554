using System.Management.Automation;
using Ksctl.Core.Engine;
using Ksctl.PowerShell.Completers;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// Deletes every object an add-on applied (as recorded in the cluster's state, in reverse order) and forgets the
/// add-on. Confirms each cluster (ConfirmImpact High); -Force skips the prompt.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "KsctlAddon", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(KsctlAddon))]
public sealed class RemoveKsctlAddonCommand : ClusterTargetCmdlet
{
    /// <summary>The installed add-ons to remove (Get-KsctlAddon lists them).</summary>
    [Parameter(Mandatory = true)]
    [ArgumentCompleter(typeof(AddonNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Addon { get; set; } = [];

    /// <summary>Removes without asking for confirmation.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Takes over the cluster's lock when its holder is gone.</summary>
    [Parameter]
    public SwitchParameter BreakStaleLock { get; set; }

    /// <summary>Returns the removed add-ons.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var state = ResolveTarget();
        if (state is null) return;
        var manager = GetManager();
        var id = state.Id;
        var names = Addon;
        Plan plan;
        try
        {
            plan = Run(ct => manager.PlanRemoveAddonAsync(id, names, ct));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, id.Name);
            return;
        }
        var removed = state.Addons.Where(a => plan.Steps.Any(s => s.Name == $"addon-remove:{a.Name}")).Select(a => AddonModels.Installed(state, a)).ToArray();
        var what = string.Join(", ", removed.Select(r => $"{r.Name} ({r.ObjectCount} objects)"));
        if (!ShouldProcessUnlessForced(Force, $"Removing {what} from cluster {id}.{Environment.NewLine}{plan.Render()}",
                $"Remove {what} from cluster {id}? Every object the add-on applied is deleted.{Environment.NewLine}{plan.Render()}", "Confirm add-on removal")) return;
        try
        {
            var options = new Core.Clusters.OperationOptions { BreakStaleLock = BreakStaleLock };
            Run(ct => manager.RemoveAddonAsync(id, names, options, ct), $"Removing add-ons from {id.Name}");
            if (PassThru) WriteObject(removed, enumerateCollection: true);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, id.Name);
        }
    }
}
