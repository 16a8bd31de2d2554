using System.Management.Automation;
using Ksctl.Core.Clusters;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.PowerShell.Completers;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// Deletes every object an add-on applied (as recorded in the cluster's state, in reverse order) and forgets the
/// add-on. Confirms each cluster (ConfirmImpact High); -Force skips the prompt.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "KsctlAddon", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(KsctlAddon))]
public sealed class RemoveKsctlAddonCommand : AddonChangeCmdlet
{
    /// <summary>Removes without asking for confirmation.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Returns the removed add-ons.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private protected override Task<Plan> PlanAsync(ClusterManager manager, ClusterId id, IReadOnlyList<string> names, CancellationToken cancellationToken) =>
        manager.PlanRemoveAddonAsync(id, names, cancellationToken);

    private protected override bool Confirm(ClusterState state, Plan plan)
    {
        var what = string.Join(", ", Removed(state, plan).Select(r => $"{r.Name} ({r.ObjectCount} objects)"));
        return ShouldProcessUnlessForced(Force, $"Removing {what} from cluster {state.Id}.{Environment.NewLine}{plan.Render()}",
            $"Remove {what} from cluster {state.Id}? Every object the add-on applied is deleted.{Environment.NewLine}{plan.Render()}", "Confirm add-on removal");
    }

    private protected override void Change(ClusterManager manager, ClusterState state, IReadOnlyList<string> names, Plan plan, OperationOptions options)
    {
        var removed = Removed(state, plan);
        Run(ct => manager.RemoveAddonAsync(state.Id, names, options, ct), $"Removing add-ons from {state.Id.Name}");
        if (PassThru) WriteObject(removed, enumerateCollection: true);
    }

    private static KsctlAddon[] Removed(ClusterState state, Plan plan) =>
        state.Addons.Where(a => plan.Steps.Any(s => s.Name == $"addon-remove:{a.Name}")).Select(a => AddonModels.Installed(state, a)).ToArray();
}
