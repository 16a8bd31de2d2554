using Ksctl.Core.Distributions.Systemd;
using Ksctl.Core.Remote;

namespace Ksctl.Core.Backup;

/// <summary>
/// The scripts of a backup and a restore, run on the datastore members over SSH. The commands follow etcd's
/// "Disaster recovery" guide (op-guide/recovery.md, v3.4 and v3.5): <c>etcdctl snapshot save</c> against one
/// member's client URL with the TLS client certificate; <c>snapshot status</c>/<c>snapshot restore</c> through
/// <c>etcdutl</c> where the installed etcd has it (3.5 moved them there and deprecated etcdctl's) and through
/// <c>etcdctl</c> otherwise (3.4, Debian's etcd-client, has no etcdutl); a restore writes a NEW data folder
/// (etcdctl/etcdutl refuse an existing one: 'data-dir "..." exists') with --name, --initial-cluster,
/// --initial-advertise-peer-urls and a new --initial-cluster-token for every member, from the same snapshot.
/// A member's own certificate (server and client auth) authenticates it to itself, so no key travels for a backup.
/// </summary>
internal static class BackupScripts
{
    public const string SnapshotFolder = "/var/lib/ksctl/backup";
    public const string SnapshotPath = SnapshotFolder + "/snapshot.db";
    public const string RestoreUpload = "/var/lib/ksctl/restore/snapshot.db";
    public const int ChunkMiB = 16;
    private const string Ctl = """
        export ETCDCTL_API=3
        pki=/etc/etcd/pki
        ctl() { etcdctl --endpoints=https://127.0.0.1:2379 --cacert="$pki/ca.crt" --cert="$pki/server.crt" --key="$pki/server.key" --dial-timeout=5s --command-timeout=120s "$@"; }
        # etcd 3.5+ ships etcdutl for offline snapshot work; 3.4 has only etcdctl's (deprecated in 3.5, removed in 3.6).
        util() { if command -v etcdutl >/dev/null 2>&1; then etcdutl "$@"; else etcdctl "$@"; fi; }

        """;

    /// <summary>Is this member healthy (its own endpoint, over TLS)? Exit 0 if so.</summary>
    public static string Health() => "set -euo pipefail\n" + Ctl + "ctl endpoint health >/dev/null\n";

    /// <summary>Saves a snapshot; prints the status JSON, the size and the sha256sum on three lines.</summary>
    public static string Save() => "set -euo pipefail\n" + Ctl + $$"""
        umask 077
        mkdir -p {{SnapshotFolder}}
        rm -f {{SnapshotPath}} {{SnapshotPath}}.part
        if ! ctl snapshot save {{SnapshotPath}} >{{SnapshotFolder}}/save.log 2>&1; then cat {{SnapshotFolder}}/save.log >&2; exit 1; fi
        util snapshot status {{SnapshotPath}} -w json 2>/dev/null | tail -n 1
        stat -c %s {{SnapshotPath}}
        sha256sum {{SnapshotPath}} | cut -d' ' -f1

        """.Replace("\r\n", "\n");

    /// <summary>One chunk of the snapshot, base64 on one line (the SSH channel carries text).</summary>
    public static string Chunk(int index) =>
        $"set -euo pipefail\ndd if={SnapshotPath} bs=1048576 skip={index * ChunkMiB} count={ChunkMiB} status=none | base64 -w0\n";

    public static string RemoveSnapshot() => $"rm -rf {SnapshotFolder}\n";

    /// <summary>
    /// Restores the uploaded snapshot into a staging data folder inside /var/lib/etcd (the same file system, so the swap
    /// is a rename), after checking the upload's SHA-256. Idempotent: a staging folder marked ready is kept.
    /// </summary>
    public static string Prepare(int index, string address, string initialCluster, string token, string sha256) =>
        "set -euo pipefail\n" + Ctl + $$"""
        stage=/var/lib/etcd/.ksctl-restore-{{token}}
        if [ -f "$stage/ready" ]; then rm -f {{RestoreUpload}}; exit 0; fi
        have=$(sha256sum {{RestoreUpload}} | cut -d' ' -f1)
        if [ "$have" != {{ShellQuote.Quote(sha256)}} ]; then echo "the snapshot uploaded to this machine does not have the backup's SHA-256" >&2; exit 1; fi
        rm -rf "$stage"
        if ! util snapshot restore {{RestoreUpload}} --name infra{{index}} --data-dir "$stage" \
            --initial-cluster {{ShellQuote.Quote(initialCluster)}} --initial-cluster-token {{ShellQuote.Quote(token)}} \
            --initial-advertise-peer-urls {{ShellQuote.Quote($"https://{UnitValue.Address(address, "Datastore.PrivateIP")}:2380")}} >"$stage.log" 2>&1; then
          cat "$stage.log" >&2; rm -f "$stage.log"; exit 1
        fi
        rm -f "$stage.log"
        [ -d "$stage/member/wal" ] || { echo "the restore wrote no member/wal" >&2; exit 1; }
        chmod 0700 "$stage"
        touch "$stage/ready"
        rm -f {{RestoreUpload}}

        """.Replace("\r\n", "\n");

    /// <summary>Stops a unit and makes sure it is down.</summary>
    public static string Stop(string unit) => $$"""
        set -euo pipefail
        systemctl stop {{unit}} >/dev/null 2>&1 || true
        if systemctl is-active --quiet {{unit}}; then echo "{{unit}} is still running" >&2; exit 1; fi

        """.Replace("\r\n", "\n");

    /// <summary>Starts a unit and makes sure it runs.</summary>
    public static string Start(string unit) => $$"""
        set -euo pipefail
        systemctl start {{unit}}
        systemctl is-active --quiet {{unit}} || { echo "{{unit}} did not start" >&2; exit 1; }

        """.Replace("\r\n", "\n");

    /// <summary>
    /// Kubeadm runs kube-apiserver as a static Pod: the kubelet stops it when its manifest leaves
    /// /etc/kubernetes/manifests and starts it when it comes back (kubeadm's "static Pods" and etcd restore notes).
    /// </summary>
    public static string PauseStaticApiServer() => """
        set -euo pipefail
        mkdir -p /etc/kubernetes/ksctl-paused
        if [ -f /etc/kubernetes/manifests/kube-apiserver.yaml ]; then mv -f /etc/kubernetes/manifests/kube-apiserver.yaml /etc/kubernetes/ksctl-paused/; fi
        # The kubelet looks at the static Pod folder every 20 s (fileCheckFrequency): wait until it stopped the Pod.
        deadline=$((SECONDS + 120))
        while [ -n "$(crictl ps --name kube-apiserver -q 2>/dev/null)" ]; do
          if [ "$SECONDS" -ge "$deadline" ]; then echo "the kubelet did not stop kube-apiserver within 120 s" >&2; exit 1; fi
          sleep 1
        done

        """.Replace("\r\n", "\n");

    /// <summary>
    /// The manifest back in the static Pod folder; the kubelet starts kube-apiserver at its next look, and the step ends
    /// when it answers (kubeadm's restore: "restart all API server instances" after etcd is restored).
    /// </summary>
    public static string ResumeStaticApiServer() => """
        set -euo pipefail
        if [ -f /etc/kubernetes/ksctl-paused/kube-apiserver.yaml ]; then mv -f /etc/kubernetes/ksctl-paused/kube-apiserver.yaml /etc/kubernetes/manifests/; fi
        rmdir /etc/kubernetes/ksctl-paused 2>/dev/null || true
        deadline=$((SECONDS + 180))
        until curl -sk --max-time 5 -o /dev/null https://127.0.0.1:6443/readyz; do
          if [ "$SECONDS" -ge "$deadline" ]; then echo "kube-apiserver did not answer within 180 s of its manifest's return" >&2; exit 1; fi
          sleep 1
        done

        """.Replace("\r\n", "\n");

    /// <summary>
    /// Swaps the staged data in (etcd is stopped). Resumable at any point: the marker names the restore that finished;
    /// the previous data is kept aside until the cleanup step, after the new cluster is healthy.
    /// </summary>
    public static string Swap(string token) => $$"""
        set -euo pipefail
        cd /var/lib/etcd
        token={{ShellQuote.Quote(token)}}
        stage=".ksctl-restore-$token"
        previous=".ksctl-previous-$token"
        if [ "$(cat .ksctl-restored 2>/dev/null)" = "$token" ]; then exit 0; fi
        if [ -d "$stage/member" ]; then
          [ -f "$stage/ready" ] || { echo "the staged restore is incomplete" >&2; exit 1; }
          if [ -d member ]; then rm -rf "$previous"; mkdir -p "$previous"; mv member "$previous/"; fi
          mv "$stage/member" member
        fi
        [ -d member/wal ] || { echo "no restored member data in /var/lib/etcd" >&2; exit 1; }
        printf '%s' "$token" > .ksctl-restored
        rm -rf "$stage"

        """.Replace("\r\n", "\n");

    public static string Cleanup(string token) =>
        $"set -euo pipefail\nrm -rf /var/lib/etcd/.ksctl-previous-{token} /var/lib/ksctl/restore\n";
}
