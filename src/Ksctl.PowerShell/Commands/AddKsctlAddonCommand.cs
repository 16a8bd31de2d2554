using System.Management.Automation;
using Ksctl.Core.Clusters;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.PowerShell.Completers;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// Applies add-ons from Ksctl's catalogue (pinned manifests, version and SHA-256 checked) to a Running cluster with
/// server-side apply (field manager "ksctl"), and records what was applied in the cluster's state. Applying again
/// is safe (apply is idempotent); -WhatIf shows the plan.
/// </summary>
[Cmdlet(VerbsCommon.Add, "KsctlAddon", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(KsctlAddon))]
public sealed class AddKsctlAddonCommand : AddonChangeCmdlet
{
    /// <summary>Runs the operation as a PowerShell job and returns the job at once.</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    private protected override Task<Plan> PlanAsync(ClusterManager manager, ClusterId id, IReadOnlyList<string> names, CancellationToken cancellationToken) =>
        manager.PlanAddAddonAsync(id, names, cancellationToken);

    private protected override bool Confirm(ClusterState state, Plan plan)
    {
        var what = string.Join(", ", plan.Steps.Select(s => s.Resources.FirstOrDefault() ?? s.Name));
        return ShouldProcess($"Adding {what} to cluster {state.Id}.{Environment.NewLine}{plan.Render()}",
            $"Add {what} to cluster {state.Id}?{Environment.NewLine}{plan.Render()}", "Confirm add-on");
    }

    private protected override void Change(ClusterManager manager, ClusterState state, IReadOnlyList<string> names, Plan plan, OperationOptions options)
    {
        var id = state.Id;
        var added = plan.Steps.Select(s => s.Name["addon:".Length..]).ToHashSet(StringComparer.Ordinal);
        Func<ClusterState, KsctlAddon[]> output = s => s.Addons.Where(a => added.Contains(a.Name)).Select(a => AddonModels.Installed(s, a)).ToArray();
        if (AsJob)
        {
            Execute(true, $"Adding add-ons to {id.Name}", id.Name, (m, ct) => m.AddAddonAsync(id, names, options, ct), output);
            return;
        }
        var result = Run(ct => manager.AddAddonAsync(id, names, options, ct), $"Adding add-ons to {id.Name}");
        WriteObject(output(result), enumerateCollection: true);
    }
}
