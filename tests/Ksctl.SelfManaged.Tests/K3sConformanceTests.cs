using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Distributions.Etcd;
using Ksctl.Core.Model;

namespace Ksctl.SelfManaged.Tests;

/// <summary>
/// Issue #11 items 1-3 and 8 on the test machines, against stand-ins that refuse what k3s v1.33 and systemd would:
/// the units as k3s's installer writes them, agents on the agent token, a kubeconfig read only when whole, HAProxy
/// routing only to a server whose /readyz answers, and a removal that leaves no shim, mount or file behind.
/// </summary>
[Collection(HaMachinesCollection.Name)]
public sealed class K3sConformanceTests(HaMachinesFixture machines) : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("ksctl-k3sconf-home-").FullName;
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

    private ClusterSpec Spec(string name, int workers) => new()
    {
        Id = new ClusterId(CloudProvider.BareMetal, ClusterType.SelfManaged, name, "lab"),
        Distribution = DistributionKind.K3s,
        Machines = machines.Inventory(),
        WorkerCount = workers,
        ArtifactSource = machines.ArtifactFolder,
    };

    [Fact]
    public async Task Agents_join_with_the_agent_token_HAProxy_follows_readyz_and_removal_leaves_no_shim_mount_or_file()
    {
        using var manager = new ClusterManager(KsctlSettings.Load(_home));
        var state = await manager.CreateAsync(Spec("conf", workers: 1), Options, CancellationToken.None);
        Assert.Equal(ClusterStatus.Running, state.Status);

        // Item 3: agents hold the agent token (K10<hash>::node:<secret>), never the server token.
        var agentToken = state.Secrets["k3s:agent-token"];
        Assert.Matches("^K10[0-9a-f]+::node:[0-9a-f]{64}$", agentToken);
        Assert.Equal(agentToken, (await machines.RunOnAsync(7, "cat /etc/ksctl/k3s-token")).Trim());
        Assert.DoesNotContain("::server:", await machines.RunOnAsync(7, "cat /etc/ksctl/k3s-token"));
        foreach (var cp in new[] { 4, 5, 6 })
            Assert.Contains("--agent-token-file=/etc/ksctl/k3s-agent-token", await machines.RunOnAsync(cp, "cat /var/lib/rancher/k3s/server/standin-args"));

        // Item 3: the kubeconfig was read whole although the stand-in writes it in two parts.
        Assert.Contains("client-key-data:", state.Secrets[ClusterState.KubeconfigSecret]);

        // Item 8: the etcd certificates' expiry is in the state (a year from now, within a day).
        var expiry = EtcdCertificateExpiry.Of(state);
        Assert.NotNull(expiry);
        Assert.InRange(expiry!.Value, DateTimeOffset.UtcNow.AddDays(364), DateTimeOffset.UtcNow.AddDays(366));
        Assert.False(EtcdCertificateExpiry.IsDueSoon(state, DateTimeOffset.UtcNow));
        Assert.True(EtcdCertificateExpiry.IsDueSoon(state, expiry.Value.AddDays(-29)));

        // Item 3: a server whose /readyz fails gets no traffic; once it answers again, it gets traffic again.
        var lb = machines.Machines[0].Address;
        var cp1 = $"k3s-standin-{machines.Machines[5].Address}";
        Assert.True(await SeenWithinAsync(lb, cp1, attempts: 60), "cp-1 never served through the load balancer");
        await machines.RunOnAsync(5, Respond("503 Service Unavailable", "[-]etcd failed"));
        Assert.True(await UnseenForAsync(lb, cp1, run: 15, attempts: 200), "HAProxy kept sending traffic to cp-1 whose /readyz fails");
        for (var i = 0; i < 15; i++) Assert.NotEqual(cp1, await PeerCommonNameAsync(lb, 6443));
        await machines.RunOnAsync(5, Respond("200 OK", "ok"));
        Assert.True(await SeenWithinAsync(lb, cp1, attempts: 200), "cp-1 did not get traffic back once /readyz answered");

        // Item 2: the nodes run pods' shims and mounts; after Remove none is left, nor any file.
        Assert.NotEqual("", (await machines.RunOnAsync(7, ShimsScript)).Trim());
        Assert.Contains("/var/lib/kubelet/pods", await machines.RunOnAsync(7, "cat /proc/self/mounts"));
        await manager.DeleteAsync(state.Id, Options, CancellationToken.None);
        foreach (var i in new[] { 4, 5, 6, 7 })
        {
            Assert.Equal("", (await machines.RunOnAsync(i, ShimsScript)).Trim());
            Assert.DoesNotContain("/var/lib/kubelet/pods", await machines.RunOnAsync(i, "cat /proc/self/mounts"));
            Assert.Equal("", (await machines.RunOnAsync(i,
                "find /var/lib/rancher /etc/rancher /var/lib/kubelet /etc/ksctl -mindepth 1 2>/dev/null; ls /usr/local/bin/k3s /usr/local/bin/k3s-killall.sh /usr/local/bin/k3s-uninstall.sh /usr/local/bin/k3s-agent-uninstall.sh 2>/dev/null; true")).Trim());
        }
    }

    /// <summary>The containerd shims (stand-in) running in this machine's mount namespace.</summary>
    private const string ShimsScript =
        "self=$(readlink /proc/self/ns/mnt); for p in /proc/[0-9]*; do a=$(tr '\\0' ' ' < $p/cmdline 2>/dev/null) || continue; " +
        "case \"$a\" in /var/lib/rancher/k3s/data/*containerd-shim*) [ \"$(readlink $p/ns/mnt 2>/dev/null)\" = \"$self\" ] && echo \"${p#/proc/} $a\" ;; esac; done; true";

    [Fact]
    public async Task The_systemctl_shim_refuses_k3s_and_etcd_units_without_the_upstream_directives()
    {
        // A k3s unit as Ksctl wrote it before issue #11: no Type=notify, KillMode=process, Delegate, limits, timeouts.
        const string OldK3s = "[Unit]\nDescription=k3s\nAfter=network-online.target\n\n[Service]\nExecStart=/bin/sleep 60\nRestart=always\nLimitNOFILE=1048576\n";
        const string OldEtcd = "[Unit]\nDescription=etcd\nAfter=network-online.target\n\n[Service]\nExecStart=/bin/sleep 60\nRestart=always\nType=notify\n";
        var k3s = await machines.RunOnAsync(8, Install("k3s", OldK3s) + "systemctl start k3s 2>&1; echo \"exit=$?\"; systemctl is-active k3s; true");
        Assert.Contains("refusing k3s.service", k3s);
        Assert.Contains("Type=notify", k3s);
        Assert.Contains("exit=1", k3s);
        Assert.Contains("inactive", k3s);
        var etcd = await machines.RunOnAsync(8, Install("etcd", OldEtcd) + "systemctl start etcd 2>&1; echo \"exit=$?\"; true");
        Assert.Contains("refusing etcd.service", etcd);
        Assert.Contains("TimeoutStartSec=0", etcd);
        Assert.Contains("exit=1", etcd);

        // Ksctl's own units start, and KillMode=process leaves a child of the unit running on stop (as systemd does).
        var unit = Ksctl.Core.Distributions.K3s.K3sDistribution.ServerUnit(["https://10.0.0.2:2379"], "10.0.0.1", "10.0.0.1", null, null)
            .Replace("/usr/local/bin/k3s \\\n    server \\\n", "/bin/bash \\\n    -c \\\n    'sleep 300 & exec sleep 301' \\\n    ignored \\\n")
            .Split('\n').Where(l => !l.StartsWith("    '--", StringComparison.Ordinal)).Aggregate((a, b) => a + "\n" + b);
        var run = await machines.RunOnAsync(8, Install("k3s", unit) + "systemctl start k3s; systemctl is-active k3s; pid=$(cat /run/ksctl/units/k3s.pid); " +
            "sleep_child=$(ps -o pid= --ppid \"$pid\" | tr -d ' '); systemctl stop k3s; kill -0 \"$sleep_child\" && echo child-survives; kill \"$sleep_child\"; true");
        Assert.Contains("active", run);
        Assert.Contains("child-survives", run);
        await machines.RunOnAsync(8, "rm -f /etc/systemd/system/k3s.service /etc/systemd/system/etcd.service; true");
    }

    [Fact]
    public async Task The_k3s_stand_in_refuses_flags_k3s_v1_33_does_not_have_and_an_agent_with_the_server_token()
    {
        await machines.RunOnAsync(9, $"mkdir -p /tmp/standin && cp /dev/null /tmp/standin/x; true");
        var bin = await File.ReadAllBytesAsync(Path.Combine(Ksctl.TestSupport.TestMachineHarness.StandIns, "k3s"));
        var shellFactory = new Ksctl.Core.Remote.SshRemoteShellFactory(new Ksctl.Core.Remote.RemoteShellOptions { ConnectDeadline = TimeSpan.FromSeconds(20) });
        await using (var shell = await shellFactory.ConnectAsync(machines.Machines[9].ToRemote()))
            await shell.UploadAsync(bin, "/usr/local/bin/k3s", (UnixFileMode)0b111_101_101);
        var output = await machines.RunOnAsync(9, """
            printf 'K10abc::server:secret' > /tmp/standin/server-token
            k3s agent --server=https://127.0.0.1:6443 --token-file=/tmp/standin/server-token 2>&1; echo "exit=$?"
            k3s server --no-deploy=traefik 2>&1; echo "exit=$?"
            k3s server --datastore-endpoint=https://x:2379 --made-up-flag 2>&1; echo "exit=$?"
            k3s agent --server=https://127.0.0.1:6443 --token-file=/tmp/standin/server-token --datastore-endpoint=https://x:2379 2>&1; echo "exit=$?"
            k3s server --flannel-backend=wireguard 2>&1; echo "exit=$?"
            rm -rf /tmp/standin /usr/local/bin/k3s
            """);
        Assert.Contains("agents join with the agent token", output);
        Assert.Contains("-no-deploy (removed; use --disable)", output);
        Assert.Contains("flag provided but not defined: -made-up-flag", output);
        Assert.Contains("agent: flag provided but not defined: -datastore-endpoint", output);
        Assert.Contains("wireguard was removed", output);
        Assert.Equal(5, output.Split('\n').Count(l => l == "exit=1"));
    }

    /// <summary>What the stand-in's apiserver answers to GET /readyz from now on.</summary>
    private static string Respond(string status, string body) =>
        $"printf 'HTTP/1.0 {status}\\r\\nContent-Type: text/plain\\r\\nContent-Length: {body.Length}\\r\\n\\r\\n%s' '{body}' > /var/lib/rancher/k3s/server/www/readyz\n";

    private static string Install(string unit, string text) =>
        $"cat > /etc/systemd/system/{unit}.service <<'UNIT'\n{text}\nUNIT\n";

    private static async Task<bool> SeenWithinAsync(string lb, string name, int attempts)
    {
        for (var i = 0; i < attempts; i++)
        {
            if (await TryPeerAsync(lb) == name) return true;
            await Task.Delay(250);
        }
        return false;
    }

    /// <summary>True once <paramref name="run"/> connections in a row were served by others (HAProxy marked it down).</summary>
    private static async Task<bool> UnseenForAsync(string lb, string name, int run, int attempts)
    {
        var streak = 0;
        for (var i = 0; i < attempts && streak < run; i++)
        {
            var peer = await TryPeerAsync(lb);
            streak = peer is not null && peer != name ? streak + 1 : 0;
            if (streak == 0) await Task.Delay(250);
        }
        return streak >= run;
    }

    private static async Task<string?> TryPeerAsync(string lb)
    {
        try { return await PeerCommonNameAsync(lb, 6443); }
        catch (Exception ex) when (ex is SocketException or IOException or System.Security.Authentication.AuthenticationException) { return null; }
    }

    private static async Task<string> PeerCommonNameAsync(string host, int port)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(host, port);
        await using var tls = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = host });
        using var cert = new X509Certificate2(tls.RemoteCertificate!);
        return cert.GetNameInfo(X509NameType.SimpleName, false);
    }
}
