using System.Management.Automation;
using Ksctl.Core.Engine;
using Ksctl.PowerShell.Internal;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// Renews the certificates of a self-managed cluster without downtime: new etcd member and client certificates from
/// the cluster's etcd CA, put on one member (then one control plane) at a time, each restarted and etcd's health
/// checked before the next; for Kubeadm also kubeadm certs renew all on every control plane. Returns the cluster with
/// its new CertificateExpiry. The etcd CA is renewed too when it ends within a year and a month (its leaves would be cut
/// short) or with -RotateCertificateAuthority: trusted beside the old one everywhere first, then the leaves, then the
/// old CA dropped, one machine at a time. A failed renewal resumes when run again.
/// </summary>
[Cmdlet(VerbsData.Update, "KsctlCertificate", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(KsctlCluster))]
public sealed class UpdateKsctlCertificateCommand : ClusterOperationCmdlet
{
    /// <summary>Renews the etcd CA as well, even when it is not near its end.</summary>
    [Parameter]
    public SwitchParameter RotateCertificateAuthority { get; set; }

    protected override void ProcessRecord()
    {
        var state = ResolveTarget();
        if (state is null) return;
        var manager = GetManager();
        var id = state.Id;
        var rotate = RotateCertificateAuthority.IsPresent;
        Plan plan;
        try
        {
            plan = Run(ct => manager.PlanRenewCertificatesAsync(id, rotate, ct));
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
            Execute(AsJob, $"Renewing the certificates of cluster {id.Name}", id.Name, (m, ct) => m.RenewCertificatesAsync(id, rotate, options, ct), ModelMapper.ToCluster);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, id.Name);
        }
    }
}
