using System.Text;
using System.Text.RegularExpressions;
using Ksctl.Core.Distributions;
using Ksctl.Core.Distributions.Etcd;
using Ksctl.Core.Distributions.K3s;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Remote;

namespace Ksctl.Core.Backup;

/// <summary>
/// The restore plan, in etcd's disaster-recovery order (op-guide/recovery.md "Restoring a cluster"): every member
/// restores the same snapshot into a new data folder as a member of a NEW cluster (new --initial-cluster-token), the API
/// servers stop so nothing writes to the old cluster meanwhile, every etcd stops, the new data is swapped in, the
/// members start together (a new cluster needs its quorum), the cluster's health is checked over TLS, the API servers
/// start again, and the old data is removed. Every step is idempotent and checkpointed: an interrupted restore resumes.
/// </summary>
internal static partial class EtcdRestoreSteps
{
    public const string HealthStep = "restore:etcd-health";
    private static readonly UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [GeneratedRegex("^[a-z][a-z0-9-]{0,79}\\z")]
    private static partial Regex TokenPattern();

    public static bool IsValidToken(string? token) => token is not null && TokenPattern().IsMatch(token);

    public static string NewToken(ClusterId cluster) =>
        $"{cluster.Name}-etcd-{Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4)).ToLowerInvariant()}";

    public static IReadOnlyList<PlanStep> Create(ClusterState state, string token, EtcdBackup backup, ReadOnlyMemory<byte> snapshot, MachineAccess access)
    {
        if (!IsValidToken(token)) throw new ArgumentException("Invalid cluster token.", nameof(token));
        var members = EtcdSnapshotSteps.Members(state);
        var planes = state.Nodes.Where(n => n.Role == NodeRole.ControlPlane && n.Key is not null).OrderBy(n => n.Index).ToList();
        var kubeadm = state.Spec.Distribution == DistributionKind.Kubeadm;
        // Addresses come from the state: each passes UnitValue's address rule before it is put in a script or unit.
        var addresses = members.Select(m => (m.Index, Address: Distributions.Systemd.UnitValue.Address(m.PrivateIP, "Datastore.PrivateIP"))).ToList();
        var initialCluster = string.Join(',', addresses.Select(a => $"infra{a.Index}=https://{a.Address}:2380"));

        var prepare = members.Select(m => new PlanStep($"restore:prepare:{m.Key}", async (ctx, ct) =>
        {
            var shell = await access.ShellAsync(ctx, m.Key!, ct).ConfigureAwait(false);
            await shell.UploadAsync(snapshot, BackupScripts.RestoreUpload, Private, ct).ConfigureAwait(false);
            var address = addresses.First(a => a.Index == m.Index).Address;
            await shell.RunAsync(new RemoteScript($"etcd:restore-prepare-infra{m.Index}", BackupScripts.Prepare(m.Index, address, initialCluster, token, backup.Sha256), retries: 1), ct).ConfigureAwait(false);
        })
        {
            Description = $"upload backup {backup.Id}, check its SHA-256 there and restore it as member infra{m.Index} of a new cluster into a staging data folder",
            Resources = [$"/var/lib/etcd/.ksctl-restore-{token} on {m.Key}"],
        }).ToList();

        var stopApi = planes.Select(p => Run(access, $"restore:stop-apiserver:{p.Key}", p.Key!, kubeadm ? BackupScripts.PauseStaticApiServer() : BackupScripts.Stop(K3sUnits.ServerUnit),
            Names(prepare), kubeadm ? "move kube-apiserver's static Pod manifest aside (the kubelet stops it)" : "stop the k3s server (its API server writes to etcd)")).ToList();
        var stopEtcd = members.Select(m => Run(access, $"restore:stop-etcd:{m.Key}", m.Key!, BackupScripts.Stop("etcd"), Names(stopApi).Concat(Names(prepare)).ToArray(), "stop etcd")).ToList();
        var swap = members.Select(m => new PlanStep($"restore:swap:{m.Key}", async (ctx, ct) =>
        {
            var shell = await access.ShellAsync(ctx, m.Key!, ct).ConfigureAwait(false);
            await shell.RunAsync(new RemoteScript($"etcd:restore-swap-infra{m.Index}", BackupScripts.Swap(token), retries: 1), ct).ConfigureAwait(false);
            var self = addresses.First(a => a.Index == m.Index).Address;
            await shell.UploadAsync(Encoding.UTF8.GetBytes(EtcdDatastore.Unit(m.Index, self, addresses, token)), "/etc/systemd/system/etcd.service.ksctl-new", (UnixFileMode)0b110_100_100, ct).ConfigureAwait(false);
        })
        {
            DependsOn = Names(stopEtcd),
            Description = "swap the restored data in (the old data is kept aside until the new cluster is healthy) and write the unit with the new cluster token",
        }).ToList();
        var start = members.Select(m => Run(access, $"restore:start-etcd:{m.Key}", m.Key!, EtcdDatastore.StartScript(), Names(swap), "start etcd (the members form the new cluster together)")).ToList();
        var health = new PlanStep(HealthStep, (ctx, ct) => CheckHealthAsync(ctx, members, addresses.Select(a => a.Address).ToList(), access, ct))
        {
            DependsOn = Names(start),
            Description = "check every etcd member is healthy over TLS with the client certificate",
        };
        var startApi = planes.Select(p => Run(access, $"restore:start-apiserver:{p.Key}", p.Key!, kubeadm ? BackupScripts.ResumeStaticApiServer() : BackupScripts.Start(K3sUnits.ServerUnit),
            [HealthStep], kubeadm ? "put kube-apiserver's manifest back (the kubelet starts it)" : "start the k3s server")).ToList();
        var cleanup = members.Select(m => Run(access, $"restore:cleanup:{m.Key}", m.Key!, BackupScripts.Cleanup(token), [HealthStep], "remove the data the restore replaced")).ToList();
        return [.. prepare, .. stopApi, .. stopEtcd, .. swap, .. start, health, .. startApi, .. cleanup];
    }

    private static string[] Names(IEnumerable<PlanStep> steps) => steps.Select(s => s.Name).ToArray();

    private static PlanStep Run(MachineAccess access, string name, string key, string script, string[] after, string description) =>
        new(name, async (ctx, ct) =>
        {
            var shell = await access.ShellAsync(ctx, key, ct).ConfigureAwait(false);
            await shell.RunAsync(new RemoteScript(name.Replace(':', '-'), script, retries: 1), ct).ConfigureAwait(false);
        })
        {
            DependsOn = after,
            Description = $"{description} on {key}",
        };

    /// <summary>As the create's health step: the client certificate on the first member for the check, removed after.</summary>
    internal static async Task CheckHealthAsync(StepContext ctx, IReadOnlyList<NodeState> members, IReadOnlyList<string> addresses, MachineAccess access, CancellationToken ct)
    {
        var (ca, cert, key) = ctx.Session.Read(s => (s.Secrets[DatastoreSecrets.CaCertificate], s.Secrets[DatastoreSecrets.ClientCertificate], s.Secrets[DatastoreSecrets.ClientKey]));
        var shell = await access.ShellAsync(ctx, members[0].Key!, ct).ConfigureAwait(false);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(ca), "/etc/ksctl/etcd-check/ca.crt", Private, ct).ConfigureAwait(false);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(cert), "/etc/ksctl/etcd-check/client.crt", Private, ct).ConfigureAwait(false);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(key), "/etc/ksctl/etcd-check/client.key", Private, ct).ConfigureAwait(false);
        await shell.RunAsync(new RemoteScript("etcd:health", EtcdDatastore.HealthScript(addresses.Select(a => $"https://{a}:2379"))), ct).ConfigureAwait(false);
    }
}
