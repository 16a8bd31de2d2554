using System.Management.Automation;
using Ksctl.Core.Engine;
using Ksctl.PowerShell.Internal;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// Restores the etcd datastore of a self-managed cluster from a backup (an id from Get-KsctlBackup, or a file written
/// with Backup-KsctlCluster -Path): the API servers stop, every member is restored as a new etcd cluster, etcd's health
/// is checked and the API servers start again. Everything written after the backup is lost, so it asks first
/// (ConfirmImpact High; -Force skips the prompt). A failed or interrupted restore resumes when run again.
/// </summary>
[Cmdlet(VerbsData.Restore, "KsctlCluster", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(KsctlCluster))]
public sealed class RestoreKsctlClusterCommand : ClusterOperationCmdlet
{
    /// <summary>The backup's id (Get-KsctlBackup); binds the Id of a piped backup.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("Id")]
    [ValidatePattern("^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$")]
    public string? Backup { get; set; }

    /// <summary>A snapshot file written by Backup-KsctlCluster -Path (its .json description beside it).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>Skips the confirmation prompt (-WhatIf and an explicit -Confirm still apply).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        if ((Backup is null) == (Path is null))
        {
            WriteFailure(new Ksctl.Core.Diagnostics.InvalidSpecException("Backup", "give either -Backup (an id from Get-KsctlBackup) or -Path (a file written by Backup-KsctlCluster -Path), not both."), TargetName);
            return;
        }
        var state = ResolveTarget();
        if (state is null) return;
        var manager = GetManager();
        var id = state.Id;
        var backup = Backup;
        var path = Path is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        Plan plan;
        try
        {
            plan = Run(ct => manager.PlanRestoreAsync(id, backup, path, ct));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, id.Name);
            return;
        }
        var source = backup ?? path;
        if (!ShouldProcessUnlessForced(Force, $"Restoring the etcd datastore of cluster {id} from {source}.{Environment.NewLine}{plan.Render()}",
                $"Restore the etcd datastore of cluster {id} from {source}? Everything written to the cluster after the backup is lost.{Environment.NewLine}{plan.Render()}", "Confirm restore")) return;
        try
        {
            var options = Options();
            Execute(AsJob, $"Restoring cluster {id.Name}", id.Name, (m, ct) => m.RestoreAsync(id, backup, path, options, ct), ModelMapper.ToCluster);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, id.Name);
        }
    }
}
