using System.Text;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Distributions.Artifacts;
using Ksctl.Core.Engine;
using Ksctl.Core.Kube;
using Ksctl.Core.Model;
using Ksctl.Core.Remote;

namespace Ksctl.Core.Distributions.K3s;

/// <summary>
/// K3s HA on an external etcd datastore: control plane 0 alone, then the other servers (with the token it made)
/// ∥ the agents, all through the load balancer's private address; the kubeconfig comes from CP0 with its server
/// rewritten to the load balancer's public address.
/// </summary>
internal sealed class K3sDistribution : IDistribution
{
    public const string TokenSecret = "k3s:token";
    private const string TokenFile = "/etc/ksctl/k3s-token";
    private static readonly UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public DistributionKind Kind => DistributionKind.K3s;

    /// <summary>"1.33.1" → "v1.33.1+k3s1".</summary>
    public static string K3sVersion(string kubernetesVersion) => $"v{kubernetesVersion}+k3s1";

    public IReadOnlyList<PlanStep> CreateSteps(ClusterSpec spec, SelfManagedTopology topology, MachineAccess access, IReadOnlyList<string> ready)
    {
        var cp0 = topology.ControlPlanes[0];
        var steps = new List<PlanStep>
        {
            new($"k3s:{cp0.Key}", (ctx, ct) => InstallServerAsync(ctx, spec, topology, access, cp0, first: true, ct))
            {
                DependsOn = [.. ready, cp0.MachineStep],
                Description = $"install the first K3s server on {cp0.Key} against the etcd datastore and read its join token",
                Resources = [$"k3s server on {cp0.ResourceName(spec.Id.Name)}"],
            },
        };
        foreach (var cp in topology.ControlPlanes.Skip(1))
            steps.Add(new($"k3s:{cp.Key}", (ctx, ct) => InstallServerAsync(ctx, spec, topology, access, cp, first: false, ct))
            {
                DependsOn = [$"k3s:{cp0.Key}", cp.MachineStep],
                Description = $"join K3s server {cp.Key} through the load balancer",
                Resources = [$"k3s server on {cp.ResourceName(spec.Id.Name)}"],
            });
        steps.AddRange(AgentSteps(spec, topology.Workers, access, topology, after: [$"k3s:{cp0.Key}"]));
        steps.Add(new("kubeconfig", (ctx, ct) => CaptureKubeconfigAsync(ctx, topology, access, ct))
        {
            DependsOn = [$"k3s:{cp0.Key}"],
            Description = $"read the kubeconfig from {cp0.Key}, point it at the load balancer, context {spec.Id.DefaultContextName}",
            Resources = [$"context {spec.Id.DefaultContextName}"],
        });
        return steps;
    }

    /// <summary>Resize: the control planes already run, so each agent waits only for its machine.</summary>
    public IReadOnlyList<PlanStep> JoinWorkerSteps(ClusterSpec spec, IReadOnlyList<TopologyNode> workers, MachineAccess access) =>
        AgentSteps(spec, workers, access, SelfManagedTopology.From(spec), after: []);

    private static IReadOnlyList<PlanStep> AgentSteps(ClusterSpec spec, IReadOnlyList<TopologyNode> workers, MachineAccess access, SelfManagedTopology topology, IReadOnlyList<string> after) =>
        workers.Select(w => new PlanStep($"k3s:{w.Key}", (ctx, ct) => InstallAgentAsync(ctx, spec, topology, access, w, ct))
        {
            DependsOn = [.. after, w.MachineStep],
            Description = $"join K3s agent {w.Key} through the load balancer",
            Resources = [$"k3s agent on {w.ResourceName(spec.Id.Name)}"],
        }).ToArray();

    public IReadOnlyList<PlanStep> UninstallSteps(IReadOnlyList<NodeState> nodes, MachineAccess access) =>
        nodes.Where(n => n.Role is NodeRole.ControlPlane or NodeRole.Worker)
            .Select(n => new PlanStep($"k3s-uninstall:{n.Key}", async (ctx, ct) =>
            {
                var shell = await access.ShellAsync(ctx, n.Key!, ct).ConfigureAwait(false);
                await shell.RunAsync(new RemoteScript("k3s:uninstall", UninstallScript(), retries: 2), ct).ConfigureAwait(false);
            })
            {
                Description = $"uninstall K3s from {n.Key}",
            }).ToArray();

    public IReadOnlyList<PlanStep> RemoveNodeSteps(ClusterState state, IReadOnlyList<NodeState> nodes, MachineAccess access) =>
        nodes.Select(n => new PlanStep($"drain:{n.Key}", async (ctx, ct) =>
        {
            var cp0 = ctx.Session.Read(s => s.Nodes.First(x => x.Role == NodeRole.ControlPlane && x.Index == 0)).Key!;
            var shell = await access.ShellAsync(ctx, cp0, ct).ConfigureAwait(false);
            await shell.RunAsync(new RemoteScript($"k3s:drain-{n.Key}", DrainScript(n.Hostname ?? n.Name), retries: 1), ct).ConfigureAwait(false);
        })
        {
            Description = $"drain {n.Key} and delete its Node",
        }).ToArray();

    /// <summary>Drains and deletes a Node; a Node that is already gone is not an error (the step may run again).</summary>
    internal static string DrainScript(string node) => $$"""
        set -euo pipefail
        node={{ShellQuote.Quote(node)}}
        if k3s kubectl get node "$node" >/dev/null 2>&1; then
          k3s kubectl drain "$node" --ignore-daemonsets --delete-emptydir-data --force --timeout=300s
          k3s kubectl delete node "$node" --ignore-not-found
        fi
        """ + "\n";

    internal static string ServerUnit(IReadOnlyList<string> endpoints, string lbPublic, string lbPrivate, string? joinServer, string? cni)
    {
        var args = new List<string>
        {
            "server",
            $"--datastore-endpoint={string.Join(',', endpoints)}",
            $"--datastore-cafile={DatastoreSecrets.RemoteFolder}/ca.crt",
            $"--datastore-certfile={DatastoreSecrets.RemoteFolder}/client.crt",
            $"--datastore-keyfile={DatastoreSecrets.RemoteFolder}/client.key",
            $"--tls-san={lbPublic}",
            $"--tls-san={lbPrivate}",
            "--node-taint=CriticalAddonsOnly=true:NoExecute",
        };
        // -Cni none: no built-in flannel and no network policy controller (k3s docs, "Custom CNI"); flannel is k3s's default.
        if (Cni.CniChoice.Parse(DistributionKind.K3s, cni) == Cni.CniPlugin.None) args.AddRange(["--flannel-backend=none", "--disable-network-policy"]);
        if (joinServer is not null) args.AddRange([$"--server={joinServer}", $"--token-file={TokenFile}"]);
        return Unit("k3s", "Lightweight Kubernetes server (ksctl)", args);
    }

    internal static string AgentUnit(string server) =>
        Unit("k3s-agent", "Lightweight Kubernetes agent (ksctl)", ["agent", $"--server={server}", $"--token-file={TokenFile}"]);

    private static string Unit(string name, string description, IEnumerable<string> args) => $"""
        [Unit]
        Description={description}
        After=network-online.target

        [Service]
        ExecStart=/usr/local/bin/k3s {string.Join(" ", args)}
        Restart=always
        LimitNOFILE=1048576

        [Install]
        WantedBy=multi-user.target

        """.Replace("\r\n", "\n");

    /// <summary>Installs the unit and (re)starts it only when it changed, then waits for what K3s writes when it is up.</summary>
    internal static string StartScript(string unit, string waitForFile) => $$"""
        set -euo pipefail
        unit=/etc/systemd/system/{{unit}}.service
        if ! cmp -s "$unit.ksctl-new" "$unit" || ! systemctl is-active --quiet {{unit}}; then
          mv -f "$unit.ksctl-new" "$unit"
          systemctl daemon-reload
          systemctl enable {{unit}} >/dev/null 2>&1
          systemctl restart {{unit}}
        else
          rm -f "$unit.ksctl-new"
        fi
        deadline=$((SECONDS + 300))
        until [ -s {{waitForFile}} ]; do
          if [ "$SECONDS" -ge "$deadline" ]; then
            echo "{{unit}} did not write {{waitForFile}} within 300 s" >&2
            journalctl -u {{unit}} -n 50 --no-pager >&2 2>/dev/null || true
            exit 1
          fi
          sleep 1
        done
        """ + "\n";

    internal static string UninstallScript() => $$"""
        set -euo pipefail
        for unit in k3s k3s-agent; do
          systemctl disable --now "$unit" >/dev/null 2>&1 || true
          rm -f "/etc/systemd/system/$unit.service"
        done
        if [ -x /usr/local/bin/k3s-killall.sh ]; then /usr/local/bin/k3s-killall.sh >/dev/null 2>&1 || true; fi
        systemctl daemon-reload >/dev/null 2>&1 || true
        rm -rf /etc/rancher/k3s /var/lib/rancher/k3s {{TokenFile}} {{DatastoreSecrets.RemoteFolder}} /usr/local/bin/k3s
        """ + "\n";

    private static Task InstallBinaryAsync(ClusterSpec spec, IRemoteShell shell, CancellationToken ct)
    {
        var version = K3sVersion(spec.KubernetesVersion!);
        var url = $"https://github.com/k3s-io/k3s/releases/download/{Uri.EscapeDataString(version)}/k3s";
        return ArtifactSource.Parse(spec.ArtifactSource).InstallAsync(shell, "k3s", version, ["k3s"],
            $"curl -fsSL --retry 3 -o /usr/local/bin/k3s.ksctl-download {ShellQuote.Quote(url)}\nchmod 0755 /usr/local/bin/k3s.ksctl-download\nmv -f /usr/local/bin/k3s.ksctl-download /usr/local/bin/k3s\n", ct);
    }

    private static async Task InstallServerAsync(StepContext ctx, ClusterSpec spec, SelfManagedTopology topology, MachineAccess access, TopologyNode node, bool first, CancellationToken ct)
    {
        var (endpoints, lb, ca, cert, key, token) = ctx.Session.Read(s =>
        (
            DatastoreSecrets.Endpoints(s, topology),
            s.Nodes.First(n => n.Key == topology.LoadBalancer.Key),
            s.Secrets[DatastoreSecrets.CaCertificate],
            s.Secrets[DatastoreSecrets.ClientCertificate],
            s.Secrets[DatastoreSecrets.ClientKey],
            s.Secrets.GetValueOrDefault(TokenSecret)
        ));
        var shell = await access.ShellAsync(ctx, node.Key, ct).ConfigureAwait(false);
        await InstallBinaryAsync(spec, shell, ct).ConfigureAwait(false);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(ca), $"{DatastoreSecrets.RemoteFolder}/ca.crt", Private, ct).ConfigureAwait(false);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(cert), $"{DatastoreSecrets.RemoteFolder}/client.crt", Private, ct).ConfigureAwait(false);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(key), $"{DatastoreSecrets.RemoteFolder}/client.key", Private, ct).ConfigureAwait(false);
        string? join = null;
        if (!first)
        {
            if (token is null) throw new KsctlException("KsctlJoinTokenMissing", KsctlErrorCategory.InvalidData, "The K3s join token is not in the state; control plane 0 must be installed first.", node.Key);
            await shell.UploadAsync(Encoding.UTF8.GetBytes(token), TokenFile, Private, ct).ConfigureAwait(false);
            join = $"https://{lb.PrivateIP}:6443";
        }
        var unit = ServerUnit(endpoints, lb.PublicIP ?? lb.PrivateIP!, lb.PrivateIP!, join, spec.Cni);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(unit), "/etc/systemd/system/k3s.service.ksctl-new", (UnixFileMode)0b110_100_100, ct).ConfigureAwait(false);
        await shell.RunAsync(new RemoteScript($"k3s:server-{node.Key}", StartScript("k3s", "/var/lib/rancher/k3s/server/token"), retries: first ? 2 : 1), ct).ConfigureAwait(false);
        if (first)
        {
            var read = await shell.RunAsync(new RemoteScript("k3s:read-token", "cat /var/lib/rancher/k3s/server/token\n"), ct).ConfigureAwait(false);
            var value = read.StandardOutput.Trim();
            if (value.Length == 0) throw new KsctlException("KsctlJoinTokenMissing", KsctlErrorCategory.InvalidData, "K3s wrote an empty join token.", node.Key);
            ctx.Mutate(s => s.Secrets[TokenSecret] = value);
        }
    }

    private static async Task InstallAgentAsync(StepContext ctx, ClusterSpec spec, SelfManagedTopology topology, MachineAccess access, TopologyNode node, CancellationToken ct)
    {
        var (lb, token) = ctx.Session.Read(s => (s.Nodes.First(n => n.Key == topology.LoadBalancer.Key), s.Secrets.GetValueOrDefault(TokenSecret)));
        if (token is null) throw new KsctlException("KsctlJoinTokenMissing", KsctlErrorCategory.InvalidData, "The K3s join token is not in the state; control plane 0 must be installed first.", node.Key);
        var shell = await access.ShellAsync(ctx, node.Key, ct).ConfigureAwait(false);
        await InstallBinaryAsync(spec, shell, ct).ConfigureAwait(false);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(token), TokenFile, Private, ct).ConfigureAwait(false);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(AgentUnit($"https://{lb.PrivateIP}:6443")), "/etc/systemd/system/k3s-agent.service.ksctl-new", (UnixFileMode)0b110_100_100, ct).ConfigureAwait(false);
        await shell.RunAsync(new RemoteScript($"k3s:agent-{node.Key}", StartScript("k3s-agent", "/var/lib/rancher/k3s/agent/client-kubelet.crt"), retries: 1) { Secrets = [token] }, ct).ConfigureAwait(false);
    }

    private static async Task CaptureKubeconfigAsync(StepContext ctx, SelfManagedTopology topology, MachineAccess access, CancellationToken ct)
    {
        var shell = await access.ShellAsync(ctx, topology.ControlPlanes[0].Key, ct).ConfigureAwait(false);
        var read = await shell.RunAsync(new RemoteScript("k3s:read-kubeconfig", "cat /etc/rancher/k3s/k3s.yaml\n"), ct).ConfigureAwait(false);
        var (lb, id) = ctx.Session.Read(s => (s.Nodes.First(n => n.Key == topology.LoadBalancer.Key), s.Id));
        var server = $"https://{lb.PublicIP ?? lb.PrivateIP}:6443";
        var kubeconfig = KubeconfigFile.Normalize(read.StandardOutput, id.DefaultContextName, server);
        ctx.Mutate(s =>
        {
            s.Secrets[ClusterState.KubeconfigSecret] = kubeconfig;
            s.ContextName = id.DefaultContextName;
            s.Endpoint = server;
        });
    }
}
