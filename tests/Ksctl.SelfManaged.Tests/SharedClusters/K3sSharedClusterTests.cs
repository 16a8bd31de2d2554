using System.Security.Cryptography;
using System.Text;
using Ksctl.Core.Distributions.Etcd;
using Ksctl.Core.Distributions.K3s;
using Ksctl.Core.Model;

namespace Ksctl.SelfManaged.Tests.SharedClusters;

/// <summary>One K3s HA cluster with Calico and 2 workers, created once for <see cref="K3sSharedClusterTests"/>.</summary>
public sealed class K3sSharedCluster(HaMachinesFixture machines) : SharedClusterFixture(machines)
{
    public const int Cp0 = 4;

    // Named "ha" as HaClusterTests' own cluster was, so the context name asserted is the same.
    protected override ClusterSpec Spec() => new()
    {
        Id = new ClusterId(CloudProvider.BareMetal, ClusterType.SelfManaged, "ha", "lab"),
        Distribution = DistributionKind.K3s,
        Machines = Machines.Inventory(),
        WorkerCount = 2,
        ArtifactSource = Machines.ArtifactFolder,
        Cni = "calico",
    };

    protected override Task BeforeCreateAsync() => Machines.RunOnAsync(Cp0, "rm -f /var/log/ksctl/k3s-deploy.log");
}

/// <summary>
/// The K3s HA path end to end on one cluster (BareMetal + K3s, 1 LB, 3 etcd, 3 CP, 2 workers, Calico): what each of
/// HaClusterTests' K3s create, K3sServingCertificateTests, K3sConformanceTests' agent/readyz/removal test and
/// CniChoiceTests' K3s Calico test asserted on a cluster of its own, asserted here on one cluster created once (each of
/// those tests only read its cluster until its resize and removal, which run last here). Debian's etcd over TLS from
/// our certificates, real HAProxy, and the k3s stand-in that checks tokens and datastore access.
/// </summary>
[Collection(HaMachinesCollection.Name)]
[TestCaseOrderer(ByOrderAttribute.Name, ByOrderAttribute.Assembly)]
public sealed partial class K3sSharedClusterTests(HaMachinesFixture machines, K3sSharedCluster cluster) : IClassFixture<K3sSharedCluster>
{
    private const int Cp0 = K3sSharedCluster.Cp0;

    [Fact, Order(1)]
    public async Task The_created_cluster_runs_behind_the_load_balancer_on_a_healthy_etcd_and_every_joiner_went_through_it()
    {
        var state = cluster.Cluster;
        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Equal(1 + 3 + 3 + 2, state.Nodes.Count);
        var lb = machines.Machines[0].Address;
        Assert.Equal($"https://{lb}:6443", state.Endpoint);
        Assert.Equal("ha-lab-selfmanaged-baremetal-ksctl", state.ContextName);
        Assert.Contains($"server: https://{lb}:6443", state.Secrets[ClusterState.KubeconfigSecret]);
        Assert.StartsWith("K10", state.Secrets["k3s:token"]);
        Assert.All(state.Nodes, n => Assert.StartsWith("SHA256:", n.HostKey));

        ClusterProbes.AssertEtcdHealthy(machines, state);
        Assert.Contains(await ClusterProbes.PeerCommonNameAsync(lb, 6443), machines.Machines.Skip(4).Take(3).Select(m => $"k3s-standin-{m.Address}"));

        // Every joiner went through the LB's private address with the token CP0 made.
        foreach (var i in new[] { 5, 6 })
            Assert.Contains($"--server=https://{lb}:6443", await machines.RunOnAsync(i, "cat /var/lib/rancher/k3s/server/standin-args"));
        foreach (var i in new[] { 7, 8 })
            Assert.Contains($"--server=https://{lb}:6443", await machines.RunOnAsync(i, "cat /var/lib/rancher/k3s/agent/standin-args"));
        Assert.Contains("--datastore-endpoint=https://", await machines.RunOnAsync(4, "cat /var/lib/rancher/k3s/server/standin-args"));
    }

    /// <summary>Formerly CniChoiceTests.A_K3s_cluster_with_Calico_boots_without_flannel_and_k3s_applies_the_pinned_Calico.</summary>
    [Fact, Order(2)]
    public async Task With_Calico_K3s_boots_without_flannel_and_applies_the_pinned_Calico()
    {
        Assert.Equal(ClusterStatus.Running, cluster.Cluster.Status);
        foreach (var cp in new[] { 4, 5, 6 })
        {
            var args = await machines.RunOnAsync(cp, "cat /var/lib/rancher/k3s/server/standin-args");
            Assert.Contains("--flannel-backend=none", args);
            Assert.Contains("--disable-network-policy", args);
        }
        var expected = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(K3sCni.Manifest("calico")!))).ToLowerInvariant();
        var deployed = (await machines.RunOnAsync(Cp0, "cat /var/log/ksctl/k3s-deploy.log")).Trim();
        Assert.StartsWith($"{K3sCni.ManifestPath} {expected} ", deployed);
        Assert.DoesNotContain("error", deployed);
    }

    /// <summary>Formerly the first part of K3sConformanceTests' agent test (issue #11 items 3 and 8).</summary>
    [Fact, Order(3)]
    public async Task Agents_join_with_the_agent_token_the_kubeconfig_is_read_whole_and_the_etcd_certificates_expiry_is_recorded()
    {
        var state = cluster.Cluster;
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
    }

    /// <summary>Formerly the middle of K3sConformanceTests' agent test (issue #11 item 3).</summary>
    [Fact, Order(4)]
    public async Task HAProxy_sends_no_traffic_to_a_server_whose_readyz_fails_and_sends_it_again_once_it_answers()
    {
        Assert.Equal(ClusterStatus.Running, cluster.Cluster.Status);
        var lb = machines.Machines[0].Address;
        var cp1 = $"k3s-standin-{machines.Machines[5].Address}";
        Assert.True(await SeenWithinAsync(lb, cp1, attempts: 60), "cp-1 never served through the load balancer");
        try
        {
            await machines.RunOnAsync(5, Respond("503 Service Unavailable", "[-]etcd failed"));
            Assert.True(await UnseenForAsync(lb, cp1, run: 15, attempts: 200), "HAProxy kept sending traffic to cp-1 whose /readyz fails");
            for (var i = 0; i < 15; i++) Assert.NotEqual(cp1, await ClusterProbes.PeerCommonNameAsync(lb, 6443));
        }
        finally
        {
            await machines.RunOnAsync(5, Respond("200 OK", "ok"));
        }
        Assert.True(await SeenWithinAsync(lb, cp1, attempts: 200), "cp-1 did not get traffic back once /readyz answered");
    }

    /// <summary>What the stand-in's apiserver answers to GET /readyz from now on.</summary>
    private static string Respond(string status, string body) =>
        $"printf 'HTTP/1.0 {status}\\r\\nContent-Type: text/plain\\r\\nContent-Length: {body.Length}\\r\\n\\r\\n%s' '{body}' > /var/lib/rancher/k3s/server/www/readyz\n";

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
        try { return await ClusterProbes.PeerCommonNameAsync(lb, 6443); }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException or System.Security.Authentication.AuthenticationException) { return null; }
    }
}
