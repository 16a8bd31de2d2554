using System.Security.Cryptography;
using System.Text;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Distributions.Artifacts;
using Ksctl.Core.Engine;
using Ksctl.Core.Kube;
using Ksctl.Core.Model;
using Ksctl.Core.Remote;

namespace Ksctl.Core.Distributions.K3s;

/// <summary>
/// What each K3s step does on its machine: the binary (checksum-verified), killall and uninstaller beside it as
/// install.sh leaves them, the datastore client credentials, the tokens and the unit. Servers get the server token;
/// agents get only the agent token CP0 wrote, so a worker never holds a secret that joins a server.
/// </summary>
internal static class K3sInstaller
{
    public static readonly UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    public static readonly UnixFileMode Executable = (UnixFileMode)0b111_101_101;
    private static readonly UnixFileMode Readable = (UnixFileMode)0b110_100_100;
    private const string ServerTokenPath = K3sScripts.DataDir + "/server/token";
    private const string AgentTokenPath = K3sScripts.DataDir + "/server/agent-token";

    private static async Task InstallBinaryAsync(ClusterSpec spec, IRemoteShell shell, string unit, CancellationToken ct)
    {
        var version = K3sDistribution.K3sVersion(spec.KubernetesVersion!);
        await ArtifactSource.Parse(spec.ArtifactSource, spec.AllowInsecureArtifactSource).InstallAsync(shell, OfficialArtifacts.K3s(version), ct).ConfigureAwait(false);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(K3sScripts.Killall()), K3sScripts.KillallPath, Executable, ct).ConfigureAwait(false);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(K3sScripts.UninstallerFile()), K3sScripts.UninstallPath(unit), Executable, ct).ConfigureAwait(false);
    }

    public static async Task InstallServerAsync(StepContext ctx, ClusterSpec spec, SelfManagedTopology topology, MachineAccess access, TopologyNode node, bool first, CancellationToken ct)
    {
        if (first) ctx.Mutate(s => s.Secrets.TryAdd(K3sDistribution.AgentSecret, Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant()));
        var (endpoints, lb, ca, cert, key, token, agentSecret) = ctx.Session.Read(s =>
        (
            DatastoreSecrets.Endpoints(s, topology),
            s.Nodes.First(n => n.Key == topology.LoadBalancer.Key),
            s.Secrets[DatastoreSecrets.CaCertificate],
            s.Secrets[DatastoreSecrets.ClientCertificate],
            s.Secrets[DatastoreSecrets.ClientKey],
            s.Secrets.GetValueOrDefault(K3sDistribution.TokenSecret),
            s.Secrets.GetValueOrDefault(K3sDistribution.AgentSecret)
        ));
        if (agentSecret is null) throw Missing("agent", node.Key);
        var shell = await access.ShellAsync(ctx, node.Key, ct).ConfigureAwait(false);
        await InstallBinaryAsync(spec, shell, K3sUnits.ServerUnit, ct).ConfigureAwait(false);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(ca), $"{DatastoreSecrets.RemoteFolder}/ca.crt", Private, ct).ConfigureAwait(false);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(cert), $"{DatastoreSecrets.RemoteFolder}/client.crt", Private, ct).ConfigureAwait(false);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(key), $"{DatastoreSecrets.RemoteFolder}/client.key", Private, ct).ConfigureAwait(false);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(agentSecret), K3sUnits.AgentTokenFile, Private, ct).ConfigureAwait(false);
        string? join = null;
        if (!first)
        {
            if (token is null) throw Missing("server", node.Key);
            await shell.UploadAsync(Encoding.UTF8.GetBytes(token), K3sUnits.TokenFile, Private, ct).ConfigureAwait(false);
            join = K3sUnits.ApiUrl(lb.PrivateIP, "LoadBalancer.PrivateIP");
        }
        var cni = K3sCni.Manifest(spec.Cni);
        // k3s applies every file in its server manifests folder at start ("Auto-Deploying Manifests", docs.k3s.io/installation/packaged-components).
        if (first && cni is not null) await shell.UploadAsync(Encoding.UTF8.GetBytes(cni), K3sCni.ManifestPath, Readable, ct).ConfigureAwait(false);
        var unit = K3sUnits.Server(endpoints, lb.PublicIP ?? lb.PrivateIP!, lb.PrivateIP!, join, spec.Cni, spec.CloudController);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(unit), "/etc/systemd/system/k3s.service.ksctl-new", Readable, ct).ConfigureAwait(false);
        await shell.RunAsync(new RemoteScript($"k3s:server-{node.Key}", K3sScripts.Start(K3sUnits.ServerUnit, AgentTokenPath), retries: first ? 2 : 1), ct).ConfigureAwait(false);
        if (!first) return;
        var read = await shell.RunAsync(new RemoteScript("k3s:read-tokens", $"cat {ServerTokenPath}\ncat {AgentTokenPath}\n"), ct).ConfigureAwait(false);
        var lines = read.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var serverToken = lines.ElementAtOrDefault(0) ?? "";
        var agentToken = lines.ElementAtOrDefault(1) ?? "";
        // What a machine wrote is checked before it is kept: k3s's full tokens are K10<hash>::server:/::node:<secret>.
        if (!serverToken.StartsWith("K10", StringComparison.Ordinal) || !serverToken.Contains("::server:", StringComparison.Ordinal))
            throw new KsctlException("KsctlJoinTokenMissing", KsctlErrorCategory.InvalidData, "K3s wrote no server token in its full form (K10...::server:...).", node.Key);
        if (!agentToken.StartsWith("K10", StringComparison.Ordinal) || !agentToken.EndsWith("::node:" + agentSecret, StringComparison.Ordinal))
            throw new KsctlException("KsctlJoinTokenMissing", KsctlErrorCategory.InvalidData, "K3s wrote no agent token for the agent secret it was given.", node.Key);
        ctx.Mutate(s =>
        {
            s.Secrets[K3sDistribution.TokenSecret] = serverToken;
            s.Secrets[K3sDistribution.AgentTokenSecret] = agentToken;
        });
    }

    public static async Task InstallAgentAsync(StepContext ctx, ClusterSpec spec, SelfManagedTopology topology, MachineAccess access, TopologyNode node, CancellationToken ct)
    {
        var (lb, token) = ctx.Session.Read(s => (s.Nodes.First(n => n.Key == topology.LoadBalancer.Key), s.Secrets.GetValueOrDefault(K3sDistribution.AgentTokenSecret)));
        if (token is null) throw Missing("agent", node.Key);
        var shell = await access.ShellAsync(ctx, node.Key, ct).ConfigureAwait(false);
        await InstallBinaryAsync(spec, shell, K3sUnits.AgentUnit, ct).ConfigureAwait(false);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(token), K3sUnits.TokenFile, Private, ct).ConfigureAwait(false);
        var unit = K3sUnits.Agent(K3sUnits.ApiUrl(lb.PrivateIP, "LoadBalancer.PrivateIP"), spec.CloudController);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(unit), "/etc/systemd/system/k3s-agent.service.ksctl-new", Readable, ct).ConfigureAwait(false);
        await shell.RunAsync(new RemoteScript($"k3s:agent-{node.Key}", K3sScripts.Start(K3sUnits.AgentUnit, K3sScripts.DataDir + "/agent/client-kubelet.crt"), retries: 1) { Secrets = [token] }, ct).ConfigureAwait(false);
    }

    /// <summary>Reads k3s.yaml until it is whole (k3s writes it in place), at most a few times.</summary>
    public static async Task CaptureKubeconfigAsync(StepContext ctx, SelfManagedTopology topology, MachineAccess access, CancellationToken ct)
    {
        var shell = await access.ShellAsync(ctx, topology.ControlPlanes[0].Key, ct).ConfigureAwait(false);
        var (lb, id) = ctx.Session.Read(s => (s.Nodes.First(n => n.Key == topology.LoadBalancer.Key), s.Id));
        string text = "", why = "";
        for (var attempt = 1; attempt <= 10; attempt++)
        {
            var read = await shell.RunAsync(new RemoteScript("k3s:read-kubeconfig", K3sScripts.ReadKubeconfig()), ct).ConfigureAwait(false);
            text = read.StandardOutput;
            if (K3sKubeconfig.IsComplete(text, out why)) break;
            text = "";
            await Task.Delay(TimeSpan.FromSeconds(Math.Min(attempt, 5)), ct).ConfigureAwait(false);
        }
        if (text.Length == 0)
            throw new KsctlException("KsctlKubeconfigInvalid", KsctlErrorCategory.InvalidData, $"The kubeconfig K3s wrote on {topology.ControlPlanes[0].Key} stayed incomplete: {why}.", topology.ControlPlanes[0].Key);
        var server = K3sUnits.ApiUrl(lb.PublicIP ?? lb.PrivateIP, "LoadBalancer.PublicIP");
        var kubeconfig = KubeconfigFile.Normalize(text, id.DefaultContextName, server);
        ctx.Mutate(s =>
        {
            s.Secrets[ClusterState.KubeconfigSecret] = kubeconfig;
            s.ContextName = id.DefaultContextName;
            s.Endpoint = server;
        });
    }

    private static KsctlException Missing(string which, string node) =>
        new("KsctlJoinTokenMissing", KsctlErrorCategory.InvalidData, $"The K3s {which} token is not in the state; control plane 0 must be installed first.", node);
}
