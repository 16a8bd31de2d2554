using System.Management.Automation;
using Ksctl.Core.Engine;
using Ksctl.PowerShell.Internal;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// Renews the certificates of a self-managed cluster without downtime: new etcd member and client certificates from
/// the cluster's etcd CA, put on one member (then one control plane) at a time, each restarted and etcd's health
/// checked before the next; for Kubeadm also kubeadm certs renew all on every control plane. Returns the cluster with
/// its new CertificateExpiry. A failed renewal resumes when run again.
/// </summary>
[Cmdlet(VerbsData.Update, "KsctlCertificate", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(KsctlCluster))]
public sealed class UpdateKsctlCertificateCommand : ClusterOperationCmdlet
{
    protected override void ProcessRecord()
    {
        var state = ResolveTarget();
        if (state is null) return;
        var manager = GetManager();
        var id = state.Id;
        Plan plan;
        try
        {
            plan = Run(ct => manager.PlanRenewCertificatesAsync(id, ct));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, id.Name);
            return;
        }
        if (!ShouldProcess($"Renewing the certificates of cluster {id}.{Environment.NewLine}{plan.Render()}",
                $"Renew the certificates of cluster {id}? Each etcd member and control plane restarts in turn.{Environment.NewLine}{plan.Render()}", "Confirm certificate renewal")) return;
        try
        {
            var options = Options();
            Execute(AsJob, $"Renewing the certificates of cluster {id.Name}", id.Name, (m, ct) => m.RenewCertificatesAsync(id, options, ct), ModelMapper.ToCluster);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, id.Name);
        }
    }
}
