using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;

namespace Ksctl.SelfManaged.Tests;

/// <summary>
/// Issue #11 items 1-3 on the test machines, against stand-ins that refuse what k3s v1.33 and systemd would: the units
/// as k3s's installer writes them, the flags k3s has. Agents on the agent token, a kubeconfig read only when whole,
/// HAProxy routing only to a server whose /readyz answers, and a removal that leaves no shim, mount or file behind are
/// asserted on the shared K3s cluster (SharedClusters/K3sSharedClusterTests).
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

    private static string Install(string unit, string text) =>
        $"cat > /etc/systemd/system/{unit}.service <<'UNIT'\n{text}\nUNIT\n";
}
