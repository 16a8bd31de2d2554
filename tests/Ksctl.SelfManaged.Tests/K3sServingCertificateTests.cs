using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;

namespace Ksctl.SelfManaged.Tests;

/// <summary>
/// The API's certificate is checked the way a kubeconfig client checks it: against the cluster CA in the kubeconfig
/// Ksctl kept and the address in its server URL, with no validation turned off. The k3s stand-in signs every
/// server's certificate with one CA kept in etcd, with the --tls-san values (the LB's addresses) among the SANs.
/// </summary>
[Collection(HaMachinesCollection.Name)]
public sealed partial class K3sServingCertificateTests(HaMachinesFixture machines) : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("ksctl-ha-tls-").FullName;
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

    [GeneratedRegex(@"certificate-authority-data:\s*(\S+)")]
    private static partial Regex CaData();

    [Fact]
    public async Task The_API_through_the_load_balancer_validates_against_the_kubeconfig_CA_and_an_address_outside_the_SANs_does_not()
    {
        using var manager = new ClusterManager(KsctlSettings.Load(_home));
        var spec = new ClusterSpec
        {
            Id = new ClusterId(CloudProvider.BareMetal, ClusterType.SelfManaged, "tls", "lab"),
            Distribution = DistributionKind.K3s,
            Machines = machines.Inventory(),
            WorkerCount = 0,
            ArtifactSource = machines.ArtifactFolder,
        };
        var state = await manager.CreateAsync(spec, Options, CancellationToken.None);
        var kubeconfig = state.Secrets[ClusterState.KubeconfigSecret];
        var lb = machines.Machines[0].Address;
        Assert.Contains($"server: https://{lb}:6443", kubeconfig);
        using var ca = X509Certificate2.CreateFromPem(System.Text.Encoding.ASCII.GetString(Convert.FromBase64String(CaData().Match(kubeconfig).Groups[1].Value)));
        Assert.True(ca.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority, "the kubeconfig's CA is a CA, not a server's own certificate");

        // Through HAProxy, as kubectl connects: chain to the kubeconfig's CA and name = the LB address.
        Assert.StartsWith("k3s-standin-", await HandshakeAsync(lb, lb, ca));

        // Every control plane has a certificate from the same CA with the LB among its SANs (so any of them can answer).
        // A joined server starts serving a moment after its tokens are written (what the create waits for), so
        // each is asked until its port is open, counting attempts.
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

        // An HttpClient with the same trust gets the apiserver's answer (Ksctl's units allow anonymous /readyz for
        // HAProxy's checks).
        using (var http = new HttpClient(new SocketsHttpHandler { SslOptions = Trust(ca) }))
        {
            using var ready = await http.GetAsync($"https://{lb}:6443/readyz");
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.Equal("ok", await ready.Content.ReadAsStringAsync());
        }

        // An address that is not in the SANs (an etcd member's) fails name validation although the chain is good.
        await Assert.ThrowsAsync<AuthenticationException>(() => HandshakeAsync(lb, machines.Machines[1].Address, ca));
        Assert.Equal(SslPolicyErrors.RemoteCertificateNameMismatch, await PolicyErrorsAsync(lb, machines.Machines[1].Address, ca));

        await manager.DeleteAsync(spec.Id, Options, CancellationToken.None);
    }

    /// <summary>Trust exactly the cluster CA; the default name check against TargetHost stays on.</summary>
    private static SslClientAuthenticationOptions Trust(X509Certificate2 ca)
    {
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.Add(ca);
        return new SslClientAuthenticationOptions { CertificateChainPolicy = policy };
    }

    /// <summary>
    /// A handshake to <paramref name="host"/>:6443 validated for <paramref name="name"/> by the platform (chain to
    /// <paramref name="ca"/> only, then the name; no callback): throws <see cref="AuthenticationException"/> when either
    /// fails, else returns the server's CN.
    /// </summary>
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
