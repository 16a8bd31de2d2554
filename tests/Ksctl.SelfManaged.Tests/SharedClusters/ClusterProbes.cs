using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Ksctl.Core.Model;
using Ksctl.TestSupport;

namespace Ksctl.SelfManaged.Tests.SharedClusters;

/// <summary>What the shared-cluster tests look at from outside: etcd's health, the API's certificate, leftovers on the machines.</summary>
internal static class ClusterProbes
{
    /// <summary>The etcd cluster is healthy over TLS with the certificates ksctl generated.</summary>
    public static void AssertEtcdHealthy(HaMachinesFixture machines, ClusterState state)
    {
        var pki = Directory.CreateTempSubdirectory("ksctl-etcd-client-").FullName;
        File.WriteAllText(Path.Combine(pki, "ca.crt"), state.Secrets["etcd:ca.crt"]);
        File.WriteAllText(Path.Combine(pki, "client.crt"), state.Secrets["etcd:client.crt"]);
        File.WriteAllText(Path.Combine(pki, "client.key"), state.Secrets["etcd:client.key"]);
        var endpoints = string.Join(',', machines.Machines.Skip(1).Take(3).Select(m => $"https://{m.Address}:2379"));
        var (code, stdout, stderr) = TestMachineHarness.Run("etcdctl", TimeSpan.FromSeconds(30),
            $"--endpoints={endpoints}", $"--cacert={pki}/ca.crt", $"--cert={pki}/client.crt", $"--key={pki}/client.key", "endpoint", "health");
        Directory.Delete(pki, true);
        Assert.True(code == 0, $"etcdctl endpoint health failed: {stdout} {stderr}");
        Assert.Equal(3, (stdout + stderr).Split('\n').Count(l => l.Contains("is healthy")));
    }

    /// <summary>Nothing ksctl installed is left on any machine, and no unit of ours still runs.</summary>
    public static async Task AssertMachinesCleanAsync(HaMachinesFixture machines)
    {
        for (var i = 0; i < machines.Machines.Count; i++)
        {
            var left = await machines.RunOnAsync(i,
                "find /etc/systemd/system /var/lib/rancher /etc/rancher /etc/etcd /var/lib/etcd /etc/ksctl /etc/kubernetes /var/lib/kubelet -mindepth 1 ! -name containerd.service 2>/dev/null; " +
                "ls /usr/local/bin/k3s /usr/local/bin/etcd /usr/local/bin/etcdctl /usr/local/bin/kubeadm /usr/local/bin/kubelet /etc/haproxy/ksctl-haproxy.cfg 2>/dev/null; " +
                "for f in /run/ksctl/units/*.pid; do case $f in *containerd*) continue ;; esac; if [ -f \"$f\" ] && kill -0 \"$(cat \"$f\")\" 2>/dev/null; then echo \"running $f\"; fi; done; true");
            Assert.True(left.Trim().Length == 0, $"machine {i} still has: {left}");
        }
    }

    /// <summary>The CN of the certificate whoever answers on host:port presents (no validation: who answered).</summary>
    public static async Task<string> PeerCommonNameAsync(string host, int port)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(host, port);
        await using var tls = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = host });
        using var cert = new X509Certificate2(tls.RemoteCertificate!);
        return cert.GetNameInfo(X509NameType.SimpleName, false);
    }
}
