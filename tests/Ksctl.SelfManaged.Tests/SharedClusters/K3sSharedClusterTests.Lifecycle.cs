using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Ksctl.Core.Model;

namespace Ksctl.SelfManaged.Tests.SharedClusters;

/// <summary>The shared K3s cluster's API certificate, then its resize and removal (last: they change the cluster).</summary>
public sealed partial class K3sSharedClusterTests
{
    [GeneratedRegex(@"certificate-authority-data:\s*(\S+)")]
    private static partial Regex CaData();

    /// <summary>
    /// Formerly K3sServingCertificateTests: the API's certificate is checked the way a kubeconfig client checks it, against
    /// the cluster CA in the kubeconfig Ksctl kept and the address in its server URL, with no validation turned off.
    /// </summary>
    [Fact, Order(5)]
    public async Task The_API_through_the_load_balancer_validates_against_the_kubeconfig_CA_and_an_address_outside_the_SANs_does_not()
    {
        var kubeconfig = cluster.Cluster.Secrets[ClusterState.KubeconfigSecret];
        var lb = machines.Machines[0].Address;
        Assert.Contains($"server: https://{lb}:6443", kubeconfig);
        using var ca = X509Certificate2.CreateFromPem(System.Text.Encoding.ASCII.GetString(Convert.FromBase64String(CaData().Match(kubeconfig).Groups[1].Value)));
        Assert.True(ca.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority, "the kubeconfig's CA is a CA, not a server's own certificate");

        // Through HAProxy, as kubectl connects: chain to the kubeconfig's CA and name = the LB address.
        Assert.StartsWith("k3s-standin-", await HandshakeAsync(lb, lb, ca));

        // Every control plane has a certificate from the same CA with the LB among its SANs (so any of them can answer).
        // A joined server starts serving a moment after its tokens are written (what the create waits for), so each is
        // asked until its port is open, counting attempts.
        var servers = new HashSet<string>();
        foreach (var cp in machines.Machines.Skip(4).Take(3))
        {
            for (var attempt = 1; ; attempt++)
            {
                try { servers.Add(await HandshakeAsync(cp.Address, lb, ca)); break; }
                catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused && attempt < 30)
                {
                    await Task.Delay(TimeSpan.FromSeconds(1));
                }
            }
        }
        Assert.Equal(3, servers.Count);

        // An HttpClient with the same trust gets the apiserver's answer (Ksctl's units allow anonymous /readyz for HAProxy's checks).
        using (var http = new HttpClient(new SocketsHttpHandler { SslOptions = Trust(ca) }))
        {
            using var ready = await http.GetAsync($"https://{lb}:6443/readyz");
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.Equal("ok", await ready.Content.ReadAsStringAsync());
        }

        // An address that is not in the SANs (an etcd member's) fails name validation although the chain is good.
        await Assert.ThrowsAsync<AuthenticationException>(() => HandshakeAsync(lb, machines.Machines[1].Address, ca));
        Assert.Equal(SslPolicyErrors.RemoteCertificateNameMismatch, await PolicyErrorsAsync(lb, machines.Machines[1].Address, ca));
    }

    /// <summary>Formerly the middle of HaClusterTests.Create_resize_and_remove_a_K3s_HA_cluster.</summary>
    [Fact, Order(6)]
    public async Task Resize_2_to_3_to_1_joins_the_new_worker_and_drains_and_cleans_the_removed_ones()
    {
        using var manager = cluster.NewManager();
        var state = await manager.ResizeAsync(cluster.Cluster.Id, 3, SharedClusterFixture.Options, CancellationToken.None);
        Assert.Equal(3, state.Nodes.Count(n => n.Role == NodeRole.Worker));
        Assert.Contains("client-kubelet.crt", await machines.RunOnAsync(9, "ls /var/lib/rancher/k3s/agent"));
        state = await manager.ResizeAsync(state.Id, 1, SharedClusterFixture.Options, CancellationToken.None);
        Assert.Equal([0], state.Nodes.Where(n => n.Role == NodeRole.Worker).Select(n => n.Index));
        var kubectl = await machines.RunOnAsync(4, "cat /var/lib/rancher/k3s/server/kubectl.log");
        Assert.Equal(2, kubectl.Split('\n').Count(l => l.StartsWith("drain ")));
        Assert.Equal("", (await machines.RunOnAsync(8, "find /var/lib/rancher /etc/systemd/system -mindepth 1 ! -name containerd.service 2>/dev/null; true")).Trim());
    }

    /// <summary>
    /// Formerly the ends of HaClusterTests.Create_resize_and_remove_a_K3s_HA_cluster and of K3sConformanceTests' agent test
    /// (issue #11 item 2): the nodes run pods' shims and mounts; after Remove none is left, nor any file or unit of ours.
    /// </summary>
    [Fact, Order(7)]
    public async Task Remove_leaves_no_shim_mount_file_or_running_unit_on_any_machine()
    {
        Assert.NotEqual("", (await machines.RunOnAsync(7, ShimsScript)).Trim());
        Assert.Contains("/var/lib/kubelet/pods", await machines.RunOnAsync(7, "cat /proc/self/mounts"));
        using var manager = cluster.NewManager();
        await manager.DeleteAsync(cluster.Cluster.Id, SharedClusterFixture.Options, CancellationToken.None);
        Assert.Null(await manager.Store.ReadAsync(cluster.Cluster.Id, CancellationToken.None));
        foreach (var i in new[] { 4, 5, 6, 7 })
        {
            Assert.Equal("", (await machines.RunOnAsync(i, ShimsScript)).Trim());
            Assert.DoesNotContain("/var/lib/kubelet/pods", await machines.RunOnAsync(i, "cat /proc/self/mounts"));
            Assert.Equal("", (await machines.RunOnAsync(i,
                "find /var/lib/rancher /etc/rancher /var/lib/kubelet /etc/ksctl -mindepth 1 2>/dev/null; ls /usr/local/bin/k3s /usr/local/bin/k3s-killall.sh /usr/local/bin/k3s-uninstall.sh /usr/local/bin/k3s-agent-uninstall.sh 2>/dev/null; true")).Trim());
        }
        await ClusterProbes.AssertMachinesCleanAsync(machines);
    }

    /// <summary>The containerd shims (stand-in) running in this machine's mount namespace.</summary>
    private const string ShimsScript =
        "self=$(readlink /proc/self/ns/mnt); for p in /proc/[0-9]*; do a=$(tr '\\0' ' ' < $p/cmdline 2>/dev/null) || continue; " +
        "case \"$a\" in /var/lib/rancher/k3s/data/*containerd-shim*) [ \"$(readlink $p/ns/mnt 2>/dev/null)\" = \"$self\" ] && echo \"${p#/proc/} $a\" ;; esac; done; true";

    /// <summary>Trust exactly the cluster CA; the default name check against TargetHost stays on.</summary>
    private static SslClientAuthenticationOptions Trust(X509Certificate2 ca)
    {
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.Add(ca);
        return new SslClientAuthenticationOptions { CertificateChainPolicy = policy };
    }

    /// <summary>A handshake to host:6443 validated for <paramref name="name"/> by the platform (chain to the CA only, then the name); returns the server's CN.</summary>
    private static async Task<string> HandshakeAsync(string host, string name, X509Certificate2 ca)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(host, 6443);
        await using var tls = new SslStream(tcp.GetStream());
        var options = Trust(ca);
        options.TargetHost = name;
        await tls.AuthenticateAsClientAsync(options);
        using var cert = new X509Certificate2(tls.RemoteCertificate!);
        return cert.GetNameInfo(X509NameType.SimpleName, false);
    }

    /// <summary>What the same checks found, to tell a name mismatch from a chain failure (the connection is dropped).</summary>
    private static async Task<SslPolicyErrors> PolicyErrorsAsync(string host, string name, X509Certificate2 ca)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(host, 6443);
        var found = SslPolicyErrors.None;
        await using var tls = new SslStream(tcp.GetStream(), false, (_, _, _, errors) => { found = errors; return false; });
        var options = Trust(ca);
        options.TargetHost = name;
        await Assert.ThrowsAsync<AuthenticationException>(() => tls.AuthenticateAsClientAsync(options));
        return found;
    }
}
