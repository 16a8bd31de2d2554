using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Distributions.Etcd;
using Ksctl.Core.Model;
using Ksctl.TestSupport;

namespace Ksctl.SelfManaged.Tests;

/// <summary>
/// Update-KsctlCertificate's Core on the test machines' real etcd (Debian's 3.4, 3 members over TLS): new member and
/// client certificates go on one member at a time while a client keeps writing through all three endpoints, etcd ends
/// healthy and serving the new certificates, the expiry dates recorded move forward; Kubeadm control planes run
/// kubeadm certs renew all (the stand-in takes only what kubeadm v1.33 takes). Both run on the shared clusters
/// (<see cref="DayTwoClusters"/>) and leave them Running and healthy.
/// </summary>
[Collection(DayTwoCollection.Name)]
public sealed class CertificateRenewalTests(DayTwoClusters clusters)
{
    private static readonly OperationOptions Options = new() { ConnectDeadline = TimeSpan.FromSeconds(20) };

    [Fact]
    public async Task Renewal_is_rolling_leaves_etcd_healthy_on_new_certificates_and_moves_the_expiry_dates()
    {
        var machines = clusters.K3s;
        var state = await clusters.AcquireAsync(DistributionKind.K3s);
        using var manager = clusters.Manager(new Events(_events));
        var before = EtcdCertificateExpiry.Kinds(state);
        Assert.Equal([EtcdCertificateExpiry.EtcdCa, EtcdCertificateExpiry.EtcdClient, EtcdCertificateExpiry.EtcdMember], before.Keys);
        var oldMember = await ServedCertificateAsync(machines.Machines[1].Address);
        var oldK3s = await machines.RunOnAsync(4, "cat /run/ksctl/units/k3s.pid");
        var etcd = new EtcdBackupRestoreTests.EtcdClient(state, machines);

        // A client writes through all three endpoints the whole time: one member down at a time never stops it.
        using var stop = new CancellationTokenSource();
        var failures = new List<string>();
        var writes = 0;
        var writer = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                // etcd's client does not retry a Put whose member went away mid-call (the restart of a rolling renewal);
                // an application retries once, so a write that fails twice is the failure this test looks for.
                var value = (++writes).ToString();
                try { etcd.Put("/ksctl-test/rolling", value); }
                catch (Exception)
                {
                    try { etcd.Put("/ksctl-test/rolling", value); }
                    catch (Exception ex) { failures.Add(ex.Message); }
                }
            }
        });
        try
        {
            state = await manager.RenewCertificatesAsync(state.Id, Options, CancellationToken.None);
        }
        finally
        {
            stop.Cancel();
            await writer;
        }

        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.True(failures.Count == 0, $"{failures.Count} of {writes} writes failed twice during the renewal: {string.Join(" | ", failures.Take(3))}");
        Assert.True(writes > 3);
        Assert.Equal(3, etcd.HealthyMembers());
        // One member at a time: each etcd step started after the previous one finished, the control planes after all of them.
        var order = _events.Where(e => e.Step?.StartsWith("certs:") == true && e.Kind is KsctlEventKind.StepStarted or KsctlEventKind.StepCompleted)
            .Select(e => $"{e.Kind}:{e.Step}").ToList();
        string[] sequence = ["certs:issue", "certs:etcd:db-0", "certs:etcd:db-1", "certs:etcd:db-2", "certs:control-plane:cp-0", "certs:control-plane:cp-1", "certs:control-plane:cp-2", "certs:record"];
        Assert.Equal(sequence.SelectMany(s => new[] { $"StepStarted:{s}", $"StepCompleted:{s}" }).Where(s => s != "StepStarted:certs:issue" && s != "StepStarted:certs:record"),
            order.Where(s => s != "StepStarted:certs:issue" && s != "StepStarted:certs:record"));

        // Every member serves the new certificate, a certificate the state holds; the client certificate changed too.
        for (var i = 1; i <= 3; i++)
        {
            var served = await ServedCertificateAsync(machines.Machines[i].Address);
            Assert.NotEqual(oldMember.Thumbprint, served.Thumbprint);
            Assert.Equal(X509Certificate2.CreateFromPem(state.Secrets["etcd:server.crt"]).Thumbprint, served.Thumbprint);
        }
        Assert.Equal(state.Secrets["etcd:client.crt"].Trim(), (await machines.RunOnAsync(5, "cat /etc/ksctl/etcd/client.crt")).Trim());
        Assert.NotEqual(oldK3s, await machines.RunOnAsync(4, "cat /run/ksctl/units/k3s.pid"));
        var after = EtcdCertificateExpiry.Kinds(state);
        Assert.True(after[EtcdCertificateExpiry.EtcdMember] > before[EtcdCertificateExpiry.EtcdMember]);
        Assert.True(after[EtcdCertificateExpiry.EtcdClient] > before[EtcdCertificateExpiry.EtcdClient]);
        Assert.Equal(before[EtcdCertificateExpiry.EtcdCa], after[EtcdCertificateExpiry.EtcdCa]);
        Assert.Equal(after.Values.Min(), EtcdCertificateExpiry.Of(state));
        var stored = await manager.GetAsync(state.Id, CancellationToken.None);
        Assert.Equal(after, EtcdCertificateExpiry.Kinds(stored));
        Assert.False(stored.Resources.ContainsKey(ClusterManager.Day2RunningResource));
        clusters.Done(DistributionKind.K3s);
    }

    [Fact]
    public async Task The_etcd_CA_is_rotated_without_downtime_the_old_CA_is_dropped_and_its_expiry_moves()
    {
        var machines = clusters.K3s;
        var state = await clusters.AcquireAsync(DistributionKind.K3s);
        var id = state.Id;
        var before = EtcdCertificateExpiry.Kinds(state);
        using var oldCa = X509Certificate2.CreateFromPem(state.Secrets["etcd:ca.crt"]);
        var oldClient = new EtcdBackupRestoreTests.EtcdClient(state, machines);

        // A client writes through all three endpoints the whole time with what the store holds at that moment (the
        // client certificate in force, trusting the CAs in force). etcd's client does not retry a Put whose member went
        // away mid-request (clientv3 retries only what is safe to repeat), so, as an application would, a failed write
        // is tried once more at once: no write may fail twice. Nine member restarts give the first attempt a few chances
        // to meet a restart; what matters is that the cluster is never without a member that takes the write.
        using var stop = new CancellationTokenSource();
        var failures = new List<string>();
        var retried = 0;
        var writes = 0;
        var writer = Task.Run(async () =>
        {
            using var reader = clusters.Manager();
            while (!stop.IsCancellationRequested)
            {
                var now = await reader.GetAsync(id, CancellationToken.None);
                var trust = now.Secrets["etcd:ca.crt"].TrimEnd() + "\n" + (now.Secrets.GetValueOrDefault("etcd:ca-next.crt") ?? "");
                var client = new EtcdBackupRestoreTests.EtcdClient(now, machines, trust);
                var value = (++writes).ToString();
                try { client.Put("/ksctl-test/ca-rotation", value); }
                catch (Exception)
                {
                    retried++;
                    try { client.Put("/ksctl-test/ca-rotation", value); }
                    catch (Exception ex) { failures.Add(ex.Message); }
                }
            }
        });
        using var manager = clusters.Manager(new Events(_events));
        var plan = await manager.PlanRenewCertificatesAsync(id, rotateAuthority: true, CancellationToken.None);
        Assert.Equal("certs:ca:issue", plan.Steps[0].Name);
        try
        {
            state = await manager.RenewCertificatesAsync(id, rotateAuthority: true, Options, CancellationToken.None);
        }
        finally
        {
            stop.Cancel();
            await writer;
        }

        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.True(failures.Count == 0, $"{failures.Count} of {writes} writes failed twice during the rotation: {string.Join(" | ", failures.Take(3))}");
        Assert.True(retried <= writes / 100, $"{retried} of {writes} writes needed a second attempt");
        Assert.True(writes > 3);
        var etcd = new EtcdBackupRestoreTests.EtcdClient(state, machines);
        Assert.Equal(3, etcd.HealthyMembers());
        Assert.Equal(writes.ToString(), etcd.Get("/ksctl-test/ca-rotation"));
        // Trust both everywhere before any new leaf, the old CA dropped everywhere after the last one.
        var started = _events.Where(e => e.Kind == KsctlEventKind.StepStarted && e.Step!.StartsWith("certs:")).Select(e => e.Step!).ToList();
        Assert.Equal(plan.Steps.Select(s => s.Name), started);
        Assert.True(started.IndexOf("certs:ca-trust:control-plane:cp-2") < started.IndexOf("certs:issue"));
        Assert.True(started.IndexOf("certs:control-plane:cp-2") < started.IndexOf("certs:ca-drop:etcd:db-0"));

        // A new CA: every member and control plane trusts it alone, every member serves a certificate it issued.
        using var newCa = X509Certificate2.CreateFromPem(state.Secrets["etcd:ca.crt"]);
        Assert.NotEqual(oldCa.Thumbprint, newCa.Thumbprint);
        Assert.False(state.Secrets.ContainsKey("etcd:ca-next.crt"));
        Assert.DoesNotContain(state.Resources.Keys, k => k is "certs:rotate-ca" || k == ClusterManager.Day2RunningResource);
        for (var i = 1; i <= 3; i++)
        {
            Assert.Equal(state.Secrets["etcd:ca.crt"].Trim(), (await machines.RunOnAsync(i, "cat /etc/etcd/pki/ca.crt")).Trim());
            using var served = await ServedCertificateAsync(machines.Machines[i].Address);
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(newCa);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            Assert.True(chain.Build(served), $"db-{i - 1} serves a certificate the new CA did not issue");
        }
        for (var i = 4; i < 7; i++) Assert.Equal(state.Secrets["etcd:ca.crt"].Trim(), (await machines.RunOnAsync(i, "cat /etc/ksctl/etcd/ca.crt")).Trim());
        // The old CA is gone: its client certificate is refused now.
        Assert.Equal(0, oldClient.HealthyMembers());
        var after = EtcdCertificateExpiry.Kinds(state);
        Assert.True(after[EtcdCertificateExpiry.EtcdCa] > before[EtcdCertificateExpiry.EtcdCa]);
        Assert.True(after[EtcdCertificateExpiry.EtcdMember] > before[EtcdCertificateExpiry.EtcdMember]);
        Assert.Equal(after, EtcdCertificateExpiry.Kinds(await manager.GetAsync(id, CancellationToken.None)));
        clusters.Done(DistributionKind.K3s);
    }

    [Fact]
    public async Task Kubeadm_control_planes_run_kubeadm_certs_renew_all_and_the_kubeadm_expiry_is_recorded()
    {
        var machines = clusters.Kubeadm;
        var state = await clusters.AcquireAsync(DistributionKind.Kubeadm);
        for (var i = 4; i < 7; i++) await machines.RunOnAsync(i, "rm -f /var/log/ksctl/kubeadm-argv.log");
        using var manager = clusters.Manager();
        var recorded = EtcdCertificateExpiry.Kinds(state).GetValueOrDefault(EtcdCertificateExpiry.Kubeadm);

        // A renewal killed mid-way is reported with the command that resumes it, not as a resize.
        var document = ((Ksctl.Core.Storage.FileStateStore)manager.Store).DocumentPath(state.Id);
        byte[]? killedThere = null;
        using (var watcher = clusters.Manager(new Events(_events, e =>
               {
                   if (e is { Kind: KsctlEventKind.StepStarted, Step: "certs:control-plane:cp-0" }) killedThere = File.ReadAllBytes(document);
               })))
            state = await watcher.RenewCertificatesAsync(state.Id, Options, CancellationToken.None);
        var finished = File.ReadAllBytes(document);
        File.WriteAllBytes(document, killedThere!);
        var listed = Assert.Single((await manager.ListSummariesAsync(new Ksctl.Core.Storage.ClusterQuery { NameMatches = n => n == state.Id.Name }, CancellationToken.None)).Clusters);
        Assert.Contains("The certificate renewal was interrupted (no process runs it any more); run Update-KsctlCertificate again to resume it.", listed.LastErrors);
        File.WriteAllBytes(document, finished);

        Assert.Equal(ClusterStatus.Running, state.Status);
        for (var i = 4; i < 7; i++)
        {
            Assert.Contains("certs renew all", await machines.RunOnAsync(i, "cat /var/log/ksctl/kubeadm-argv.log"));
            Assert.Contains("kube-apiserver.yaml", await machines.RunOnAsync(i, "ls /etc/kubernetes/manifests"));
        }
        var kubeadm = EtcdCertificateExpiry.Kinds(state)[EtcdCertificateExpiry.Kubeadm];
        Assert.InRange(kubeadm, DateTimeOffset.UtcNow.AddDays(360), DateTimeOffset.UtcNow.AddDays(366));
        Assert.NotEqual(recorded, kubeadm);
        Assert.DoesNotContain(state.Resources.Keys, k => k.StartsWith("certs:kubeadm-not-after:"));
        Assert.Equal(3, new EtcdBackupRestoreTests.EtcdClient(state, machines).HealthyMembers());
        clusters.Done(DistributionKind.Kubeadm);
    }

    [Theory]
    [InlineData("certs renew all --use-api", "unknown flag: --use-api")]
    [InlineData("certs renew everything", "unknown command \"everything\"")]
    [InlineData("certs renew", "not meant to be run on its own")]
    [InlineData("certs check-expiry", "unknown command")]
    public void The_kubeadm_stand_in_refuses_what_kubeadm_certs_renew_refuses(string args, string message)
    {
        var (code, _, error) = TestMachineHarness.Run("unshare", TimeSpan.FromSeconds(60),
            ["--mount", "--propagation", "private", "sh", "-c",
             "mount -t tmpfs tmpfs /var/log && mount -t tmpfs tmpfs /var/lib && mount -t tmpfs tmpfs /run && exec bash \"$0\" \"$@\"",
             Path.Combine(TestMachineHarness.StandIns, "kubeadm"), .. args.Split(' ')]);
        Assert.NotEqual(0, code);
        Assert.Contains(message, error);
    }

    private readonly List<KsctlEvent> _events = [];

    private sealed class Events(List<KsctlEvent> events, Action<KsctlEvent>? also = null) : IProgress<KsctlEvent>
    {
        public void Report(KsctlEvent value)
        {
            lock (events) events.Add(value);
            also?.Invoke(value);
        }
    }

    private static async Task<X509Certificate2> ServedCertificateAsync(string host)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(host, 2379);
        await using var tls = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        // etcd asks for a client certificate (--client-cert-auth) but the handshake completes before it checks one.
        try { await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = host }); }
        catch (Exception) when (tls.RemoteCertificate is not null) { }
        return new X509Certificate2(tls.RemoteCertificate!);
    }
}
