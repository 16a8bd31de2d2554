using System.Management.Automation;
using System.Security.Cryptography;
using System.Text.Json;
using Xunit;

namespace Ksctl.PowerShell.Tests;

/// <summary>
/// Backup-KsctlCluster, Get-KsctlBackup and Restore-KsctlCluster through the engine: parameter rules, -WhatIf plans that
/// touch nothing, pipeline binding from a backup object, and a damaged snapshot refused before any plan. The real
/// backups and restores run on the test machines (Ksctl.SelfManaged.Tests, EtcdBackupRestoreTests).
/// </summary>
[Collection(PowerShellCollection.Name)]
public sealed class BackupCmdletTests
{
    private const string BackupId = "20261130T184500Z-1a2b3c";

    [Fact]
    public void WhatIf_prints_the_backup_and_the_restore_plans_and_changes_nothing()
    {
        using var session = new KsctlSession();
        ImportBareMetalCluster(session, "lab");
        var file = WriteBackupFile(session, "lab");
        var before = StateBytes(session);

        var backup = session.RunClean("Backup-KsctlCluster lab -WhatIf");
        Assert.Empty(backup.Output);
        Assert.Contains("backup:snapshot", backup.HostText);
        Assert.Contains("first healthy member (db-0, db-1, db-2)", backup.HostText);
        Assert.Contains("keep the snapshot in the state store", backup.HostText);

        var restore = session.RunClean($"Restore-KsctlCluster lab -Path '{file}' -WhatIf");
        Assert.Empty(restore.Output);
        var text = restore.HostText;
        foreach (var step in new[] { "restore:prepare:db-0", "restore:stop-apiserver:cp-0", "restore:stop-etcd:db-2", "restore:swap:db-1", "restore:start-etcd:db-0", "restore:etcd-health", "restore:start-apiserver:cp-2", "restore:cleanup:db-2" })
            Assert.Contains(step, text);
        Assert.True(text.IndexOf("restore:stop-apiserver:cp-0", StringComparison.Ordinal) < text.IndexOf("restore:stop-etcd:db-0", StringComparison.Ordinal));
        Assert.True(text.IndexOf("restore:etcd-health", StringComparison.Ordinal) < text.IndexOf("restore:start-apiserver:cp-0", StringComparison.Ordinal));
        Assert.Equal(before, StateBytes(session));
        Assert.DoesNotContain(session.StateFiles(), f => f.Contains("backups"));
    }

    [Fact]
    public void A_listed_backup_pipes_into_Restore_KsctlCluster()
    {
        using var session = new KsctlSession();
        ImportBareMetalCluster(session, "lab");
        var file = WriteBackupFile(session, "lab");
        // The store's record of a -Path backup, as Backup-KsctlCluster -Path leaves it.
        var index = Path.Combine(Path.GetDirectoryName(Assert.Single(session.StateFiles(), f => f.EndsWith("state.json")))!, "backups");
        Directory.CreateDirectory(index);
        File.Copy(file + ".json", Path.Combine(index, BackupId + ".json"));

        var listed = session.RunClean("Get-KsctlBackup -Name l*");
        dynamic b = listed.Single();
        Assert.Equal(BackupId, (string)b.Id);
        Assert.Equal("lab", (string)b.Name);
        Assert.Equal(file, (string)b.Location);
        Assert.Equal(42L, (long)b.Revision);
        Assert.Equal("Ksctl.PowerShell.Models.KsctlBackup", ((PSObject)listed.Output[0]).BaseObject.GetType().FullName);

        var restore = session.RunClean("Get-KsctlBackup lab | Restore-KsctlCluster -WhatIf");
        Assert.Contains($"from {BackupId}", restore.HostText);
        Assert.Contains("restore:swap:db-0", restore.HostText);
        Assert.Empty(session.RunClean($"Get-KsctlBackup lab -Id 20200101T000000Z-000000").Output);
    }

    [Theory]
    [InlineData("", "KsctlInvalidSpec", "-Backup")]
    [InlineData("-Backup " + BackupId + " -Path x.db", "KsctlInvalidSpec", "not both")]
    [InlineData("-Backup 20261130T184500Z-1a2b3c", "KsctlBackupNotFound", BackupId)]
    [InlineData("-Backup latest", "ParameterArgumentValidationError", "latest")]
    public void Restore_needs_exactly_one_valid_backup_and_changes_nothing_otherwise(string parameters, string errorId, string message)
    {
        using var session = new KsctlSession();
        ImportBareMetalCluster(session, "lab");
        var before = StateBytes(session);
        var result = session.Run($"Restore-KsctlCluster lab {parameters} -Force");
        var error = Assert.Single(result.Errors);
        Assert.StartsWith(errorId + ",", error.FullyQualifiedErrorId);
        Assert.Contains(message, error.Exception.Message);
        Assert.Empty(result.Output);
        Assert.Equal(before, StateBytes(session));
    }

    [Fact]
    public void A_damaged_snapshot_file_is_refused_before_any_plan_and_backups_are_refused_where_they_cannot_work()
    {
        using var session = new KsctlSession();
        ImportBareMetalCluster(session, "lab");
        var file = WriteBackupFile(session, "lab");
        var bytes = File.ReadAllBytes(file);
        bytes[100] ^= 0x10;
        File.WriteAllBytes(file, bytes);
        var damaged = session.Run($"Restore-KsctlCluster lab -Path '{file}' -WhatIf");
        var error = Assert.Single(damaged.Errors);
        Assert.StartsWith("KsctlBackupInvalid,", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidData, error.CategoryInfo.Category);
        Assert.Equal("", damaged.HostText.Trim());

        // -Path never overwrites; a managed cluster has no etcd of ours; a literal name must exist.
        var exists = session.Run($"Backup-KsctlCluster lab -Path '{file}' -WhatIf");
        Assert.StartsWith("KsctlInvalidSpec,", Assert.Single(exists.Errors).FullyQualifiedErrorId);
        Assert.Contains("-Path", exists.Errors[0].Exception.Message);
        session.RunClean("New-KsctlCluster kind1 -Provider Local");
        var managed = session.Run("Backup-KsctlCluster kind1");
        Assert.StartsWith("KsctlOperationNotAllowed,", Assert.Single(managed.Errors).FullyQualifiedErrorId);
        var missing = session.Run("Get-KsctlBackup -Name nosuch");
        Assert.StartsWith("KsctlClusterNotFound,", Assert.Single(missing.Errors).FullyQualifiedErrorId);
        Assert.Empty(session.RunClean("Get-KsctlBackup -Name nosuch*").Output);
    }

    [Fact]
    public void Remove_KsctlBackup_deletes_store_backups_forgets_Path_ones_keeps_their_files_and_refuses_what_it_must()
    {
        using var session = new KsctlSession();
        ImportBareMetalCluster(session, "lab");
        var file = WriteBackupFile(session, "lab");
        var index = Path.Combine(Path.GetDirectoryName(Assert.Single(session.StateFiles(), f => f.EndsWith("state.json")))!, "backups");
        Directory.CreateDirectory(index);
        File.Copy(file + ".json", Path.Combine(index, BackupId + ".json"));
        const string StoreId = "20261201T090000Z-abcdef";
        WriteStoreBackup(session, index, "lab", StoreId);
        Assert.Equal([BackupId, StoreId], session.RunClean("Get-KsctlBackup lab").Output.Select(o => (string)((dynamic)o).Id));

        // -WhatIf: one line per backup, nothing removed.
        var whatIf = session.RunClean("Get-KsctlBackup lab | Remove-KsctlBackup -WhatIf");
        Assert.Contains($"the listing of backup {BackupId}", whatIf.HostText);
        Assert.Contains($"backup {StoreId} of cluster", whatIf.HostText);
        Assert.Equal(3, Directory.GetFiles(index).Length);

        // An id the cluster does not have, and a malformed one: errors naming them, nothing removed.
        var missing = session.Run("Remove-KsctlBackup lab -Id 20200101T000000Z-000000 -Force");
        Assert.StartsWith("KsctlBackupNotFound,", Assert.Single(missing.Errors).FullyQualifiedErrorId);
        var malformed = session.Run("Remove-KsctlBackup lab -Id latest -Force");
        Assert.StartsWith("ParameterArgumentValidationError,", Assert.Single(malformed.Errors).FullyQualifiedErrorId);
        Assert.Equal(3, Directory.GetFiles(index).Length);

        // Piped from Get-KsctlBackup: both go; the store's files are deleted, the -Path file and its description stay.
        var removed = session.RunClean("Get-KsctlBackup lab | Remove-KsctlBackup -Confirm:$false -PassThru");
        Assert.Equal([BackupId, StoreId], removed.Output.Select(o => (string)((dynamic)o).Id));
        Assert.Empty(Directory.GetFiles(index));
        Assert.True(File.Exists(file) && File.Exists(file + ".json"));
        Assert.Empty(session.RunClean("Get-KsctlBackup lab").Output);
    }

    [Fact]
    public void The_backup_an_unfinished_restore_uses_is_not_removed()
    {
        using var session = new KsctlSession();
        const string StoreId = "20261201T090000Z-abcdef";
        var snapshot = Snapshot();
        var sha = Convert.ToHexString(SHA256.HashData(snapshot)).ToLowerInvariant();
        ImportBareMetalCluster(session, "lab", new Dictionary<string, string> { ["restore:backup"] = $"{StoreId}:{sha}", ["restore:token"] = "lab-etcd-0a1b2c3d" });
        var index = Path.Combine(Path.GetDirectoryName(Assert.Single(session.StateFiles(), f => f.EndsWith("state.json")))!, "backups");
        WriteStoreBackup(session, index, "lab", StoreId, snapshot);

        var refused = session.Run($"Remove-KsctlBackup lab -Id {StoreId} -Force");
        var error = Assert.Single(refused.Errors);
        Assert.StartsWith("KsctlBackupInUse,", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidOperation, error.CategoryInfo.Category);
        Assert.Contains($"Restore-KsctlCluster -Backup {StoreId}", error.Exception.Message);
        Assert.Equal(2, Directory.GetFiles(index).Length);
    }

    private static byte[] StateBytes(KsctlSession session) => File.ReadAllBytes(Assert.Single(session.StateFiles(), f => f.EndsWith("state.json") && f.Contains("lab")));

    /// <summary>
    /// A minimal file in the shape etcd's snapshot save writes (bbolt meta magic 0xED0CDAED at offset 16, whole 4 KiB
    /// pages, the SHA-256 of the rest appended) and its description, as Backup-KsctlCluster -Path writes them.
    /// </summary>
    private static string WriteBackupFile(KsctlSession session, string cluster)
    {
        var snapshot = Snapshot();
        var file = Path.Combine(session.Root, "lab-etcd.db");
        File.WriteAllBytes(file, snapshot);
        File.WriteAllText(file + ".json", Description(cluster, BackupId, snapshot, file));
        return file;
    }

    /// <summary>A backup kept in a file store without a state key, as Backup-KsctlCluster leaves it (plain 0600 files).</summary>
    private static void WriteStoreBackup(KsctlSession session, string index, string cluster, string id, byte[]? snapshot = null)
    {
        snapshot ??= Snapshot();
        Directory.CreateDirectory(index);
        File.WriteAllBytes(Path.Combine(index, id + ".snapshot"), snapshot);
        File.WriteAllText(Path.Combine(index, id + ".json"), Description(cluster, id, snapshot, "store"));
    }

    private static byte[] Snapshot()
    {
        var body = new byte[4 * 4096];
        BitConverter.GetBytes(0xED0CDAEDu).CopyTo(body, 16);
        RandomNumberGenerator.Fill(body.AsSpan(4096));
        return body.Concat(SHA256.HashData(body)).ToArray();
    }

    private static string Description(string cluster, string id, byte[] snapshot, string location) => JsonSerializer.Serialize(new
    {
        backup = new
        {
            cluster = new { provider = "BareMetal", type = "SelfManaged", name = cluster, region = "baremetal" },
            id, createdAt = DateTimeOffset.ParseExact(id[..16], "yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal),
            revision = 42L, totalKeys = 7L, size = (long)snapshot.Length,
            sha256 = Convert.ToHexString(SHA256.HashData(snapshot)).ToLowerInvariant(), member = "db-0", location,
        },
        encoding = "none",
    });

    /// <summary>A Running K3s HA cluster on BareMetal in the store (an export of one, imported): nothing connects to its machines.</summary>
    internal static void ImportBareMetalCluster(KsctlSession session, string name, Dictionary<string, string>? resources = null)
    {
        var key = Path.Combine(session.Root, "id_ed25519");
        File.WriteAllText(key, "not read: nothing connects");
        string[] roles = ["LoadBalancer", "Datastore", "Datastore", "Datastore", "ControlPlane", "ControlPlane", "ControlPlane"];
        string[] keys = ["lb", "db-0", "db-1", "db-2", "cp-0", "cp-1", "cp-2"];
        var id = new { provider = "BareMetal", type = "SelfManaged", name, region = "baremetal" };
        var machines = roles.Select((r, i) => new
        {
            address = $"192.0.2.{10 + i}", port = 22, user = "root", keyPath = key, role = r,
            hostKey = "SHA256:" + Convert.ToBase64String(SHA256.HashData([(byte)i])).TrimEnd('='),
        }).ToArray();
        var nodes = roles.Select((r, i) => new { name = $"{name}-vm-{keys[i]}", key = keys[i], role = r, index = i == 0 ? 0 : (i - 1) % 3, privateIP = $"192.0.2.{10 + i}", publicIP = $"192.0.2.{10 + i}" }).ToArray();
        var now = DateTimeOffset.UtcNow;
        var state = new
        {
            schemaVersion = 1, id,
            spec = new { id, distribution = "K3s", controlPlaneCount = 3, etcdCount = 3, workerCount = 0, applications = Array.Empty<string>(), machines, trustOnFirstUse = false },
            status = "Running", distribution = "K3s", createdAt = now, updatedAt = now,
            nodes, resources = resources ?? new Dictionary<string, string>(), secrets = new Dictionary<string, string>(),
            steps = new Dictionary<string, object>(), lastErrors = Array.Empty<string>(),
        };
        var probe = Path.Combine(session.Root, "probe.json");
        session.RunClean("New-KsctlCluster probe -Provider Local");
        session.RunClean($"Export-KsctlState -Name probe -Path '{probe}' -KeyPath '{probe}.key' -WarningAction SilentlyContinue");
        session.RunClean("Remove-KsctlCluster probe -Force");
        var format = JsonDocument.Parse(File.ReadAllText(probe)).RootElement.GetProperty("format").GetString()!;
        var file = Path.Combine(session.Root, $"{name}.export.json");
        File.WriteAllText(file, JsonSerializer.Serialize(new { format, version = 1, exportedAt = now, clusters = new[] { state } }));
        session.RunClean($"Import-KsctlState -LiteralPath '{file}'");
    }
}
