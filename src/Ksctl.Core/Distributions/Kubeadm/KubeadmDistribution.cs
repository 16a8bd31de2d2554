using System.Security.Cryptography;
using System.Text;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Distributions.Artifacts;
using Ksctl.Core.Distributions.Cni;
using Ksctl.Core.Engine;
using Ksctl.Core.Kube;
using Ksctl.Core.Model;
using Ksctl.Core.Remote;

namespace Ksctl.Core.Distributions.Kubeadm;

/// <summary>
/// Kubeadm HA on the external etcd datastore. Every node is prepared (swap, modules, sysctls, containerd, kubelet/
/// kubeadm/kubectl) in parallel with the load balancer and datastore; CP0 runs <c>kubeadm init --upload-certs</c>
/// with ksctl's bootstrap token and certificate key; the others join through the LB. The token's expiry is ours
/// (creation time + TTL, by our clock): before a join that would outlive it, a fresh token is made and the
/// control-plane certificates are uploaded again. After CP0, the pod network (Flannel by default) is applied, and the
/// cluster counts as created only when every node is Ready. A node counts as initialised or joined only by a marker
/// written after kubeadm succeeded; anything less is reset and done again.
/// </summary>
internal sealed class KubeadmDistribution(TimeProvider time) : IDistribution
{
    public const string TokenSecret = "kubeadm:token";
    public const string CertificateKeySecret = "kubeadm:certificate-key";
    public const string CaHashSecret = "kubeadm:ca-hash";
    public const string TokenExpiryResource = "kubeadm:token-expiry";
    public const int TokenTtlHours = 2;
    /// <summary>A join needs the token to stay valid for at least this long.</summary>
    public static readonly TimeSpan RefreshMargin = TimeSpan.FromMinutes(15);
    private static readonly UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private readonly SemaphoreSlim _refresh = new(1, 1);

    public DistributionKind Kind => DistributionKind.Kubeadm;

    public IReadOnlyList<PlanStep> CreateSteps(ClusterSpec spec, SelfManagedTopology topology, MachineAccess access, IReadOnlyList<string> ready)
    {
        var cp0 = topology.ControlPlanes[0];
        var steps = new List<PlanStep>();
        steps.AddRange(PrepareSteps(spec, topology.ControlPlanes.Concat(topology.Workers), access));
        steps.Add(new($"kubeadm:{cp0.Key}", (ctx, ct) => InitAsync(ctx, spec, topology, access, cp0, ct))
        {
            DependsOn = [.. ready, Prepare(cp0)],
            Description = $"kubeadm init on {cp0.Key}: external etcd, control plane endpoint = load balancer, certificates uploaded",
            Resources = [$"control plane on {cp0.ResourceName(spec.Id.Name)}", "bootstrap token (2 h)"],
        });
        steps.AddRange(topology.ControlPlanes.Skip(1).Select(cp => new PlanStep($"kubeadm:{cp.Key}", (ctx, ct) => JoinAsync(ctx, topology, access, cp, controlPlane: true, ct))
        {
            DependsOn = [$"kubeadm:{cp0.Key}", Prepare(cp)],
            Description = $"kubeadm join {cp.Key} as a control plane through the load balancer",
            Resources = [$"control plane on {cp.ResourceName(spec.Id.Name)}"],
        }));
        steps.AddRange(WorkerJoins(spec, topology, topology.Workers, access, after: [$"kubeadm:{cp0.Key}"]));
        steps.Add(new("kubeconfig", (ctx, ct) => CaptureKubeconfigAsync(ctx, topology, access, ct))
        {
            DependsOn = [$"kubeadm:{cp0.Key}"],
            Description = $"read admin.conf from {cp0.Key}, point it at the load balancer, context {spec.Id.DefaultContextName}",
            Resources = [$"context {spec.Id.DefaultContextName}"],
        });
        var cni = CniChoice.Parse(DistributionKind.Kubeadm, spec.Cni);
        if (cni != CniPlugin.None)
        {
            var (name, version) = cni == CniPlugin.Calico ? ("Calico", CalicoManifest.Version) : ("Flannel", FlannelManifest.Version);
            steps.Add(new(CniStep, (ctx, ct) => ApplyCniAsync(ctx, topology, access, cni, ct))
            {
                DependsOn = [$"kubeadm:{cp0.Key}"],
                Description = $"apply the pod network from {cp0.Key}: {name} {version}, pod CIDR {KubeadmConfigs.PodSubnet} (= podSubnet)",
                Resources = [$"{name} {version} DaemonSet"],
            });
            var members = topology.ControlPlanes.Concat(topology.Workers).ToArray();
            steps.Add(ReadyStep(topology, access, members, [CniStep, .. members.Select(n => $"kubeadm:{n.Key}")]));
        }
        return steps;
    }

    public IReadOnlyList<PlanStep> JoinWorkerSteps(ClusterSpec spec, IReadOnlyList<TopologyNode> workers, MachineAccess access)
    {
        var topology = SelfManagedTopology.From(spec);
        var joins = WorkerJoins(spec, topology, workers, access, after: []).ToArray();
        IEnumerable<PlanStep> ready = CniChoice.Parse(DistributionKind.Kubeadm, spec.Cni) != CniPlugin.None
            ? [ReadyStep(topology, access, workers, joins.Select(j => j.Name).ToArray())]
            : [];
        return [.. PrepareSteps(spec, workers, access), .. joins, .. ready];
    }

    public const string CniStep = "cni";
    public const string ReadyStepName = "nodes-ready";
    /// <summary>How long the nodes may take to become Ready once the pod network is applied (image pulls included).</summary>
    public static readonly TimeSpan ReadyTimeout = TimeSpan.FromMinutes(10);

    /// <summary>Waits (through CP0) until the given nodes are Ready: only then is the cluster Running.</summary>
    private static PlanStep ReadyStep(SelfManagedTopology topology, MachineAccess access, IReadOnlyList<TopologyNode> nodes, IReadOnlyList<string> after) =>
        new(ReadyStepName, async (ctx, ct) =>
        {
            var names = ctx.Session.Read(s => nodes.Select(n => s.Nodes.First(x => x.Key == n.Key)).Select(n => n.Hostname ?? n.Name).ToArray());
            var shell = await access.ShellAsync(ctx, topology.ControlPlanes[0].Key, ct).ConfigureAwait(false);
            var seconds = (int)ReadyTimeout.TotalSeconds;
            await shell.RunAsync(new RemoteScript("kubeadm:nodes-ready", KubeadmScripts.WaitNodesReady(names, seconds), timeout: ReadyTimeout + TimeSpan.FromMinutes(1)), ct).ConfigureAwait(false);
        })
        {
            DependsOn = after,
            Description = $"wait until {string.Join(", ", nodes.Select(n => n.Key))} are Ready (up to {ReadyTimeout.TotalMinutes:0} minutes)",
        };

    private static async Task ApplyCniAsync(StepContext ctx, SelfManagedTopology topology, MachineAccess access, CniPlugin cni, CancellationToken ct)
    {
        // Each manifest is told the podSubnet: Flannel's net-conf.json Network, Calico's CALICO_IPV4POOL_CIDR.
        var manifest = cni == CniPlugin.Calico ? CalicoManifest.For(KubeadmConfigs.PodSubnet) : FlannelManifest.For(KubeadmConfigs.PodSubnet);
        var shell = await access.ShellAsync(ctx, topology.ControlPlanes[0].Key, ct).ConfigureAwait(false);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(manifest), KubeadmScripts.CniManifest, (UnixFileMode)0b110_100_100, ct).ConfigureAwait(false);
        await shell.RunAsync(new RemoteScript("kubeadm:cni", KubeadmScripts.ApplyCni(), retries: 2), ct).ConfigureAwait(false);
    }

    public IReadOnlyList<PlanStep> RemoveNodeSteps(ClusterState state, IReadOnlyList<NodeState> nodes, MachineAccess access) =>
        nodes.Select(n => new PlanStep($"drain:{n.Key}", async (ctx, ct) =>
        {
            var cp0 = ctx.Session.Read(s => s.Nodes.First(x => x.Role == NodeRole.ControlPlane && x.Index == 0)).Key!;
            var shell = await access.ShellAsync(ctx, cp0, ct).ConfigureAwait(false);
            await shell.RunAsync(new RemoteScript($"kubeadm:drain-{n.Key}", KubeadmScripts.Drain(n.Hostname ?? n.Name), retries: 1), ct).ConfigureAwait(false);
        })
        {
            Description = $"drain {n.Key} and delete its Node",
        }).ToArray();

    public IReadOnlyList<PlanStep> UninstallSteps(IReadOnlyList<NodeState> nodes, MachineAccess access) =>
        nodes.Where(n => n.Role is NodeRole.ControlPlane or NodeRole.Worker)
            .Select(n => new PlanStep($"kubeadm-uninstall:{n.Key}", async (ctx, ct) =>
            {
                var shell = await access.ShellAsync(ctx, n.Key!, ct).ConfigureAwait(false);
                await shell.RunAsync(new RemoteScript("kubeadm:uninstall", KubeadmScripts.Uninstall(), retries: 2), ct).ConfigureAwait(false);
            })
            {
                Description = $"kubeadm reset on {n.Key} and remove what ksctl installed",
            }).ToArray();

    private static string Prepare(TopologyNode node) => $"kubeadm-prepare:{node.Key}";

    private static IEnumerable<PlanStep> PrepareSteps(ClusterSpec spec, IEnumerable<TopologyNode> nodes, MachineAccess access) =>
        nodes.Select(n => new PlanStep(Prepare(n), (ctx, ct) => PrepareAsync(ctx, spec, access, n, ct))
        {
            DependsOn = [n.MachineStep],
            Description = $"prepare {n.Key}: swap off, overlay/br_netfilter, sysctls, containerd (systemd cgroups), kubelet/kubeadm/kubectl {spec.KubernetesVersion}",
        });

    private IEnumerable<PlanStep> WorkerJoins(ClusterSpec spec, SelfManagedTopology topology, IEnumerable<TopologyNode> workers, MachineAccess access, IReadOnlyList<string> after) =>
        workers.Select(w => new PlanStep($"kubeadm:{w.Key}", (ctx, ct) => JoinAsync(ctx, topology, access, w, controlPlane: false, ct))
        {
            DependsOn = [.. after, Prepare(w)],
            Description = $"kubeadm join worker {w.Key} through the load balancer",
            Resources = [$"worker on {w.ResourceName(spec.Id.Name)}"],
        });

    /// <summary>A bootstrap token in kubeadm's format: [a-z0-9]{6}.[a-z0-9]{16}.</summary>
    internal static string NewToken()
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        string Part(int n) => new(RandomNumberGenerator.GetItems<char>(alphabet, n));
        return $"{Part(6)}.{Part(16)}";
    }

    private static async Task PrepareAsync(StepContext ctx, ClusterSpec spec, MachineAccess access, TopologyNode node, CancellationToken ct)
    {
        var shell = await access.ShellAsync(ctx, node.Key, ct).ConfigureAwait(false);
        await shell.RunAsync(new RemoteScript("kubeadm:prepare", KubeadmScripts.Prepare(), retries: 3), ct).ConfigureAwait(false);
        var version = spec.KubernetesVersion!;
        var source = ArtifactSource.Parse(spec.ArtifactSource, spec.AllowInsecureArtifactSource);
        if (source.IsOfficial)
        {
            // Waits for cloud-init and the dpkg lock itself; a retry covers a mirror's hiccup.
            await shell.RunAsync(new RemoteScript("kubeadm:install-packages", KubeadmScripts.InstallFromApt(version), retries: 3, timeout: TimeSpan.FromMinutes(20)), ct).ConfigureAwait(false);
            return;
        }
        await KubeadmBinaries.InstallAsync(shell, source, version, ct).ConfigureAwait(false);
    }

    private async Task InitAsync(StepContext ctx, ClusterSpec spec, SelfManagedTopology topology, MachineAccess access, TopologyNode node, CancellationToken ct)
    {
        // The token and key are ours, made before init and kept in state, so a re-run reuses the same ones.
        var token = ctx.Session.Read(s => s.Secrets.GetValueOrDefault(TokenSecret));
        if (token is null)
        {
            var made = NewToken();
            var key = Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant();
            var expiry = time.GetUtcNow().AddHours(TokenTtlHours);
            ctx.Mutate(s =>
            {
                s.Secrets[TokenSecret] = made;
                s.Secrets[CertificateKeySecret] = key;
                s.Resources[TokenExpiryResource] = expiry.ToString("O");
            });
            await ctx.Session.CheckpointAsync().ConfigureAwait(false);
        }
        var (endpoints, lb, self, ca, cert, keyPem, bootstrap, certificateKey) = ctx.Session.Read(s => (
            DatastoreSecrets.Endpoints(s, topology),
            s.Nodes.First(n => n.Key == topology.LoadBalancer.Key),
            s.Nodes.First(n => n.Key == node.Key),
            s.Secrets[DatastoreSecrets.CaCertificate], s.Secrets[DatastoreSecrets.ClientCertificate], s.Secrets[DatastoreSecrets.ClientKey],
            s.Secrets[TokenSecret], s.Secrets[CertificateKeySecret]));
        var shell = await access.ShellAsync(ctx, node.Key, ct).ConfigureAwait(false);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(ca), $"{DatastoreSecrets.RemoteFolder}/ca.crt", Private, ct).ConfigureAwait(false);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(cert), $"{DatastoreSecrets.RemoteFolder}/client.crt", Private, ct).ConfigureAwait(false);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(keyPem), $"{DatastoreSecrets.RemoteFolder}/client.key", Private, ct).ConfigureAwait(false);
        var config = KubeadmConfigs.Init(spec.KubernetesVersion!, self.PrivateIP!, lb.PublicIP ?? lb.PrivateIP!, lb.PrivateIP!, endpoints, bootstrap, certificateKey, spec.CloudController);
        var result = await RunWithConfigAsync(shell, KubeadmScripts.InitConfig, config, new RemoteScript("kubeadm:init", KubeadmScripts.Init()) { Secrets = [bootstrap, certificateKey] }, ct).ConfigureAwait(false);
        var hash = result.StandardOutput.Trim().Split('\n').Last().Trim();
        if (!System.Text.RegularExpressions.Regex.IsMatch(hash, "^[0-9a-f]{64}\\z")) throw new KsctlException("KsctlKubeadmInitFailed", KsctlErrorCategory.InvalidResult, $"kubeadm init on {node.Key} did not leave a CA certificate to hash (got '{hash}').", node.Key);
        ctx.Mutate(s => s.Secrets[CaHashSecret] = hash);
    }

    private async Task JoinAsync(StepContext ctx, SelfManagedTopology topology, MachineAccess access, TopologyNode node, bool controlPlane, CancellationToken ct)
    {
        await EnsureFreshTokenAsync(ctx, topology, access, ct).ConfigureAwait(false);
        var (lb, self, token, hash, key) = ctx.Session.Read(s => (
            s.Nodes.First(n => n.Key == topology.LoadBalancer.Key), s.Nodes.First(n => n.Key == node.Key),
            s.Secrets[TokenSecret], s.Secrets[CaHashSecret], s.Secrets[CertificateKeySecret]));
        var shell = await access.ShellAsync(ctx, node.Key, ct).ConfigureAwait(false);
        var config = KubeadmConfigs.Join(lb.PrivateIP!, token, hash, controlPlane ? key : null, self.PrivateIP!, ctx.Session.Read(s => s.Spec.CloudController));
        await RunWithConfigAsync(shell, KubeadmScripts.JoinConfig, config, new RemoteScript($"kubeadm:join-{node.Key}", KubeadmScripts.Join()) { Secrets = [token, key] }, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Uploads a config file holding secrets and runs the script that uses (and always removes) it; a second attempt
    /// uploads it again, since the first one's script removed it however it ended.
    /// </summary>
    private static async Task<RemoteCommandResult> RunWithConfigAsync(IRemoteShell shell, string path, string config, RemoteScript script, CancellationToken ct)
    {
        const int attempts = 2;
        for (var attempt = 1; ; attempt++)
        {
            await shell.UploadAsync(Encoding.UTF8.GetBytes(config), path, Private, ct).ConfigureAwait(false);
            try
            {
                return await shell.RunAsync(script, ct).ConfigureAwait(false);
            }
            catch (KsctlException) when (attempt < attempts && !ct.IsCancellationRequested)
            {
                // The script resets a half-done node itself (kubeadm reset -f) before trying again.
            }
        }
    }

    /// <summary>Before a join, makes sure the bootstrap token outlives it; joins running in parallel refresh it once.</summary>
    private async Task EnsureFreshTokenAsync(StepContext ctx, SelfManagedTopology topology, MachineAccess access, CancellationToken ct)
    {
        await _refresh.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var expiry = ctx.Session.Read(s => s.Resources.TryGetValue(TokenExpiryResource, out var v) ? DateTimeOffset.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : DateTimeOffset.MinValue);
            if (expiry - time.GetUtcNow() > RefreshMargin) return;
            var made = NewToken();
            var cp0 = topology.ControlPlanes[0];
            var (key, old, endpoints, lb, self) = ctx.Session.Read(s => (s.Secrets[CertificateKeySecret], s.Secrets[TokenSecret],
                DatastoreSecrets.Endpoints(s, topology), s.Nodes.First(n => n.Key == topology.LoadBalancer.Key), s.Nodes.First(n => n.Key == cp0.Key)));
            var version = ctx.Session.Read(s => s.Spec.KubernetesVersion!);
            var shell = await access.ShellAsync(ctx, cp0.Key, ct).ConfigureAwait(false);
            var config = KubeadmConfigs.Init(version, self.PrivateIP!, lb.PublicIP ?? lb.PrivateIP!, lb.PrivateIP!, endpoints, made, key);
            var newExpiry = time.GetUtcNow().AddHours(TokenTtlHours);
            await RunWithConfigAsync(shell, KubeadmScripts.RefreshConfig, config, new RemoteScript("kubeadm:refresh-token", KubeadmScripts.RefreshToken(KubeadmConfigs.TokenId(old))) { Secrets = [made, key] }, ct).ConfigureAwait(false);
            ctx.Mutate(s =>
            {
                s.Secrets[TokenSecret] = made;
                s.Resources[TokenExpiryResource] = newExpiry.ToString("O");
            });
            await ctx.Session.CheckpointAsync().ConfigureAwait(false);
        }
        finally { _refresh.Release(); }
    }

    private static async Task CaptureKubeconfigAsync(StepContext ctx, SelfManagedTopology topology, MachineAccess access, CancellationToken ct)
    {
        var shell = await access.ShellAsync(ctx, topology.ControlPlanes[0].Key, ct).ConfigureAwait(false);
        var read = await shell.RunAsync(new RemoteScript("kubeadm:read-kubeconfig", $"cat {KubeadmScripts.AdminConf}\n"), ct).ConfigureAwait(false);
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
