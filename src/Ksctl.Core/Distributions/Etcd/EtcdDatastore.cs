using System.Text;
using Ksctl.Core.Distributions.Artifacts;
using Ksctl.Core.Distributions.Systemd;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Remote;

namespace Ksctl.Core.Distributions.Etcd;

/// <summary>
/// The external datastore: members infra0..N-1 as a systemd unit each, TLS for clients and peers with client-cert
/// auth, data in /var/lib/etcd. Members start in parallel (a new cluster needs a quorum to come up), then one step
/// checks the whole cluster's health over TLS with the client certificate.
/// </summary>
internal static class EtcdDatastore
{
    public const string Version = "v3.5.21";
    public const string PkiStep = "etcd:pki";
    public const string HealthStep = "etcd:health";
    public const string ServerCertificate = "etcd:server.crt";
    public const string ServerKey = "etcd:server.key";
    private const string Pki = "/etc/etcd/pki";
    private static readonly UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public static string MemberStep(TopologyNode node) => $"etcd:{node.Key}";

    public static IReadOnlyList<PlanStep> CreateSteps(ClusterSpec spec, SelfManagedTopology topology, MachineAccess access)
    {
        var steps = new List<PlanStep>
        {
            new(PkiStep, (ctx, ct) => { CreatePki(ctx, topology); return Task.CompletedTask; })
            {
                DependsOn = topology.Datastores.Select(d => d.MachineStep).ToArray(),
                Description = "generate the etcd CA, member and client certificates (SANs: 127.0.0.1, localhost, every member's private address)",
                Resources = ["etcd CA (2 years)", "etcd member certificate (1 year)", "etcd client certificate (1 year)"],
            },
        };
        steps.AddRange(topology.Datastores.Select(d => new PlanStep(MemberStep(d), (ctx, ct) => InstallMemberAsync(ctx, spec, topology, access, d, ct))
        {
            DependsOn = [PkiStep],
            Description = $"install etcd member infra{d.Index} on {d.Key} as a systemd unit",
            Resources = [$"etcd member infra{d.Index} on {d.ResourceName(spec.Id.Name)}"],
        }));
        steps.Add(new PlanStep(HealthStep, (ctx, ct) => CheckHealthAsync(ctx, topology, access, ct))
        {
            DependsOn = topology.Datastores.Select(MemberStep).ToArray(),
            Description = "check every etcd member is healthy over TLS with the client certificate",
        });
        return steps;
    }

    public static IReadOnlyList<PlanStep> UninstallSteps(IReadOnlyList<NodeState> nodes, MachineAccess access) =>
        nodes.Where(n => n.Role == NodeRole.Datastore).Select(n => new PlanStep($"etcd-uninstall:{n.Key}", async (ctx, ct) =>
        {
            var shell = await access.ShellAsync(ctx, n.Key!, ct).ConfigureAwait(false);
            await shell.RunAsync(new RemoteScript("etcd:uninstall", UninstallScript(), retries: 2), ct).ConfigureAwait(false);
        })
        {
            Description = $"stop etcd on {n.Key} and remove its unit, data and certificates",
        }).ToArray();

    /// <summary>
    /// etcd's unit. With Type=notify (etcd reports ready once it has joined a quorum), a member started alone blocks
    /// in "activating" until enough members are up; systemd's default 90 s start timeout would kill it when the other
    /// members are still queued behind other steps, so TimeoutStartSec=0, Restart with RestartSec, and ordering after
    /// network-online (etcd 3.5's contrib/systemd/etcd.service and the systemd.service man page). Addresses go through
    /// <see cref="UnitValue"/>.
    /// </summary>
    internal static string Unit(int index, string address, IEnumerable<(int Index, string Address)> members, string clusterToken)
    {
        var self = UnitValue.Address(address, "Datastore.PrivateIP");
        var cluster = string.Join(',', members.Select(m => $"infra{m.Index}=https://{UnitValue.Address(m.Address, "Datastore.PrivateIP")}:2380"));
        var token = UnitValue.Arg(clusterToken, "etcd cluster token").Trim('\'');
        return $"""
        [Unit]
        Description=etcd datastore member infra{index} (ksctl)
        Documentation=https://etcd.io/docs/v3.5/
        Wants=network-online.target
        After=network-online.target

        [Service]
        Type=notify
        ExecStart=/usr/local/bin/etcd --name infra{index} --data-dir /var/lib/etcd --listen-peer-urls https://{self}:2380 --initial-advertise-peer-urls https://{self}:2380 --listen-client-urls https://{self}:2379,https://127.0.0.1:2379 --advertise-client-urls https://{self}:2379 --initial-cluster {cluster} --initial-cluster-state new --initial-cluster-token {token} --client-cert-auth --trusted-ca-file {Pki}/ca.crt --cert-file {Pki}/server.crt --key-file {Pki}/server.key --peer-client-cert-auth --peer-trusted-ca-file {Pki}/ca.crt --peer-cert-file {Pki}/server.crt --peer-key-file {Pki}/server.key
        TimeoutStartSec=0
        Restart=always
        RestartSec=5s
        LimitNOFILE=40000

        [Install]
        WantedBy=multi-user.target

        """.Replace("\r\n", "\n");
    }

    internal static string StartScript() => """
        set -euo pipefail
        unit=/etc/systemd/system/etcd.service
        mkdir -p /var/lib/etcd
        chmod 0700 /var/lib/etcd
        # A retry after a failed start finds the new unit already in place (no .ksctl-new): it starts it again.
        changed=false
        if [ -f "$unit.ksctl-new" ]; then
          if cmp -s "$unit.ksctl-new" "$unit"; then rm -f "$unit.ksctl-new"; else mv -f "$unit.ksctl-new" "$unit"; changed=true; fi
        fi
        if "$changed" || ! systemctl is-active --quiet etcd; then
          systemctl daemon-reload
          systemctl enable etcd >/dev/null 2>&1
          # Not waiting here: the first member's start only completes once a quorum runs; the health step waits.
          systemctl restart --no-block etcd
        fi

        """.Replace("\r\n", "\n");

    internal static string HealthScript(IEnumerable<string> endpoints) => $$"""
        set -euo pipefail
        deadline=$((SECONDS + 180))
        until ETCDCTL_API=3 etcdctl --endpoints={{ShellQuote.Quote(string.Join(',', endpoints.Select(e => UnitValue.HttpsEndpoint(e, "Datastore.PrivateIP"))))}} --cacert=/etc/ksctl/etcd-check/ca.crt --cert=/etc/ksctl/etcd-check/client.crt --key=/etc/ksctl/etcd-check/client.key endpoint health; do
          if [ "$SECONDS" -ge "$deadline" ]; then
            echo "etcd did not become healthy within 180 s" >&2
            exit 1
          fi
          sleep 2
        done
        rm -rf /etc/ksctl/etcd-check

        """.Replace("\r\n", "\n");

    internal static string UninstallScript() => """
        set -euo pipefail
        systemctl disable --now etcd >/dev/null 2>&1 || true
        rm -f /etc/systemd/system/etcd.service /usr/local/bin/etcd /usr/local/bin/etcdctl
        systemctl daemon-reload >/dev/null 2>&1 || true
        rm -rf /etc/etcd/pki /etc/ksctl/etcd-check
        # The data folder may be a mount point: empty it rather than remove it.
        if [ -d /var/lib/etcd ]; then find /var/lib/etcd -mindepth 1 -delete; fi

        """.Replace("\r\n", "\n");

    private static void CreatePki(StepContext ctx, SelfManagedTopology topology)
    {
        var (addresses, name) = ctx.Session.Read(s => (topology.Datastores.Select(d => s.Nodes.First(n => n.Key == d.Key).PrivateIP!).ToList(), s.Id.Name));
        var now = DateTimeOffset.UtcNow;
        var ca = EtcdCertificateAuthority.CreateCa(name, now);
        var server = EtcdCertificateAuthority.CreateServer(ca, addresses, now);
        var client = EtcdCertificateAuthority.CreateClient(ca, now);
        ctx.Mutate(s =>
        {
            s.Secrets[DatastoreSecrets.CaCertificate] = ca.Certificate;
            s.Secrets[DatastoreSecrets.CaKey] = ca.PrivateKey;
            s.Secrets[ServerCertificate] = server.Certificate;
            s.Secrets[ServerKey] = server.PrivateKey;
            s.Secrets[DatastoreSecrets.ClientCertificate] = client.Certificate;
            s.Secrets[DatastoreSecrets.ClientKey] = client.PrivateKey;
            EtcdCertificateExpiry.Record(s, ca, server, client);
        });
    }

    private static async Task InstallMemberAsync(StepContext ctx, ClusterSpec spec, SelfManagedTopology topology, MachineAccess access, TopologyNode node, CancellationToken ct)
    {
        var (members, ca, cert, key, name) = ctx.Session.Read(s => (
            topology.Datastores.Select(d => (d.Index, s.Nodes.First(n => n.Key == d.Key).PrivateIP!)).ToList(),
            s.Secrets[DatastoreSecrets.CaCertificate], s.Secrets[ServerCertificate], s.Secrets[ServerKey], s.Id.Name));
        var shell = await access.ShellAsync(ctx, node.Key, ct).ConfigureAwait(false);
        await ArtifactSource.Parse(spec.ArtifactSource, spec.AllowInsecureArtifactSource).InstallAsync(shell, OfficialArtifacts.Etcd(Version), ct).ConfigureAwait(false);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(ca), $"{Pki}/ca.crt", Private, ct).ConfigureAwait(false);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(cert), $"{Pki}/server.crt", Private, ct).ConfigureAwait(false);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(key), $"{Pki}/server.key", Private, ct).ConfigureAwait(false);
        var address = members.First(m => m.Index == node.Index).Item2;
        await shell.UploadAsync(Encoding.UTF8.GetBytes(Unit(node.Index, address, members, $"{name}-etcd")), "/etc/systemd/system/etcd.service.ksctl-new", (UnixFileMode)0b110_100_100, ct).ConfigureAwait(false);
        await shell.RunAsync(new RemoteScript($"etcd:start-infra{node.Index}", StartScript(), retries: 2), ct).ConfigureAwait(false);
    }

    private static async Task CheckHealthAsync(StepContext ctx, SelfManagedTopology topology, MachineAccess access, CancellationToken ct)
    {
        var (endpoints, ca, cert, key) = ctx.Session.Read(s => (DatastoreSecrets.Endpoints(s, topology),
            s.Secrets[DatastoreSecrets.CaCertificate], s.Secrets[DatastoreSecrets.ClientCertificate], s.Secrets[DatastoreSecrets.ClientKey]));
        var first = topology.Datastores[0].Key;
        var shell = await access.ShellAsync(ctx, first, ct).ConfigureAwait(false);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(ca), "/etc/ksctl/etcd-check/ca.crt", Private, ct).ConfigureAwait(false);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(cert), "/etc/ksctl/etcd-check/client.crt", Private, ct).ConfigureAwait(false);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(key), "/etc/ksctl/etcd-check/client.key", Private, ct).ConfigureAwait(false);
        await shell.RunAsync(new RemoteScript("etcd:health", HealthScript(endpoints)), ct).ConfigureAwait(false);
    }
}
