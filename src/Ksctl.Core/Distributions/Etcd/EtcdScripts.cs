using System.Text;
using Ksctl.Core.Remote;

namespace Ksctl.Core.Distributions.Etcd;

/// <summary>
/// The bash scripts that install, check and remove an etcd member as a systemd unit. Every script is idempotent (safe to
/// run again after a failure) and passes shellcheck.
/// </summary>
public static class EtcdScripts
{
    public const string BinaryDirectory = "/usr/local/bin";
    public const string PkiDirectory = "/etc/etcd/pki";
    public const string DataDirectory = "/var/lib/etcd";
    public const string UnitPath = "/etc/systemd/system/etcd.service";
    public const string CaCertificatePath = PkiDirectory + "/ca.crt";
    public const string CertificatePath = PkiDirectory + "/etcd.crt";
    public const string PrivateKeyPath = PkiDirectory + "/etcd.key";

    /// <summary>The systemd unit of a member: TLS for clients and peers, client certificates required on both.</summary>
    public static string Unit(EtcdMember member, IReadOnlyList<EtcdMember> cluster, string clusterToken)
    {
        var flags = new[]
        {
            $"--name {member.Name}",
            $"--data-dir {DataDirectory}",
            $"--listen-peer-urls {member.PeerUrl}",
            $"--initial-advertise-peer-urls {member.PeerUrl}",
            $"--listen-client-urls {member.ClientUrl},https://127.0.0.1:2379",
            $"--advertise-client-urls {member.ClientUrl}",
            $"--initial-cluster {EtcdMember.InitialCluster(cluster)}",
            $"--initial-cluster-token {clusterToken}",
            "--initial-cluster-state new",
            "--client-cert-auth",
            $"--trusted-ca-file {CaCertificatePath}",
            $"--cert-file {CertificatePath}",
            $"--key-file {PrivateKeyPath}",
            "--peer-client-cert-auth",
            $"--peer-trusted-ca-file {CaCertificatePath}",
            $"--peer-cert-file {CertificatePath}",
            $"--peer-key-file {PrivateKeyPath}",
        };
        var sb = new StringBuilder();
        sb.Append("[Unit]\n");
        sb.Append($"Description=etcd datastore member {member.Name} (ksctl)\n");
        sb.Append("Documentation=https://etcd.io/docs/\n");
        sb.Append("After=network-online.target\n");
        sb.Append("Wants=network-online.target\n\n");
        sb.Append("[Service]\n");
        sb.Append("Type=notify\n");
        sb.Append($"ExecStart={BinaryDirectory}/etcd \\\n");
        for (var i = 0; i < flags.Length; i++)
        {
            sb.Append("  ").Append(flags[i]).Append(i < flags.Length - 1 ? " \\\n" : "\n");
        }
        sb.Append("Restart=on-failure\n");
        sb.Append("RestartSec=5\n");
        sb.Append("LimitNOFILE=40000\n\n");
        sb.Append("[Install]\n");
        sb.Append("WantedBy=multi-user.target\n");
        return sb.ToString();
    }

    /// <summary>
    /// Installs the binaries (unless staged by upload), the data folder and the unit; enables it and (re)starts it only
    /// when the unit changed or it is not running. Expects the certificates in <see cref="PkiDirectory"/> already.
    /// </summary>
    public static string InstallMember(EtcdMember member, IReadOnlyList<EtcdMember> cluster, string clusterToken, EtcdArtifactSource artifacts)
    {
        ArgumentNullException.ThrowIfNull(member);
        if (!cluster.Contains(member)) throw new ArgumentException($"{member.Name} is not in the cluster's member list.", nameof(cluster));
        if (!clusterToken.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new ArgumentException("The cluster token may hold letters, digits, '-', '_' and '.' only.", nameof(clusterToken));
        }
        var unit = Unit(member, cluster, clusterToken);
        var staged = artifacts.LocalFolder is null ? "0" : "1";
        return $$"""
            set -euo pipefail
            name={{Q(member.Name)}}
            version={{Q(artifacts.Version)}}
            url={{Q(artifacts.DownloadUrl)}}
            staged={{staged}}
            bin={{Q(BinaryDirectory)}}
            pki={{Q(PkiDirectory)}}
            data={{Q(DataDirectory)}}
            unit={{Q(UnitPath)}}
            work=$(mktemp -d)
            trap 'rm -rf -- "$work"' EXIT

            for f in ca.crt etcd.crt etcd.key; do
              if [ ! -s "$pki/$f" ]; then echo "missing $pki/$f: upload the etcd certificates first" >&2; exit 3; fi
            done
            chmod 0600 "$pki/etcd.key"

            if [ "$staged" = 1 ]; then
              for b in etcd etcdctl; do
                if [ ! -x "$bin/$b" ]; then echo "missing $bin/$b: upload the staged etcd artifact first" >&2; exit 3; fi
              done
            elif ! "$bin/etcd" --version 2>/dev/null | grep -q "etcd Version: $version\$"; then
              curl -fsSL --retry 3 --retry-connrefused -o "$work/etcd.tar.gz" "$url"
              tar -xzf "$work/etcd.tar.gz" -C "$work" --strip-components=1
              install -m 0755 "$work/etcd" "$work/etcdctl" "$bin/"
            fi

            install -d -m 0700 "$data"
            mkdir -p "$(dirname "$unit")"
            cat > "$work/etcd.service" <<'KSCTL_UNIT'
            {{unit.TrimEnd('\n')}}
            KSCTL_UNIT
            changed=1
            if [ -f "$unit" ] && cmp -s "$work/etcd.service" "$unit"; then changed=0; fi
            install -m 0644 "$work/etcd.service" "$unit"
            systemctl daemon-reload
            systemctl enable etcd >/dev/null
            if [ "$changed" = 1 ] || ! systemctl is-active --quiet etcd; then
              # Members wait for each other to form the cluster: do not block on it here, the health check polls.
              systemctl restart --no-block etcd
              echo "etcd member $name (re)started"
            else
              echo "etcd member $name already configured and running"
            fi

            """;
    }

    /// <summary>Asks the local member over TLS with the client certificate; with <paramref name="wholeCluster"/>, every member.</summary>
    public static string Health(bool wholeCluster = false) => $$"""
        set -euo pipefail
        export ETCDCTL_API=3
        {{BinaryDirectory}}/etcdctl --endpoints=https://127.0.0.1:2379 \
          --cacert={{CaCertificatePath}} --cert={{CertificatePath}} --key={{PrivateKeyPath}} \
          --dial-timeout=3s --command-timeout=5s endpoint health{{(wholeCluster ? " --cluster" : "")}}

        """;

    /// <summary>Stops and removes the member: unit, data, certificates, binaries. Safe when nothing is installed.</summary>
    public static string Uninstall() => $$"""
        set -euo pipefail
        if [ -f {{UnitPath}} ]; then
          systemctl disable --now etcd >/dev/null 2>&1 || systemctl stop etcd || true
          rm -f {{UnitPath}}
          systemctl daemon-reload
        fi
        rm -rf {{PkiDirectory}}
        # The data folder may be a mount point (a dedicated disk): empty it, then remove it if it is a plain folder.
        if [ -d {{DataDirectory}} ]; then
          find {{DataDirectory}} -mindepth 1 -delete
          rmdir {{DataDirectory}} 2>/dev/null || true
        fi
        rm -f {{BinaryDirectory}}/etcd {{BinaryDirectory}}/etcdctl
        echo "etcd removed"

        """;

    private static string Q(string value) => ShellQuote.Quote(value);
}
