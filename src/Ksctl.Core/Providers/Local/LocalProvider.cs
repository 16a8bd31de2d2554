using System.Text;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Engine;
using Ksctl.Core.Kube;
using Ksctl.Core.Model;
using Ksctl.Core.Processes;
using Ksctl.Core.Storage;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Local;

/// <summary>
/// Managed clusters on this machine with the real <c>kind</c> CLI (nodes are Docker containers):
/// 1 control plane + N-1 workers from <c>kindest/node:v&lt;version&gt;</c>, context <c>kind-&lt;name&gt;</c>.
/// kind writes its kubeconfig to a private temp file, never to the user's ~/.kube/config: Switch-KsctlContext does that.
/// </summary>
internal sealed class LocalProvider(KsctlServices services) : IManagedClusterProvider, IPreflightProvider
{
    internal static readonly TimeSpan CreateTimeout = TimeSpan.FromMinutes(15);
    /// <summary>Recorded before `kind create` runs, so that a cluster left by our own interrupted attempt can be told from someone else's.</summary>
    private const string CreateStartedResource = "kind:create-started";
    private static readonly TimeSpan QuickTimeout = TimeSpan.FromMinutes(1);
    private readonly IProcessRunner _processes = services.Processes;
    private readonly ILogger _logger = services.Loggers.CreateLogger<LocalProvider>();

    public ProviderDescriptor Descriptor { get; } = new()
    {
        Provider = CloudProvider.Local,
        SupportedTypes = [ClusterType.Managed],
        DefaultRegion = "LOCAL",
        Regions = ["LOCAL"],
        DefaultNodeCount = 2,
        DefaultKubernetesVersion = "1.33.1",
        ManagedDistributionName = "Kind",
    };

    public ClusterSpec Prepare(ClusterSpec spec)
    {
        SpecRules.NoSelfManagedFields(spec);
        SpecRules.NotApplicable("NodeSize", spec.NodeSize, "the Local provider runs nodes as Docker containers and takes no node size.");
        SpecRules.NotApplicable("Cni", spec.Cni, "kind clusters use kind's own CNI (kindnet).");
        SpecRules.NotApplicable("Application", spec.Applications, "applications are not installed on Local clusters in this version.");
        return spec with
        {
            Id = spec.Id with { Region = SpecRules.Region(Descriptor, spec.Id.Region) },
            KubernetesVersion = SpecRules.Version(spec.KubernetesVersion, Descriptor.DefaultKubernetesVersion, requirePatch: true),
            NodeCount = SpecRules.Count("NodeCount", spec.NodeCount, Descriptor.DefaultNodeCount, 1, 50),
        };
    }

    public async Task PreflightAsync(ClusterSpec spec, CancellationToken cancellationToken)
    {
        var missing = new List<string>();
        var kind = _processes.FindExecutable("kind");
        if (kind is null) missing.Add("the 'kind' CLI is not on PATH (install it: https://kind.sigs.k8s.io/docs/user/quick-start/#installation)");
        var docker = _processes.FindExecutable("docker");
        if (docker is null) missing.Add("the 'docker' CLI is not on PATH (install Docker Engine or Docker Desktop)");
        else
        {
            var info = await _processes.RunAsync(docker, ["info", "--format", "{{.ServerVersion}}"], QuickTimeout, cancellationToken).ConfigureAwait(false);
            if (info.ExitCode != 0)
                missing.Add($"the Docker engine is not running or not reachable ('docker info' said: {FirstLine(info.StandardError)})");
        }
        if (missing.Count > 0)
            throw new PrerequisiteMissingException(missing.Count == 2 || kind is null ? "kind" : "docker",
                $"The Local provider cannot create cluster '{spec.Id.Name}': {string.Join("; and ", missing)}.")
            { RecommendedAction = "Install kind and Docker, start the Docker engine, then run the command again. Use -WhatIf to see the plan without them." };
    }

    public IReadOnlyList<PlanStep> CreateSteps(ClusterSpec spec)
    {
        var name = spec.Id.Name;
        var nodes = spec.NodeCount!.Value;
        var image = $"kindest/node:v{spec.KubernetesVersion}";
        return
        [
            new PlanStep("kind:cluster", (ctx, ct) => CreateClusterAsync(ctx, spec, image, ct))
            {
                Description = $"create kind cluster '{name}' with 1 control plane and {nodes - 1} worker(s) from {image}",
                Resources = NodeNames(name, nodes).Select(n => $"container {n}").ToArray(),
            },
            new PlanStep("kubeconfig", (ctx, ct) => CaptureKubeconfigAsync(ctx, name, ct))
            {
                DependsOn = ["kind:cluster"],
                Description = $"capture the kubeconfig (context kind-{name}) into state",
                Resources = [$"context kind-{name}"],
            },
        ];
    }

    public IReadOnlyList<PlanStep> DeleteSteps(ClusterState state)
    {
        var name = state.Id.Name;
        return
        [
            new PlanStep("kind:cluster", (ctx, ct) => DeleteClusterAsync(ctx, name, ct))
            {
                Description = $"delete kind cluster '{name}' and its containers",
                Resources = state.Nodes.Select(n => $"container {n.Name}").ToArray(),
            },
        ];
    }

    /// <summary>kind's own node container names: &lt;name&gt;-control-plane, &lt;name&gt;-worker, &lt;name&gt;-worker2...</summary>
    internal static IEnumerable<string> NodeNames(string cluster, int count) =>
        Enumerable.Range(0, count).Select(i => i == 0 ? $"{cluster}-control-plane" : i == 1 ? $"{cluster}-worker" : $"{cluster}-worker{i}");

    internal static string KindConfig(string name, int nodes)
    {
        var sb = new StringBuilder()
            .Append("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nname: ").Append(name).Append("\nnodes:\n- role: control-plane\n");
        for (var i = 1; i < nodes; i++) sb.Append("- role: worker\n");
        return sb.ToString();
    }

    private async Task CreateClusterAsync(StepContext ctx, ClusterSpec spec, string image, CancellationToken ct)
    {
        var kind = RequireKind();
        var name = spec.Id.Name;
        var ours = ctx.Session.Read(s => s.Resources.ContainsKey(CreateStartedResource));
        if (await ExistsAsync(kind, name, ct).ConfigureAwait(false))
        {
            // Adopt only what an earlier attempt of ours started; a kind cluster someone else made is not ours to take (or later delete).
            if (!ours)
                throw new KsctlException("KsctlResourceExists", KsctlErrorCategory.ResourceExists,
                    $"A kind cluster named '{name}' already exists and was not created by Ksctl. Choose another -Name, or delete it with 'kind delete cluster --name {name}'.", name);
            _logger.LogWarning("kind cluster {Name} already exists (left by an interrupted attempt); adopting it.", name);
        }
        else
        {
            ctx.Mutate(s => s.Resources[CreateStartedResource] = name);
            await ctx.Session.CheckpointAsync().ConfigureAwait(false);
            var work = Path.Combine(services.Settings.Home, "tmp", $"kind-{name}-{Guid.NewGuid():N}");
            SecureFile.EnsureDirectory(Path.GetDirectoryName(work)!);
            SecureFile.EnsureDirectory(work);
            try
            {
                var config = Path.Combine(work, "kind-config.yaml");
                SecureFile.WriteAtomic(config, Encoding.UTF8.GetBytes(KindConfig(name, spec.NodeCount!.Value)));
                _logger.LogInformation("Running kind create cluster {Name} ({Nodes} nodes, {Image}); this takes a few minutes.", name, spec.NodeCount, image);
                var result = await _processes.RunAsync(kind,
                    ["create", "cluster", "--name", name, "--config", config, "--image", image, "--kubeconfig", Path.Combine(work, "kubeconfig"), "--wait", "5m"],
                    CreateTimeout, ct).ConfigureAwait(false);
                if (result.ExitCode != 0) throw new ExternalCommandException($"kind create cluster --name {name}", result.ExitCode, result.StandardError);
            }
            finally
            {
                try { Directory.Delete(work, recursive: true); } catch (IOException) { }
            }
        }
        ctx.Mutate(s =>
        {
            s.Resources["kind:cluster"] = name;
            s.Nodes = NodeNames(name, spec.NodeCount!.Value)
                .Select((n, i) => new NodeState { Name = n, Index = i, Role = i == 0 ? NodeRole.ControlPlane : NodeRole.Worker, ResourceId = n })
                .ToList();
        });
    }

    private async Task CaptureKubeconfigAsync(StepContext ctx, string name, CancellationToken ct)
    {
        var result = await _processes.RunAsync(RequireKind(), ["get", "kubeconfig", "--name", name], QuickTimeout, ct).ConfigureAwait(false);
        if (result.ExitCode != 0) throw new ExternalCommandException($"kind get kubeconfig --name {name}", result.ExitCode, result.StandardError);
        var context = $"kind-{name}";
        var normalized = KubeconfigFile.Normalize(result.StandardOutput, context);
        var server = KubeconfigFile.Parse(normalized, "kind").Clusters.First().ClusterEndpoint?.Server;
        ctx.Mutate(s =>
        {
            s.Secrets[ClusterState.KubeconfigSecret] = normalized;
            s.ContextName = context;
            s.Endpoint = server;
        });
    }

    private async Task DeleteClusterAsync(StepContext ctx, string name, CancellationToken ct)
    {
        var kind = RequireKind();
        // kind delete succeeds when the cluster is already gone, so this is safe to repeat.
        var result = await _processes.RunAsync(kind, ["delete", "cluster", "--name", name], CreateTimeout, ct).ConfigureAwait(false);
        if (result.ExitCode != 0) throw new ExternalCommandException($"kind delete cluster --name {name}", result.ExitCode, result.StandardError);
        ctx.Mutate(s => s.Resources.Remove("kind:cluster"));
    }

    private async Task<bool> ExistsAsync(string kind, string name, CancellationToken ct)
    {
        var result = await _processes.RunAsync(kind, ["get", "clusters"], QuickTimeout, ct).ConfigureAwait(false);
        if (result.ExitCode != 0) throw new ExternalCommandException("kind get clusters", result.ExitCode, result.StandardError);
        return result.StandardOutput.Split('\n', StringSplitOptions.TrimEntries).Contains(name, StringComparer.Ordinal);
    }

    private string RequireKind() => _processes.FindExecutable("kind")
        ?? throw new PrerequisiteMissingException("kind", "The 'kind' CLI is not on PATH (install it: https://kind.sigs.k8s.io/docs/user/quick-start/#installation).");

    private static string FirstLine(string text)
    {
        var line = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        return string.IsNullOrEmpty(line) ? "no error output" : line;
    }
}
