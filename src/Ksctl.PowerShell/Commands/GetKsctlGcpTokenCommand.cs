using System.Management.Automation;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// Writes an ExecCredential (client.authentication.k8s.io/v1beta1) with a GCP access token from the credential chain:
/// what GKE kubeconfigs run as 'ksctl gcp-token' when gke-gcloud-auth-plugin is not installed.
/// </summary>
[Cmdlet(VerbsCommon.Get, "KsctlGcpToken")]
[OutputType(typeof(string))]
public sealed class GetKsctlGcpTokenCommand : KsctlCmdlet
{
    protected override void EndProcessing()
    {
        var manager = GetManager();
        try
        {
            WriteObject(Run(ct => manager.GcpExecCredentialAsync(ct)));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, "Gcp");
        }
    }
}
