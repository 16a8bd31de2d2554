using Ksctl.Core.Distributions;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Remote;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Backup;

/// <summary>
/// The backup plan: take a snapshot on the first healthy member (in index order), bring it here in chunks and check it
/// (etcd's appended SHA-256, the bbolt magic, the size against etcd's status and the limit, the SHA-256 the machine
/// reported against the one computed here), then keep it. A snapshot that fails a check is never kept.
/// </summary>
internal sealed class EtcdSnapshotSteps(MachineAccess access, TimeProvider time)
{
    public const string SnapshotStep = "backup:snapshot";
    public const string KeepStep = "backup:keep";

    /// <summary>The snapshot and its description once <see cref="SnapshotStep"/> ran.</summary>
    public (EtcdBackup Backup, byte[] Bytes)? Taken { get; private set; }

    public IReadOnlyList<PlanStep> Steps(ClusterState state, string location, Func<EtcdBackup, byte[], CancellationToken, Task> keep)
    {
        var members = Members(state);
        return
        [
            new PlanStep(SnapshotStep, (ctx, ct) => TakeAsync(ctx, state.Id, members, location, ct))
            {
                Description = $"take an etcd snapshot on the first healthy member ({string.Join(", ", members.Select(m => m.Key))}) and check it here",
                Resources = ["etcd snapshot (etcdctl snapshot save over TLS)"],
            },
            new PlanStep(KeepStep, (ctx, ct) => keep(Taken!.Value.Backup, Taken.Value.Bytes, ct))
            {
                DependsOn = [SnapshotStep],
                Description = location == EtcdBackup.StoreLocation ? "keep the snapshot in the state store (encrypted with the state key where the store has one)" : $"write the snapshot to {location}",
                Resources = [location == EtcdBackup.StoreLocation ? "backup in the state store" : location],
            },
        ];
    }

    internal static IReadOnlyList<NodeState> Members(ClusterState state) =>
        state.Nodes.Where(n => n.Role == NodeRole.Datastore && n.Key is not null).OrderBy(n => n.Index).ToList();

    private async Task TakeAsync(StepContext ctx, ClusterId cluster, IReadOnlyList<NodeState> members, string location, CancellationToken ct)
    {
        if (members.Count == 0) throw new BackupInvalidException(cluster.ToString(), "the cluster has no etcd member in its state");
        var unhealthy = new List<string>();
        foreach (var member in members)
        {
            IRemoteShell shell;
            try
            {
                shell = await access.ShellAsync(ctx, member.Key!, ct).ConfigureAwait(false);
                await shell.RunAsync(new RemoteScript("etcd:backup-health", BackupScripts.Health(), timeout: TimeSpan.FromMinutes(1)), ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is Diagnostics.RemoteScriptException or Diagnostics.RemoteConnectionException)
            {
                unhealthy.Add($"{member.Key}: {ex.Message}");
                ctx.Logger.LogWarning("etcd member {Member} is not healthy; trying the next one: {Reason}", member.Key, ex.Message);
                continue;
            }
            Taken = (await SaveAsync(shell, cluster, member, location, ct).ConfigureAwait(false));
            return;
        }
        throw new BackupInvalidException(cluster.ToString(), $"no etcd member is healthy ({string.Join("; ", unhealthy)})");
    }

    private async Task<(EtcdBackup, byte[])> SaveAsync(IRemoteShell shell, ClusterId cluster, NodeState member, string location, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var id = BackupRecord.NewId(now);
        try
        {
            var saved = await shell.RunAsync(new RemoteScript("etcd:snapshot-save", BackupScripts.Save(), retries: 1), ct).ConfigureAwait(false);
            var lines = saved.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (lines.Length != 3) throw new BackupInvalidException(id, $"the snapshot save on {member.Key} printed {lines.Length} line(s), not the status, size and SHA-256");
            var status = EtcdSnapshot.ParseStatus(lines[0], id);
            if (!long.TryParse(lines[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var size) || size <= 0)
                throw new BackupInvalidException(id, $"{member.Key} reported no valid snapshot size");
            // Checked before anything is transferred: the machine's word decides nothing but whether to go on.
            if (size > EtcdSnapshot.MaxBytes) throw new BackupInvalidException(id, $"the snapshot has {size} bytes, more than the {EtcdSnapshot.MaxBytes} this version keeps");
            var reported = lines[2].ToLowerInvariant();

            var bytes = new byte[size];
            var chunk = BackupScripts.ChunkMiB * 1024L * 1024L;
            var offset = 0L;
            for (var i = 0; offset < size; i++)
            {
                var part = await shell.RunAsync(new RemoteScript($"etcd:snapshot-read-{i}", BackupScripts.Chunk(i), retries: 2), ct).ConfigureAwait(false);
                byte[] decoded;
                try { decoded = Convert.FromBase64String(part.StandardOutput.Trim()); }
                catch (FormatException) { throw new BackupInvalidException(id, $"part {i} of the snapshot from {member.Key} is not base64"); }
                var expected = Math.Min(chunk, size - offset);
                if (decoded.Length != expected) throw new BackupInvalidException(id, $"part {i} of the snapshot from {member.Key} has {decoded.Length} bytes, not {expected}");
                decoded.CopyTo(bytes, offset);
                offset += decoded.Length;
            }

            if (EtcdSnapshot.Problem(bytes) is { } problem) throw new BackupInvalidException(id, problem);
            var sha = EtcdSnapshot.Sha256Hex(bytes);
            if (sha != reported) throw new BackupInvalidException(id, $"the snapshot received differs from the one {member.Key} saved (SHA-256 {sha}, the machine reported {reported})");
            if (status.TotalSize != size - 32) throw new BackupInvalidException(id, $"etcd's status describes a {status.TotalSize}-byte database, but the snapshot holds {size - 32} bytes");
            var backup = new EtcdBackup
            {
                Cluster = cluster, Id = id, CreatedAt = now, Revision = status.Revision, TotalKeys = status.TotalKeys,
                Size = size, Sha256 = sha, Member = member.Key!, Location = location,
            };
            return (backup, bytes);
        }
        finally
        {
            await shell.RunAsync(new RemoteScript("etcd:snapshot-remove", BackupScripts.RemoveSnapshot(), retries: 1), CancellationToken.None).ConfigureAwait(false);
        }
    }
}
