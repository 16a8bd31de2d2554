using System.Management.Automation;
using Ksctl.Core.Engine;
using Ksctl.PowerShell.Internal;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// Takes an etcd snapshot of a self-managed cluster on a healthy member, checks it, and keeps it in the state store
/// (encrypted with the state key where the store has one) or writes it to -Path. Returns the backup.
/// </summary>
[Cmdlet(VerbsData.Backup, "KsctlCluster", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(KsctlBackup))]
public sealed class BackupKsctlClusterCommand : ClusterOperationCmdlet
{
    /// <summary>Write the snapshot to this file (and its description to &lt;Path&gt;.json) instead of the state store.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    protected override void ProcessRecord()
    {
        var state = ResolveTarget();
        if (state is null) return;
        var manager = GetManager();
        var id = state.Id;
        var path = Path is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        Plan plan;
        try
        {
            plan = Run(ct => manager.PlanBackupAsync(id, path, ct));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, id.Name);
            return;
        }
        var where = path ?? "the state store";
        if (!ShouldProcess($"Backing up the etcd datastore of cluster {id} to {where}.{Environment.NewLine}{plan.Render()}",
                $"Back up the etcd datastore of cluster {id} to {where}?{Environment.NewLine}{plan.Render()}", "Confirm backup")) return;
        try
        {
            var options = Options();
            Execute(AsJob, $"Backing up cluster {id.Name}", id.Name, (m, ct) => m.BackupAsync(id, path, options, ct), BackupMapper.ToBackup);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, id.Name);
        }
    }
}
