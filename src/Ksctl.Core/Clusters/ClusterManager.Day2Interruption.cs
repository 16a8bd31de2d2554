using Ksctl.Core.Backup;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Clusters;

/// <summary>
/// Which day-2 operation a Configuring status belongs to. Every operation that sets Configuring leaves the same status,
/// so a process killed mid-way (no lock holder left) would otherwise be reported as an interrupted resize: the
/// restore, the certificate renewal and the add-on changes record their name while they run, and Get-KsctlCluster
/// names the cmdlet that resumes them.
/// </summary>
public sealed partial class ClusterManager
{
    /// <summary>The day-2 operation running on the cluster ("restore", "certificates", "addon", "addon-remove"); absent otherwise.</summary>
    internal const string Day2RunningResource = "day2:running";

    /// <summary>Records the running operation (inside the Mutate that sets Configuring, so both reach the store together).</summary>
    private static void MarkDay2Running(ClusterState state, string operation) => state.Resources[Day2RunningResource] = operation;

    /// <summary>
    /// Runs a day-2 plan; whatever its outcome, the process is alive to record it, so the marker goes (a later
    /// operation's interruption must not be named after this one).
    /// </summary>
    private async Task RunDay2Async(Plan plan, StateSession session, OperationOptions options, string errorId, CancellationToken cancellationToken)
    {
        try
        {
            await RunAsync(plan, session, options, ClusterStatus.Running, ClusterStatus.ConfiguringFailed, errorId, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (session.Read(s => s.Resources.ContainsKey(Day2RunningResource)))
            {
                session.Mutate(s => s.Resources.Remove(Day2RunningResource));
                // Best effort on the failure path: the plan's own error is the one the caller must see.
                try { await session.CheckpointAsync().ConfigureAwait(false); }
                catch (Exception ex) when (ex is KsctlException or IOException)
                {
                    _logger.LogWarning("Could not record the end of the {Operation} of {Cluster}: {Error}", plan.Operation, plan.Cluster, ex.Message);
                }
            }
        }
    }

    /// <summary>
    /// The operation and the command that resumes it, for a Configuring left by a killed day-2 operation; null when none
    /// is recorded (a resize). What the state says is checked before it is printed.
    /// </summary>
    internal static (string Operation, string Resume)? InterruptedDay2(ClusterState state)
    {
        if (!state.Resources.TryGetValue(Day2RunningResource, out var operation)) return null;
        switch (operation)
        {
            case "restore":
                var backup = state.Resources.GetValueOrDefault(RestoreBackupResource)?.Split(':')[0];
                return ("restore", BackupRecord.IsValidId(backup)
                    ? $"run Restore-KsctlCluster -Backup {backup} again to resume it"
                    : "run Restore-KsctlCluster again with the same backup to resume it");
            case "certificates":
                return ("certificate renewal", "run Update-KsctlCertificate again to resume it");
            case AddonOperation:
                return ("add-on change", "run Add-KsctlAddon again to finish it");
            case AddonRemoveOperation:
                return ("add-on removal", "run Remove-KsctlAddon again to finish it");
            default:
                return null;
        }
    }
}
