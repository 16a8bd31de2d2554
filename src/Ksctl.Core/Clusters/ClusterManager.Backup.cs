using Ksctl.Core.Backup;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Distributions;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Providers;
using Ksctl.Core.Remote;
using Ksctl.Core.Storage;
using Ksctl.Core.Storage.Protection;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Clusters;

/// <summary>
/// etcd backup and restore of self-managed clusters (Backup-/Get-KsctlBackup, Restore-KsctlCluster): plans like any
/// other, run under the cluster's lock. A backup leaves the cluster's status alone; a restore is Configuring while it
/// runs, ConfiguringFailed when it fails or is cancelled, and a re-run with the same backup resumes it.
/// </summary>
public sealed partial class ClusterManager
{
    private const string RestoreBackupResource = "restore:backup";
    private const string RestoreTokenResource = "restore:token";
    /// <summary>The etcd cluster token a restore gave the datastore (the create's is "&lt;name&gt;-etcd").</summary>
    public const string EtcdClusterTokenResource = "etcd:cluster-token";

    /// <summary>The backup plan for -WhatIf (validated, nothing touched).</summary>
    public async Task<Plan> PlanBackupAsync(ClusterId id, string? path, CancellationToken cancellationToken)
    {
        var state = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        await EnsureDay2Async(state, "back up", lockHeld: false, cancellationToken).ConfigureAwait(false);
        var location = path is null ? EtcdBackup.StoreLocation : BackupFile.CheckTarget(path);
        if (path is null) BackupStores.For(Store);
        await using var access = Day2Access(state, OperationOptions.Default);
        return new Plan("backup", id, new EtcdSnapshotSteps(access, _services.Time).Steps(state, location, (_, _, _) => Task.CompletedTask));
    }

    /// <summary>
    /// Takes an etcd snapshot on the first healthy member, checks it here and keeps it in the state store (encrypted with
    /// the state key where the store has one) or writes it to <paramref name="path"/> (plus a .json description).
    /// </summary>
    public async Task<EtcdBackup> BackupAsync(ClusterId id, string? path, OperationOptions options, CancellationToken cancellationToken)
    {
        var location = path is null ? EtcdBackup.StoreLocation : BackupFile.CheckTarget(path);
        var backups = path is null ? BackupStores.For(Store) : TryBackupStore();
        _providers.Get(id.Provider, options.Credential);
        await using var clusterLock = await Store.AcquireLockAsync(id, "backup", options.BreakStaleLock, cancellationToken).ConfigureAwait(false);
        var state = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        await EnsureDay2Async(state, "back up", lockHeld: true, cancellationToken).ConfigureAwait(false);
        await using var access = Day2Access(state, options);
        var taker = new EtcdSnapshotSteps(access, _services.Time);
        var plan = new Plan("backup", id, taker.Steps(state, location, async (backup, bytes, ct) =>
        {
            if (path is null) await backups!.SaveAsync(backup, bytes, ct).ConfigureAwait(false);
            else
            {
                BackupFile.Write(location, backup, bytes, StoreProtector());
                // Listed with the others (description only); a store that keeps no backups just does not list it.
                if (backups is not null) await backups.SaveAsync(backup, null, ct).ConfigureAwait(false);
            }
        }));
        var session = new StateSession(state, Store);
        ClearSteps(session, "backup/");
        var executor = new PlanExecutor(options.MaxParallelism, _services.Loggers.CreateLogger<PlanExecutor>());
        var result = await executor.ExecuteAsync(plan, session, _events, cancellationToken).ConfigureAwait(false);
        // A backup is no change to the cluster: its step records are not kept.
        ClearSteps(session, "backup/");
        await session.CheckpointAsync().ConfigureAwait(false);
        if (!result.Succeeded) throw Surface(result, plan, "KsctlBackupFailed");
        var taken = taker.Taken!.Value.Backup;
        _logger.LogInformation("Backup {Backup} of {Cluster}: revision {Revision}, {Size} bytes, kept in {Location}.", taken.Id, id, taken.Revision, taken.Size, taken.Location);
        return taken;
    }

    /// <summary>The cluster's backups, oldest first. A stored description that fails its checks goes to <paramref name="invalid"/> and is skipped.</summary>
    public async Task<IReadOnlyList<EtcdBackup>> ListBackupsAsync(ClusterId id, Action<KsctlException>? invalid, CancellationToken cancellationToken)
    {
        StorePaths.CheckIdentity(id);
        if (TryBackupStore() is not { } backups) return [];
        return await backups.ListAsync(id, ex => invalid?.Invoke(ex), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Deletes one backup of a cluster (Remove-KsctlBackup) and returns what it was. A backup kept in the store loses
    /// its description and its snapshot; one written with -Path loses only its listing (the file is the user's and is
    /// never deleted from a path read back from the store). The backup an unfinished restore is using is refused, so
    /// that the restore can still be resumed.
    /// </summary>
    public async Task<EtcdBackup> RemoveBackupAsync(ClusterId id, string backupId, OperationOptions options, CancellationToken cancellationToken)
    {
        StorePaths.CheckIdentity(id);
        if (!BackupRecord.IsValidId(backupId))
            throw new InvalidSpecException("Id", $"'{ClusterId.Printable(backupId ?? "")}' is not a backup id (like 20261130T184500Z-1a2b3c; see Get-KsctlBackup).");
        var backups = BackupStores.For(Store);
        await using var clusterLock = await Store.AcquireLockAsync(id, "backup-remove", options.BreakStaleLock, cancellationToken).ConfigureAwait(false);
        var state = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        var backup = await backups.GetAsync(id, backupId, cancellationToken).ConfigureAwait(false) ?? throw new BackupNotFoundException(backupId, backups.Description);
        if (state.Resources.TryGetValue(RestoreBackupResource, out var pending) && pending.StartsWith(backupId + ":", StringComparison.Ordinal))
            throw new KsctlException("KsctlBackupInUse", KsctlErrorCategory.InvalidOperation,
                $"Backup {backupId} is the one the unfinished restore of {id} uses; finish it first (Restore-KsctlCluster -Backup {backupId}), then remove the backup.", backupId);
        await backups.DeleteAsync(backup, cancellationToken).ConfigureAwait(false);
        _logger.LogInformation("Backup {Backup} of {Cluster} removed{Where}.", backupId, id, backup.InStore ? "" : $" from the listing (the file {backup.Location} stays)");
        return backup;
    }

    /// <summary>The restore plan for -WhatIf: the backup is read and checked, nothing is touched.</summary>
    public async Task<Plan> PlanRestoreAsync(ClusterId id, string? backupId, string? path, CancellationToken cancellationToken)
    {
        var state = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        await EnsureDay2Async(state, "restore", lockHeld: false, cancellationToken).ConfigureAwait(false);
        var (backup, snapshot) = await LoadBackupAsync(id, backupId, path, cancellationToken).ConfigureAwait(false);
        await using var access = Day2Access(state, OperationOptions.Default);
        var token = ResumableRestoreToken(state, backup) ?? EtcdRestoreSteps.NewToken(id);
        return new Plan("restore", id, EtcdRestoreSteps.Create(state, token, backup, snapshot, access));
    }

    /// <summary>
    /// Restores every etcd member from a backup (by id from Get-KsctlBackup, or a -Path file) as a new etcd cluster,
    /// with the API servers stopped meanwhile. The backup is checked before anything changes; a failed or cancelled
    /// restore leaves the cluster ConfiguringFailed and running it again with the same backup resumes it.
    /// </summary>
    public async Task<ClusterState> RestoreAsync(ClusterId id, string? backupId, string? path, OperationOptions options, CancellationToken cancellationToken)
    {
        _providers.Get(id.Provider, options.Credential);
        var (backup, snapshot) = await LoadBackupAsync(id, backupId, path, cancellationToken).ConfigureAwait(false);
        await using var clusterLock = await Store.AcquireLockAsync(id, "restore", options.BreakStaleLock, cancellationToken).ConfigureAwait(false);
        var state = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        var status = await EnsureDay2Async(state, "restore", lockHeld: true, cancellationToken).ConfigureAwait(false);
        var token = status == ClusterStatus.ConfiguringFailed ? ResumableRestoreToken(state, backup) : null;
        var session = new StateSession(state, Store);
        session.Mutate(s =>
        {
            if (token is null)
            {
                // A new restore: new cluster token, no checkpoints of an earlier one.
                foreach (var key in s.Steps.Keys.Where(k => k.StartsWith("restore/", StringComparison.Ordinal)).ToList()) s.Steps.Remove(key);
                s.Resources[RestoreBackupResource] = RestoreKey(backup);
                s.Resources[RestoreTokenResource] = EtcdRestoreSteps.NewToken(id);
            }
            s.Status = ClusterStatus.Configuring;
            s.LastErrors.Clear();
            MarkDay2Running(s, "restore");
        });
        token = state.Resources[RestoreTokenResource];
        await session.CheckpointAsync().ConfigureAwait(false);
        await using var access = Day2Access(state, options);
        var plan = new Plan("restore", id, EtcdRestoreSteps.Create(state, token, backup, snapshot, access));
        _logger.LogInformation("Restoring {Cluster} from backup {Backup} (revision {Revision}): {Steps} step(s).", id, backup.Id, backup.Revision, plan.Steps.Count);
        await RunDay2Async(plan, session, options, "KsctlRestoreFailed", cancellationToken).ConfigureAwait(false);
        session.Mutate(s =>
        {
            s.Resources.Remove(RestoreBackupResource);
            s.Resources.Remove(RestoreTokenResource);
            s.Resources[EtcdClusterTokenResource] = token;
            foreach (var key in s.Steps.Keys.Where(k => k.StartsWith("restore/", StringComparison.Ordinal)).ToList()) s.Steps.Remove(key);
        });
        await session.CheckpointAsync().ConfigureAwait(false);
        return state;
    }

    private static string RestoreKey(EtcdBackup backup) => $"{backup.Id}:{backup.Sha256}";

    /// <summary>The token of an unfinished restore of this very backup (checked before it reaches a script), else null.</summary>
    private static string? ResumableRestoreToken(ClusterState state, EtcdBackup backup) =>
        state.Resources.TryGetValue(RestoreBackupResource, out var key) && key == RestoreKey(backup)
        && state.Resources.TryGetValue(RestoreTokenResource, out var token) && EtcdRestoreSteps.IsValidToken(token)
            ? token
            : null;

    /// <summary>Reads a backup and checks its bytes against its description and etcd's own hash. Changes nothing.</summary>
    private async Task<(EtcdBackup Backup, byte[] Snapshot)> LoadBackupAsync(ClusterId id, string? backupId, string? path, CancellationToken cancellationToken)
    {
        if ((backupId is null) == (path is null)) throw new InvalidSpecException("Backup", "give either a backup id (-Backup, from Get-KsctlBackup) or a file (-Path).");
        EtcdBackup backup;
        byte[] snapshot;
        if (path is not null)
        {
            (backup, snapshot) = BackupFile.Read(path, StoreProtector());
        }
        else
        {
            var backups = BackupStores.For(Store);
            backup = await backups.GetAsync(id, backupId!, cancellationToken).ConfigureAwait(false) ?? throw new BackupNotFoundException(backupId!, backups.Description);
            if (backup.InStore) snapshot = await backups.ReadSnapshotAsync(backup, cancellationToken).ConfigureAwait(false);
            else
            {
                var (file, bytes) = BackupFile.Read(backup.Location, StoreProtector());
                if (file.Id != backup.Id || file.Sha256 != backup.Sha256) throw new BackupInvalidException(backup.Id, $"the file {backup.Location} holds another snapshot than the one recorded");
                snapshot = bytes;
            }
        }
        if (backup.Cluster != id) throw new BackupInvalidException(backup.Id, $"it was taken from cluster {backup.Cluster}, not {id}");
        if (snapshot.LongLength != backup.Size) throw new BackupInvalidException(backup.Id, $"the snapshot has {snapshot.LongLength} bytes, its description says {backup.Size}");
        if (EtcdSnapshot.Sha256Hex(snapshot) != backup.Sha256) throw new BackupInvalidException(backup.Id, "the snapshot's SHA-256 is not the one recorded when it was taken (it was changed or damaged)");
        if (EtcdSnapshot.Problem(snapshot) is { } problem) throw new BackupInvalidException(backup.Id, problem);
        return (backup, snapshot);
    }

    private IBackupStore? TryBackupStore()
    {
        try { return BackupStores.For(Store); }
        catch (KsctlException ex) when (ex.ErrorId == "KsctlBackupStoreUnavailable") { return null; }
    }

    private ISecretProtector? StoreProtector() => Store switch
    {
        FileStateStore file => file.Protector,
        Storage.AzureBlob.AzureBlobStateStore blob => blob.SecretProtector,
        _ => null,
    };

    private static void ClearSteps(StateSession session, string prefix) =>
        session.Mutate(s => { foreach (var key in s.Steps.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToList()) s.Steps.Remove(key); });

    /// <summary>A failed plan that does not change the status: a refused snapshot or a pinned host key surface as themselves.</summary>
    private static KsctlException Surface(PlanResult result, Plan plan, string errorId)
    {
        var first = result.Failed.FirstOrDefault()?.Error;
        if (first is BackupInvalidException or HostKeyMismatchException) return (KsctlException)first;
        return new PlanFailedException(errorId, plan.Cluster.ToString(), plan.Operation, result.Failed.Select(f => f.ToString()).ToList(), first);
    }

    /// <summary>Day-2 operations on the datastore: self-managed clusters, Running or ConfiguringFailed (a killed operation counts as failed).</summary>
    private async Task<ClusterStatus> EnsureDay2Async(ClusterState state, string operation, bool lockHeld, CancellationToken cancellationToken)
    {
        if (state.Id.Type != ClusterType.SelfManaged)
            throw new OperationNotAllowedException(state.Id.ToString(), operation, $"{state.Status} ({state.Id.Type} clusters keep their datastore in their cloud; only self-managed clusters have an etcd Ksctl runs)");
        var status = state.Status;
        if (StatusRules.IsTransitional(status))
        {
            if (!lockHeld && await Store.LockHolderAsync(state.Id, cancellationToken).ConfigureAwait(false) is { } holder)
                throw new ClusterLockedException(state.Id.ToString(), holder);
            status = StatusRules.AfterInterruption(status);
        }
        if (status is not (ClusterStatus.Running or ClusterStatus.ConfiguringFailed))
            throw new OperationNotAllowedException(state.Id.ToString(), operation, status == state.Status ? status.ToString() : $"{state.Status} (interrupted: {status})");
        return status;
    }

    /// <summary>SSH access to the cluster's machines for one day-2 operation (closed when disposed).</summary>
    private MachineAccess Day2Access(ClusterState state, OperationOptions options)
    {
        if (_providers.Get(state.Id.Provider, options.Credential) is not ISelfManagedProvider machines)
            throw new ProviderNotAvailableException(state.Id.Provider.ToString(), $"Self-managed clusters on {state.Id.Provider} are not available in this version of Ksctl.");
        var factory = _services.RemoteShells(new RemoteShellOptions
        {
            AllowTrustOnFirstUse = state.Spec.TrustOnFirstUse,
            MaxParallelism = options.MaxParallelism,
            ConnectDeadline = options.ConnectDeadline,
        });
        return new MachineAccess(factory, machines.Connection);
    }
}
