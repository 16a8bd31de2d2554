using System.Management.Automation;
using Ksctl.Core.Clusters;
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
public sealed class ResizeKsctlClusterCommand : ClusterTargetCmdlet
{
    /// <summary>The total number of workers wanted.</summary>
    [Parameter(Mandatory = true)]
    [ValidateRange(0, 1000)]
    public int WorkerCount { get; set; }

    [Parameter]
    [ValidateRange(1, 64)]
    public int ThrottleLimit { get; set; } = 8;

    /// <summary>The cloud credential for this operation (first in the credential order): Azure service principal (user name = client id, password = client secret), Civo API key (password).</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>Azure: the Entra tenant of -Credential (or of the default sign-in).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? TenantId { get; set; }

    /// <summary>Azure: the subscription to use, whichever way the sign-in is found.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SubscriptionId { get; set; }

    /// <summary>Takes over a lock left by a process that no longer runs.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        var state = ResolveTarget();
        if (state is null) return;
        var manager = GetManager();
        var id = state.Id;
        Core.Engine.Plan plan;
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
            var options = new OperationOptions { MaxParallelism = ThrottleLimit, BreakStaleLock = Force.IsPresent, Credential = CredentialParameters.From(Credential, TenantId, SubscriptionId) };
            var resized = Run(ct => manager.ResizeAsync(id, WorkerCount, options, ct), $"Resizing cluster {id.Name}");
            WriteObject(ModelMapper.ToCluster(resized));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, id.Name);
        }
    }
}
