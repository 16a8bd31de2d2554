using System.Management.Automation;
using Ksctl.PowerShell.Internal;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// Deletes etcd backups of a cluster: by cluster name and backup id, or piped from Get-KsctlBackup. A backup kept in
/// the state store is deleted (description and snapshot); a backup written with Backup-KsctlCluster -Path is only
/// removed from the listing, its file stays. Confirms each backup (ConfirmImpact High); -Force skips the prompt.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "KsctlBackup", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(KsctlBackup))]
public sealed class RemoveKsctlBackupCommand : ClusterTargetCmdlet
{
    /// <summary>The backup's id (Get-KsctlBackup); binds the Id of a piped backup.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Backup")]
    [ValidatePattern("^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$")]
    public string Id { get; set; } = "";

    /// <summary>Removes without asking for confirmation (-WhatIf and an explicit -Confirm still apply).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Takes over the cluster's lock when its holder is gone.</summary>
    [Parameter]
    public SwitchParameter BreakStaleLock { get; set; }

    /// <summary>Returns the removed backups.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var state = ResolveTarget();
        if (state is null) return;
        var manager = GetManager();
        var id = state.Id;
        var backupId = Id;
        // The backup must exist before anyone is asked about it.
        KsctlBackup? listed;
        try
        {
            listed = Run(ct => manager.ListBackupsAsync(id, null, ct)).Where(b => b.Id == backupId).Select(BackupMapper.ToBackup).FirstOrDefault();
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, backupId);
            return;
        }
        if (listed is null)
        {
            WriteFailure(new Core.Backup.BackupNotFoundException(backupId, $"the backups of cluster {id}"), backupId);
            return;
        }
        var what = listed.Location == Core.Backup.EtcdBackup.StoreLocation
            ? $"backup {backupId} of cluster {id} (revision {listed.Revision}, {listed.Size} bytes, in the state store)"
            : $"the listing of backup {backupId} of cluster {id} (its file {listed.Location} stays)";
        if (!ShouldProcessUnlessForced(Force, $"Removing {what}.", $"Remove {what}? A removed backup cannot be restored.", "Confirm backup removal")) return;
        try
        {
            var options = new Core.Clusters.OperationOptions { BreakStaleLock = BreakStaleLock };
            var removed = Run(ct => manager.RemoveBackupAsync(id, backupId, options, ct));
            if (PassThru) WriteObject(BackupMapper.ToBackup(removed));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, backupId);
        }
    }
}
