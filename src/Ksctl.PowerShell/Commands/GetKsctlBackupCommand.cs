using System.Management.Automation;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.PowerShell.Internal;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// Lists the etcd backups of the clusters selected by name (wildcards), provider, type and region, oldest first per
/// cluster: those kept in the state store and those written with -Path. A backup description that fails its checks is
/// skipped with a warning.
/// </summary>
[Cmdlet(VerbsCommon.Get, "KsctlBackup")]
[OutputType(typeof(KsctlBackup))]
public sealed class GetKsctlBackupCommand : ClusterFilterCmdlet
{
    /// <summary>Only the backup with this id.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Id { get; set; }

    protected override void ProcessRecord()
    {
        var (query, literals) = BuildQuery();
        var manager = GetManager();
        List<ClusterState> clusters;
        try
        {
            clusters = Run(ct => manager.ListSummariesAsync(query, ct)).Clusters.Where(c => c.Id.Type == ClusterType.SelfManaged).ToList();
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, manager.Store.Description);
            return;
        }
        foreach (var cluster in clusters.OrderBy(c => c.Id.Name, StringComparer.Ordinal).ThenBy(c => c.Id.Region, StringComparer.Ordinal))
        {
            var warnings = new List<string>();
            try
            {
                var backups = Run(ct => manager.ListBackupsAsync(cluster.Id, ex => { lock (warnings) warnings.Add(ex.Message); }, ct));
                foreach (var w in warnings) WriteWarning(w);
                WriteObject(backups.Where(b => Id is null || b.Id == Id).Select(BackupMapper.ToBackup), enumerateCollection: true);
            }
            catch (Exception ex) when (ex is not PipelineStoppedException)
            {
                WriteFailure(ex, cluster.Id.Name);
            }
        }
        if (literals.Count == 0) return;
        var seen = clusters.Select(c => c.Id.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var missing in literals.Where(n => !seen.Contains(n)))
            WriteError(ErrorMapper.ToErrorRecord(new ClusterNotFoundException(Describe(missing)), missing));
    }
}
