using System.Management.Automation;
using Ksctl.Core.Engine;
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
public sealed class AddKsctlAddonCommand : ClusterTargetCmdlet
{
    /// <summary>The add-ons to apply (Get-KsctlAddon -ListAvailable lists them).</summary>
    [Parameter(Mandatory = true)]
    [ArgumentCompleter(typeof(AddonNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Addon { get; set; } = [];

    /// <summary>Takes over the cluster's lock when its holder is gone.</summary>
    [Parameter]
    public SwitchParameter BreakStaleLock { get; set; }

    /// <summary>Runs the operation as a PowerShell job and returns the job at once.</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

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
            plan = Run(ct => manager.PlanAddAddonAsync(id, names, ct));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, id.Name);
            return;
        }
        var what = string.Join(", ", plan.Steps.Select(s => s.Resources.FirstOrDefault() ?? s.Name));
        if (!ShouldProcess($"Adding {what} to cluster {id}.{Environment.NewLine}{plan.Render()}",
                $"Add {what} to cluster {id}?{Environment.NewLine}{plan.Render()}", "Confirm add-on")) return;
        try
        {
            var options = new Core.Clusters.OperationOptions { BreakStaleLock = BreakStaleLock };
            var added = plan.Steps.Select(s => s.Name["addon:".Length..]).ToHashSet(StringComparer.Ordinal);
            Func<Core.Model.ClusterState, KsctlAddon[]> output = s => s.Addons.Where(a => added.Contains(a.Name)).Select(a => AddonModels.Installed(s, a)).ToArray();
            if (AsJob)
            {
                Execute(true, $"Adding add-ons to {id.Name}", id.Name, (m, ct) => m.AddAddonAsync(id, names, options, ct), output);
                return;
            }
            var result = Run(ct => manager.AddAddonAsync(id, names, options, ct), $"Adding add-ons to {id.Name}");
            WriteObject(output(result), enumerateCollection: true);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, id.Name);
        }
    }
}
