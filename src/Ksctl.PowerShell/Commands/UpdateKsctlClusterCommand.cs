using System.Management.Automation;
using Ksctl.Core.Engine;
using Ksctl.PowerShell.Internal;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// Upgrades a cluster's Kubernetes version in place, one minor version at a time: self-managed control planes one at a
/// time, then workers in batches (drain, upgrade, uncordon); AKS control plane then node pool; Civo through its API.
/// -WhatIf shows the order. A failed or cancelled upgrade leaves the cluster ConfiguringFailed; running the same
/// command again resumes from the node it stopped at.
/// </summary>
[Cmdlet(VerbsData.Update, "KsctlCluster", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(KsctlCluster))]
public sealed class UpdateKsctlClusterCommand : ClusterOperationCmdlet
{
    /// <summary>The Kubernetes version to upgrade to (the next minor at most; never older than the cluster's).</summary>
    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    [ValidatePattern(@"^v?[0-9]+\.[0-9]+(\.[0-9]+)?([-+][0-9A-Za-z.+-]+)?$")]
    public string KubernetesVersion { get; set; } = "";

    /// <summary>Self-managed: how many workers are drained and upgraded at once.</summary>
    [Parameter]
    [ValidateRange(1, 1000)]
    public int MaxUnavailable { get; set; } = 1;

    protected override void ProcessRecord()
    {
        var state = ResolveTarget();
        if (state is null) return;
        var manager = GetManager();
        var id = state.Id;
        var version = KubernetesVersion;
        var batch = MaxUnavailable;
        Plan plan;
        try
        {
            plan = Run(ct => manager.PlanUpgradeAsync(id, version, batch, ct));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, id.Name);
            return;
        }
        if (!ShouldProcess($"Upgrading cluster {id} to Kubernetes {version}.{Environment.NewLine}{plan.Render()}",
                $"Upgrade cluster {id} to Kubernetes {version}?{Environment.NewLine}{plan.Render()}", "Confirm upgrade")) return;
        try
        {
            var options = Options();
            Execute(AsJob, $"Upgrading cluster {id.Name}", id.Name, (m, ct) => m.UpgradeAsync(id, version, batch, options, ct), ModelMapper.ToCluster);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, id.Name);
        }
    }
}
