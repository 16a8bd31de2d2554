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
/// kubeadm certs renew all (the stand-in takes only what kubeadm v1.33 takes).
/// </summary>
[Collection(HaMachinesCollection.Name)]
public sealed class CertificateRenewalTests(HaMachinesFixture machines) : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("ksctl-certs-").FullName;
    private static readonly OperationOptions Options = new() { ConnectDeadline = TimeSpan.FromSeconds(20) };

    public void Dispose()
    {
        using (var manager = new ClusterManager(KsctlSettings.Load(_home)))
        {
            foreach (var cluster in manager.ListAsync(Ksctl.Core.Storage.ClusterQuery.All, CancellationToken.None).ToBlockingEnumerable().ToList())
            {
                try { manager.DeleteAsync(cluster.Id, Options with { BreakStaleLock = true }, CancellationToken.None).GetAwaiter().GetResult(); }
                catch (KsctlException) { /* the test already failed; the next fixture start resets the machines */ }
            }
        }
        try { Directory.Delete(_home, true); } catch (IOException) { }
    }

    private ClusterSpec Spec(string name, DistributionKind distribution) => new()
    {
        Id = new ClusterId(CloudProvider.BareMetal, ClusterType.SelfManaged, name, "lab"),
        Distribution = distribution,
        Machines = machines.Inventory(),
        WorkerCount = 0,
        ArtifactSource = machines.ArtifactFolder,
    };

    [Fact]
    public async Task Renewal_is_rolling_leaves_etcd_healthy_on_new_certificates_and_moves_the_expiry_dates()
    {
        using var manager = new ClusterManager(KsctlSettings.Load(_home), new Events(_events));
        var state = await manager.CreateAsync(Spec("crt", DistributionKind.K3s), Options, CancellationToken.None);
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
                try { etcd.Put("/ksctl-test/rolling", (++writes).ToString()); }
                catch (Exception ex) { failures.Add(ex.Message); }
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
        Assert.True(failures.Count == 0, $"{failures.Count} of {writes} writes failed during the renewal: {string.Join(" | ", failures.Take(3))}");
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

        await manager.DeleteAsync(state.Id, Options, CancellationToken.None);
    }

    [Fact]
    public async Task Kubeadm_control_planes_run_kubeadm_certs_renew_all_and_the_kubeadm_expiry_is_recorded()
    {
        for (var i = 4; i < 7; i++) await machines.RunOnAsync(i, "rm -f /var/log/ksctl/kubeadm-argv.log");
        using var manager = new ClusterManager(KsctlSettings.Load(_home));
        var state = await manager.CreateAsync(Spec("kcrt", DistributionKind.Kubeadm), Options, CancellationToken.None);
        Assert.False(EtcdCertificateExpiry.Kinds(state).ContainsKey(EtcdCertificateExpiry.Kubeadm));

        state = await manager.RenewCertificatesAsync(state.Id, Options, CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        for (var i = 4; i < 7; i++)
        {
            Assert.Contains("certs renew all", await machines.RunOnAsync(i, "cat /var/log/ksctl/kubeadm-argv.log"));
            Assert.Contains("kube-apiserver.yaml", await machines.RunOnAsync(i, "ls /etc/kubernetes/manifests"));
        }
        var kubeadm = EtcdCertificateExpiry.Kinds(state)[EtcdCertificateExpiry.Kubeadm];
        Assert.InRange(kubeadm, DateTimeOffset.UtcNow.AddDays(360), DateTimeOffset.UtcNow.AddDays(366));
        Assert.DoesNotContain(state.Resources.Keys, k => k.StartsWith("certs:kubeadm-not-after:"));
        Assert.Equal(3, new EtcdBackupRestoreTests.EtcdClient(state, machines).HealthyMembers());
        await manager.DeleteAsync(state.Id, Options, CancellationToken.None);
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

    private sealed class Events(List<KsctlEvent> events) : IProgress<KsctlEvent>
    {
        public void Report(KsctlEvent value) { lock (events) events.Add(value); }
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
