using Ksctl.Core.Distributions;
using Ksctl.Core.Remote;

namespace Ksctl.Core.Certificates;

/// <summary>
/// The scripts of a certificate renewal. etcd reads its certificate files when it starts, so a member takes new ones
/// with a restart; one member at a time keeps a quorum (etcd's op-guide/runtime-configuration and security.md), and
/// the next member waits until every member answers healthy again. kubeadm's renewal follows "Certificate Management
/// with kubeadm" (kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-certs/, "Manual certificate renewal"):
/// <c>kubeadm certs renew all</c>, then the control-plane static Pods are restarted by moving their manifests out of
/// /etc/kubernetes/manifests until the kubelet has stopped them (it checks the folder every 20 s) and back.
/// </summary>
internal static class CertificateScripts
{
    public const string Pki = "/etc/etcd/pki";

    /// <summary>Restarts etcd with the new files in place, waits until every member is healthy, prints the served certificate's SHA-256 fingerprint.</summary>
    public static string RestartMember(IEnumerable<string> endpoints) => $$"""
        set -euo pipefail
        export ETCDCTL_API=3
        pki={{Pki}}
        systemctl restart etcd
        deadline=$((SECONDS + 180))
        until etcdctl --endpoints={{ShellQuote.Quote(string.Join(',', endpoints))}} --cacert="$pki/ca.crt" --cert="$pki/server.crt" --key="$pki/server.key" --dial-timeout=5s endpoint health >/dev/null 2>&1; do
          if [ "$SECONDS" -ge "$deadline" ]; then echo "etcd is not healthy on every member within 180 s of the restart" >&2; exit 1; fi
          sleep 1
        done
        openssl s_client -connect 127.0.0.1:2379 -CAfile "$pki/ca.crt" -cert "$pki/server.crt" -key "$pki/server.key" </dev/null 2>/dev/null \
          | openssl x509 -noout -fingerprint -sha256

        """.Replace("\r\n", "\n");

    /// <summary>K3s reads the datastore client certificate when it starts: restart the server and wait until it serves again.</summary>
    public static string RestartK3s() => """
        set -euo pipefail
        systemctl restart k3s
        deadline=$((SECONDS + 180))
        until curl -skf --max-time 5 https://127.0.0.1:6443/cacerts >/dev/null 2>&1; do
          if [ "$SECONDS" -ge "$deadline" ]; then echo "the k3s server did not serve again within 180 s of the restart" >&2; exit 1; fi
          sleep 1
        done

        """.Replace("\r\n", "\n");

    /// <summary>
    /// kubeadm certs renew all, then the control-plane static Pods restarted (they read certificates at start); without
    /// <paramref name="renew"/> only the restart (the datastore's CA bundle changed).
    /// </summary>
    public static string RenewKubeadm(bool renew = true) => (renew ? "set -euo pipefail\nkubeadm certs renew all\n" : "set -euo pipefail\n") + """
        manifests=/etc/kubernetes/manifests
        paused=/etc/kubernetes/ksctl-restart
        mkdir -p "$paused"
        for c in kube-apiserver kube-controller-manager kube-scheduler; do
          if [ -f "$manifests/$c.yaml" ]; then mv -f "$manifests/$c.yaml" "$paused/"; fi
        done
        deadline=$((SECONDS + 120))
        while [ -n "$(crictl ps --name 'kube-apiserver|kube-controller-manager|kube-scheduler' -q 2>/dev/null)" ]; do
          if [ "$SECONDS" -ge "$deadline" ]; then echo "the kubelet did not stop the control-plane Pods within 120 s" >&2; break; fi
          sleep 1
        done
        for f in "$paused"/*.yaml; do [ -e "$f" ] && mv -f "$f" "$manifests/"; done
        rmdir "$paused"
        deadline=$((SECONDS + 180))
        until curl -sk --max-time 5 -o /dev/null https://127.0.0.1:6443/readyz; do
          if [ "$SECONDS" -ge "$deadline" ]; then echo "kube-apiserver did not answer within 180 s of the restart" >&2; exit 1; fi
          sleep 1
        done
        openssl x509 -noout -enddate -in /etc/kubernetes/pki/apiserver.crt

        """.Replace("\r\n", "\n");

    public static string ClientFolder => DatastoreSecrets.RemoteFolder;
}
