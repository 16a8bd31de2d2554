using Ksctl.Core.Backup;
using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.TestSupport;

namespace Ksctl.SelfManaged.Tests;

/// <summary>
/// Backup-/Restore-KsctlCluster on the real etcd cluster (Debian's etcd 3.4, 3 members over TLS) of a K3s HA cluster on
/// the test machines: keys written before a backup and deleted after it are back after the restore; a restore cancelled
/// mid-way resumes (and a process killed there is reported with the command that resumes it); a changed or damaged
/// snapshot is refused before anything on the cluster changes. Both run on the shared K3s cluster
/// (<see cref="DayTwoClusters"/>) and leave it Running and healthy.
/// </summary>
[Collection(DayTwoCollection.Name)]
public sealed class EtcdBackupRestoreTests(DayTwoClusters clusters) : IDisposable
{
    private const int Cp0 = 4;
    private readonly string _home = Directory.CreateTempSubdirectory("ksctl-etcd-backup-").FullName;
    private static readonly OperationOptions Options = new() { ConnectDeadline = TimeSpan.FromSeconds(20) };
    private DayTwoMachineSet Machines => clusters.K3s;

    public void Dispose()
    {
        try { Directory.Delete(_home, true); } catch (IOException) { }
    }

    [Fact]
    public async Task Keys_deleted_after_a_backup_are_back_after_the_restore_and_the_backup_is_listed()
    {
        var state = await clusters.AcquireAsync(DistributionKind.K3s);
        using var manager = clusters.Manager();
        var etcd = new EtcdClient(state, Machines);
        etcd.Put("/ksctl-test/a", "alpha");
        etcd.Put("/ksctl-test/b", "beta");
        var earlier = (await manager.ListBackupsAsync(state.Id, null, CancellationToken.None)).Select(b => b.Id).ToList();

        var backup = await manager.BackupAsync(state.Id, null, Options, CancellationToken.None);
        Assert.Equal(EtcdBackup.StoreLocation, backup.Location);
        Assert.Equal("db-0", backup.Member);
        Assert.True(backup.Revision > 0);
        Assert.True(backup.TotalKeys >= 2);
        Assert.Equal(0, (backup.Size - 32) % 512);
        var listed = await manager.ListBackupsAsync(state.Id, null, CancellationToken.None);
        Assert.Equal([.. earlier, backup.Id], listed.Select(b => b.Id));
        Assert.Equal(backup, listed[^1]);
        // Nothing is left on the member, and the backup changed neither status nor step records.
        Assert.Equal("", (await Machines.RunOnAsync(1, "ls -A /var/lib/ksctl/backup 2>/dev/null; true")).Trim());
        var after = await manager.GetAsync(state.Id, CancellationToken.None);
        Assert.Equal(ClusterStatus.Running, after.Status);
        Assert.DoesNotContain(after.Steps.Keys, k => k.StartsWith("backup/"));

        etcd.Put("/ksctl-test/c", "written after the backup");
        etcd.Delete("/ksctl-test/a");
        etcd.Delete("/ksctl-test/b");
        Assert.Null(etcd.Get("/ksctl-test/a"));

        state = await manager.RestoreAsync(state.Id, backup.Id, null, Options, CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Equal("alpha", etcd.Get("/ksctl-test/a"));
        Assert.Equal("beta", etcd.Get("/ksctl-test/b"));
        Assert.Null(etcd.Get("/ksctl-test/c"));
        Assert.Equal(3, etcd.HealthyMembers());
        // A new etcd cluster (new token) from the same members, the old data gone, the API servers running again.
        var token = state.Resources[ClusterManager.EtcdClusterTokenResource];
        Assert.Matches($"^{DayTwoClusters.K3sName}-etcd-[0-9a-f]{{8}}$", token);
        for (var i = 1; i <= 3; i++)
        {
            Assert.Contains($"--initial-cluster-token {token}", await Machines.RunOnAsync(i, "cat /etc/systemd/system/etcd.service"));
            Assert.Equal($".ksctl-restored\nmember", (await Machines.RunOnAsync(i, "ls -A /var/lib/etcd")).Trim());
        }
        for (var i = Cp0; i < Cp0 + 3; i++) Assert.Equal("active", (await Machines.RunOnAsync(i, "systemctl is-active k3s; true")).Trim());
        Assert.DoesNotContain(state.Steps.Keys, k => k.StartsWith("restore/"));
        Assert.False(state.Resources.ContainsKey(ClusterManager.Day2RunningResource));

        // -Path: the snapshot as etcd saved it plus its description, listed with the store's.
        var file = Path.Combine(_home, "bkp.db");
        var written = await manager.BackupAsync(state.Id, file, Options, CancellationToken.None);
        Assert.Equal(file, written.Location);
        Assert.Null(EtcdSnapshot.Problem(File.ReadAllBytes(file)));
        Assert.Contains(written.Sha256, File.ReadAllText(file + ".json"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Equal([.. earlier, backup.Id, written.Id], (await manager.ListBackupsAsync(state.Id, null, CancellationToken.None)).Select(b => b.Id));
        var again = await Assert.ThrowsAsync<InvalidSpecException>(() => manager.BackupAsync(state.Id, file, Options, CancellationToken.None));
        Assert.Equal("Path", again.Parameter);

        // A snapshot changed after it was taken is refused before the cluster is touched: by etcd's own hash in a file,
        // by the recorded SHA-256 in the store.
        var tampered = Path.Combine(_home, "tampered.db");
        var bytes = File.ReadAllBytes(file);
        bytes[5000] ^= 0xFF;
        File.WriteAllBytes(tampered, bytes);
        File.Copy(file + ".json", tampered + ".json");
        var refused = await Assert.ThrowsAsync<BackupInvalidException>(() => manager.RestoreAsync(state.Id, null, tampered, Options, CancellationToken.None));
        Assert.Equal("KsctlBackupInvalid", refused.ErrorId);
        var stored = Path.Combine(((Ksctl.Core.Storage.FileStateStore)manager.Store).ClusterDirectory(state.Id), "backups", backup.Id + ".snapshot");
        var storedBytes = File.ReadAllBytes(stored);
        storedBytes[^1] ^= 0x01;
        File.WriteAllBytes(stored, storedBytes);
        refused = await Assert.ThrowsAsync<BackupInvalidException>(() => manager.RestoreAsync(state.Id, backup.Id, null, Options, CancellationToken.None));
        Assert.Contains("SHA-256", refused.Message);
        var unchanged = await manager.GetAsync(state.Id, CancellationToken.None);
        Assert.Equal(ClusterStatus.Running, unchanged.Status);
        Assert.False(unchanged.Resources.ContainsKey("restore:backup"));
        Assert.Equal(token, (await Machines.RunOnAsync(1, "cat /var/lib/etcd/.ksctl-restored")).Trim());

        // Remove-KsctlBackup's Core: the damaged one goes (description and snapshot), the -Path one only from the listing.
        await manager.RemoveBackupAsync(state.Id, backup.Id, Options, CancellationToken.None);
        await manager.RemoveBackupAsync(state.Id, written.Id, Options, CancellationToken.None);
        Assert.False(File.Exists(stored));
        Assert.True(File.Exists(file));
        Assert.Equal(earlier, (await manager.ListBackupsAsync(state.Id, null, CancellationToken.None)).Select(b => b.Id));
        clusters.Done(DistributionKind.K3s);
    }

    [Fact]
    public async Task A_restore_cancelled_after_etcd_stopped_resumes_and_finishes_without_redoing_done_steps()
    {
        var state = await clusters.AcquireAsync(DistributionKind.K3s);
        var id = state.Id;
        EtcdBackup backup;
        var etcd = new EtcdClient(state, Machines);
        using (var manager = clusters.Manager())
        {
            etcd.Put("/ksctl-test/kept", "yes");
            backup = await manager.BackupAsync(id, null, Options, CancellationToken.None);
            etcd.Delete("/ksctl-test/kept");
        }

        // The state document as the store held it when the swap began: what a process killed there leaves.
        string document;
        using (var manager = clusters.Manager()) document = ((Ksctl.Core.Storage.FileStateStore)manager.Store).DocumentPath(id);
        byte[]? killedThere = null;
        var cts = new CancellationTokenSource();
        var first = new EventLog(e =>
        {
            if (e is not { Kind: KsctlEventKind.StepStarted, Step: "restore:swap:db-1" }) return;
            killedThere = File.ReadAllBytes(document);
            cts.Cancel();
        });
        using (var manager = clusters.Manager(first))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => manager.RestoreAsync(id, backup.Id, null, Options, cts.Token));
            var stopped = await manager.GetAsync(id, CancellationToken.None);
            Assert.Equal(ClusterStatus.ConfiguringFailed, stopped.Status);
            Assert.Contains(stopped.LastErrors, e => e.Contains("cancelled"));

            // Killed instead of cancelled: Get-KsctlCluster names the restore and the command that resumes it.
            var cancelled = File.ReadAllBytes(document);
            File.WriteAllBytes(document, killedThere!);
            var listed = Assert.Single((await manager.ListSummariesAsync(new Ksctl.Core.Storage.ClusterQuery { NameMatches = n => n == id.Name }, CancellationToken.None)).Clusters);
            Assert.Equal(ClusterStatus.ConfiguringFailed, listed.Status);
            Assert.Contains($"The restore was interrupted (no process runs it any more); run Restore-KsctlCluster -Backup {backup.Id} again to resume it.", listed.LastErrors);
            File.WriteAllBytes(document, cancelled);
        }
        var done = first.Completed();
        Assert.Contains("restore:stop-etcd:db-0", done);
        Assert.DoesNotContain(Ksctl.Core.Backup.EtcdRestoreSteps.HealthStep, done);
        Assert.Equal("", (await Machines.RunOnAsync(Cp0, "systemctl is-active k3s >/dev/null && echo running; true")).Trim());

        var second = new EventLog(_ => { });
        using (var manager = clusters.Manager(second))
        {
            state = await manager.RestoreAsync(id, backup.Id, null, Options, CancellationToken.None);
            Assert.Equal(ClusterStatus.Running, state.Status);
            Assert.Empty(second.Started().Intersect(done));
            Assert.Contains(Ksctl.Core.Backup.EtcdRestoreSteps.HealthStep, second.Started());
            Assert.Equal("yes", etcd.Get("/ksctl-test/kept"));
            Assert.Equal(3, etcd.HealthyMembers());
            await manager.RemoveBackupAsync(id, backup.Id, Options, CancellationToken.None);
        }
        clusters.Done(DistributionKind.K3s);
    }

    /// <summary>
    /// Kubeadm's documented restore ("Operating etcd clusters for Kubernetes": stop every API server, restore every
    /// member, start the API servers): kube-apiserver is a static Pod, stopped by moving its manifest out of
    /// /etc/kubernetes/manifests (the kubelet stand-in stops it, crictl no longer lists it) and started by moving it back.
    /// Interrupted once the data swap began: every API server is down then; the re-run finishes and they serve again.
    /// </summary>
    [Fact]
    public async Task A_Kubeadm_restore_stops_the_API_servers_through_their_manifests_and_an_interrupted_one_resumes()
    {
        var machines = clusters.Kubeadm;
        var state = await clusters.AcquireAsync(DistributionKind.Kubeadm);
        var id = state.Id;
        var etcd = new EtcdClient(state, machines);
        EtcdBackup backup;
        using (var manager = clusters.Manager())
        {
            etcd.Put("/ksctl-test/kubeadm", "before");
            backup = await manager.BackupAsync(id, null, Options, CancellationToken.None);
            etcd.Put("/ksctl-test/kubeadm", "after the backup");
        }
        for (var i = Cp0; i < Cp0 + 3; i++) Assert.Equal("200", await ReadyzAsync(machines, i));

        var cts = new CancellationTokenSource();
        var first = new EventLog(e => { if (e is { Kind: KsctlEventKind.StepStarted, Step: "restore:swap:db-0" }) cts.Cancel(); });
        using (var manager = clusters.Manager(first))
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => manager.RestoreAsync(id, backup.Id, null, Options, cts.Token));
        Assert.Contains("restore:stop-apiserver:cp-2", first.Completed());
        for (var i = Cp0; i < Cp0 + 3; i++)
        {
            // Stopped the kubeadm way: the manifest aside, the kubelet stopped the Pod, nothing answers on :6443.
            Assert.Equal("kube-apiserver.yaml", (await machines.RunOnAsync(i, "ls /etc/kubernetes/ksctl-paused")).Trim());
            Assert.DoesNotContain("kube-apiserver.yaml", await machines.RunOnAsync(i, "ls /etc/kubernetes/manifests"));
            Assert.Equal("", (await machines.RunOnAsync(i, "crictl ps --name kube-apiserver -q")).Trim());
            Assert.Equal("000", await ReadyzAsync(machines, i));
            Assert.Contains("static pod kube-apiserver stopped (manifest removed)", await machines.RunOnAsync(i, "cat /var/log/ksctl/kubelet-standin.log"));
        }

        var second = new EventLog(_ => { });
        using (var manager = clusters.Manager(second))
        {
            state = await manager.RestoreAsync(id, backup.Id, null, Options, CancellationToken.None);
            Assert.Equal(ClusterStatus.Running, state.Status);
            Assert.Empty(second.Started().Intersect(first.Completed()));
            Assert.Equal("before", etcd.Get("/ksctl-test/kubeadm"));
            Assert.Equal(3, etcd.HealthyMembers());
            for (var i = Cp0; i < Cp0 + 3; i++)
            {
                Assert.Contains("kube-apiserver.yaml", await machines.RunOnAsync(i, "ls /etc/kubernetes/manifests"));
                Assert.NotEqual("", (await machines.RunOnAsync(i, "crictl ps --name kube-apiserver -q")).Trim());
                Assert.Equal("200", await ReadyzAsync(machines, i));
                Assert.Contains("static pod kube-apiserver started (manifest back)", await machines.RunOnAsync(i, "cat /var/log/ksctl/kubelet-standin.log"));
            }
            // The API answers through the load balancer again, from the restored datastore.
            Assert.Contains(state.Nodes.First(n => n.Key == "wp-0").Hostname!, await machines.RunOnAsync(Cp0, "kubectl --kubeconfig=/etc/kubernetes/admin.conf get nodes --no-headers"));
            await manager.RemoveBackupAsync(id, backup.Id, Options, CancellationToken.None);
        }
        clusters.Done(DistributionKind.Kubeadm);
    }

    private static async Task<string> ReadyzAsync(DayTwoMachineSet machines, int machine) =>
        (await machines.RunOnAsync(machine, "curl -sk --max-time 5 -o /dev/null -w '%{http_code}' https://127.0.0.1:6443/readyz || true")).Trim();

    /// <summary>etcdctl from the test host with the cluster's client certificate.</summary>
    /// <param name="trust">The CA certificates to trust (the state's CA when null).</param>
    internal sealed class EtcdClient(ClusterState state, DayTwoMachineSet machines, string? trust = null)
    {
        private readonly string _endpoints = string.Join(',', machines.Machines.Skip(1).Take(3).Select(m => $"https://{m.Address}:2379"));

        public void Put(string key, string value) => Require("put", key, value);
        public void Delete(string key) => Require("del", key);
        public string? Get(string key) { var v = Require("get", key, "--print-value-only").Trim(); return v.Length == 0 ? null : v; }
        public int HealthyMembers() => Run("endpoint", "health").Output.Split('\n').Count(l => l.Contains("is healthy"));

        private string Require(params string[] args)
        {
            var (code, output) = Run(args);
            Assert.True(code == 0, $"etcdctl {string.Join(' ', args)}: {output}");
            return output;
        }

        private (int Code, string Output) Run(params string[] args)
        {
            var pki = Directory.CreateTempSubdirectory("ksctl-etcd-client-").FullName;
            try
            {
                File.WriteAllText(Path.Combine(pki, "ca.crt"), trust ?? state.Secrets["etcd:ca.crt"]);
                File.WriteAllText(Path.Combine(pki, "client.crt"), state.Secrets["etcd:client.crt"]);
                File.WriteAllText(Path.Combine(pki, "client.key"), state.Secrets["etcd:client.key"]);
                var (code, stdout, stderr) = TestMachineHarness.Run("etcdctl", TimeSpan.FromSeconds(60), new Dictionary<string, string> { ["ETCDCTL_API"] = "3" },
                    [$"--endpoints={_endpoints}", $"--cacert={pki}/ca.crt", $"--cert={pki}/client.crt", $"--key={pki}/client.key", .. args]);
                return (code, stdout + stderr);
            }
            finally { Directory.Delete(pki, true); }
        }
    }

    internal sealed class EventLog(Action<KsctlEvent> onEvent) : IProgress<KsctlEvent>
    {
        private readonly List<KsctlEvent> _events = [];

        public void Report(KsctlEvent value)
        {
            lock (_events) _events.Add(value);
            onEvent(value);
        }

        public IReadOnlyList<string> Completed() => Of(KsctlEventKind.StepCompleted);
        public IReadOnlyList<string> Started() => Of(KsctlEventKind.StepStarted);

        private IReadOnlyList<string> Of(KsctlEventKind kind)
        {
            lock (_events) return _events.Where(e => e.Kind == kind).Select(e => e.Step!).ToList();
        }
    }
}
