using System.Management.Automation;
using Ksctl.Core.Clusters;
using Ksctl.PowerShell.Internal;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// Deletes clusters: every cloud resource of the plan, then the state (last, so that a failure can be resumed).
/// Confirms each cluster (ConfirmImpact High) unless -Force, which also takes over a lock left by a dead process.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "KsctlCluster", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(KsctlCluster))]
public sealed class RemoveKsctlClusterCommand : ClusterTargetCmdlet
{
    /// <summary>Skips the confirmation and breaks stale locks.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Writes the removed cluster (as it was before deletion) to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Keeps the context, cluster and user entries Switch-KsctlContext merged into kubeconfig files.</summary>
    [Parameter]
    public SwitchParameter KeepContext { get; set; }

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

    protected override void ProcessRecord()
    {
        var state = ResolveTarget();
        if (state is null) return;
        var manager = GetManager();
        var id = state.Id;
        Core.Engine.Plan plan;
        try
        {
            plan = Run(ct => manager.PlanDeleteAsync(id, ct));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, id.Name);
            return;
        }

        var description = $"Deleting cluster {id}.{Environment.NewLine}{plan.Render()}";
        var warning = $"Delete cluster {id} and every resource it owns?{Environment.NewLine}{plan.Render()}";
        if (!Confirmed(description, warning)) return;

        var snapshot = ModelMapper.ToCluster(state);
        try
        {
            var options = new OperationOptions { MaxParallelism = ThrottleLimit, BreakStaleLock = Force.IsPresent, Credential = CredentialParameters.From(Credential, TenantId, SubscriptionId), KeepKubeconfigEntries = KeepContext.IsPresent };
            Run(ct => manager.DeleteAsync(id, options, ct), $"Deleting cluster {id.Name}");
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, id.Name);
            return;
        }
        if (PassThru) WriteObject(snapshot);
    }

    /// <summary>-Force skips the prompt, but -WhatIf and an explicit -Confirm still apply.</summary>
    private bool Confirmed(string description, string warning)
    {
        var bound = MyInvocation.BoundParameters;
        var whatIf = bound.TryGetValue("WhatIf", out var w) && w is SwitchParameter { IsPresent: true };
        var confirm = bound.TryGetValue("Confirm", out var c) && c is SwitchParameter { IsPresent: true };
        if (Force && !whatIf && !confirm)
        {
            WriteVerbose(description);
            return true;
        }
        return ShouldProcess(description, warning, "Confirm cluster deletion");
    }
}
