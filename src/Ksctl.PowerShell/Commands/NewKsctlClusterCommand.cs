using System.Management.Automation;
using Ksctl.Core.Clusters;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.PowerShell.Completers;
using Ksctl.PowerShell.Internal;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// Creates a cluster (or resumes one whose creation failed). Parameters, a YAML spec file (-SpecPath), or both:
/// parameters given on the command line override the file field by field. -WhatIf prints the validated plan.
/// </summary>
[Cmdlet(VerbsCommon.New, "KsctlCluster", DefaultParameterSetName = ParametersSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(KsctlCluster))]
public sealed class NewKsctlClusterCommand : ClusterSpecCmdlet
{
    private const string ParametersSet = "Parameters";
    private const string SpecSet = "Spec";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ParametersSet)]
    [Parameter(Position = 0, ParameterSetName = SpecSet)]
    public string? Name { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = ParametersSet)]
    [Parameter(ParameterSetName = SpecSet)]
    [ValidateProvider]
    [ArgumentCompleter(typeof(ProviderCompleter))]
    public string? Provider { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = SpecSet)]
    [ValidateNotNullOrEmpty]
    public string? SpecPath { get; set; }

    [Parameter]
    [ValidateRange(1, 64)]
    public int ThrottleLimit { get; set; } = 8;

    /// <summary>The cloud credential for this operation (first in the credential order): Azure service principal (user name = client id, password = client secret), AWS access key (user name = access key id, password = secret access key), Civo API key (password).</summary>
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

    /// <summary>Aws: a profile of the AWS shared config/credentials files (static keys, SSO, assume-role) to sign in with for this operation.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ProfileName { get; set; }

    /// <summary>Gcp: a service-account key file (JSON, as gcloud iam service-accounts keys create writes it); first in the GCP credential order.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CredentialPath { get; set; }

    /// <summary>Gcp: the project to use, whichever way the credential is found.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Project { get; set; }

    /// <summary>Takes over the cluster's lock when its holder is gone (Core refuses a live holder and names it).</summary>
    [Parameter]
    public SwitchParameter BreakStaleLock { get; set; }

    /// <summary>Opts the cluster into the Ksctl server's reconciler (the spec's 'reconcile' field).</summary>
    [Parameter]
    public SwitchParameter Reconcile { get; set; }

    /// <summary>Runs the creation as a PowerShell job and returns the job at once.</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    protected override void ProcessRecord()
    {
        var manager = GetManager();
        ClusterSpec spec;
        Core.Engine.Plan plan;
        try
        {
            spec = BuildSpec(manager, SpecPath, Name, Provider);
            if (MyInvocation.BoundParameters.ContainsKey(nameof(Reconcile))) spec = spec with { Reconcile = Reconcile.IsPresent };
            (plan, _) = Run(ct => manager.PlanCreateAsync(spec, ct));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            // Invalid input (or a cluster whose status forbids creation): nothing can proceed, -WhatIf included.
            ThrowTerminatingError(ErrorMapper.ToErrorRecord(ex, Name ?? SpecPath));
            return;
        }

        var id = plan.Cluster;
        var description = $"Creating cluster {id}.{Environment.NewLine}{plan.Render()}";
        var warning = $"Create cluster {id}?{Environment.NewLine}{plan.Render()}";
        if (!ShouldProcess(description, warning, "Confirm cluster creation")) return;

        try
        {
            var options = OperationParameters.Options(ThrottleLimit, BreakStaleLock, Credential, TenantId, SubscriptionId, ProfileName,
                CredentialPath is null ? null : GetUnresolvedProviderPathFromPSPath(CredentialPath), Project);
            Execute(AsJob, $"Creating cluster {id.Name}", id.Name, (m, ct) => m.CreateAsync(spec, options, ct), ModelMapper.ToCluster);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, id.Name);
        }
    }
}
