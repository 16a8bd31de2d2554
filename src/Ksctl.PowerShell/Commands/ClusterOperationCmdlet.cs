using System.Management.Automation;
using Ksctl.Core.Clusters;
using Ksctl.PowerShell.Internal;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// Remove- and Resize-KsctlCluster: an existing cluster (by name or from Get-KsctlCluster) plus the parameters every
/// mutating operation takes, declared once (STYLE.md). New-KsctlCluster declares the same set (it is no target cmdlet).
/// </summary>
public abstract class ClusterOperationCmdlet : ClusterTargetCmdlet
{
    /// <summary>Steps run at once.</summary>
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

    /// <summary>Runs the operation as a PowerShell job and returns the job at once.</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    internal OperationOptions Options() => OperationParameters.Options(ThrottleLimit, BreakStaleLock, Credential, TenantId, SubscriptionId, ProfileName, KeyPath(CredentialPath), Project);

    /// <summary>-CredentialPath as a full file-system path (relative to the current PowerShell location).</summary>
    internal string? KeyPath(string? path) => path is null ? null : GetUnresolvedProviderPathFromPSPath(path);
}
