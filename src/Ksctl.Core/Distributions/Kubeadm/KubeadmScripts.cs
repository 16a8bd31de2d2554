using Ksctl.Core.Remote;

namespace Ksctl.Core.Distributions.Kubeadm;

/// <summary>The shell scripts of the Kubeadm distribution (all idempotent; each passes shellcheck).</summary>
internal static class KubeadmScripts
{
    public const string AdminConf = "/etc/kubernetes/admin.conf";
    public const string InitConfig = "/etc/ksctl/kubeadm-init.yaml";

    /// <summary>Swap off, kernel modules, sysctls, containerd with systemd cgroups.</summary>
    public static string Prepare() => """
        set -euo pipefail
        swapoff -a
        # Keep swap off across reboots; the original is kept for uninstall. Written in place (fstab may be a mount).
        if grep -qE '^[^#].*[[:space:]]swap[[:space:]]' /etc/fstab 2>/dev/null && [ ! -f /var/lib/ksctl/fstab.bak ]; then
          mkdir -p /var/lib/ksctl
          cp /etc/fstab /var/lib/ksctl/fstab.bak
          sed -E 's/^([^#].*[[:space:]]swap[[:space:]])/#\1/' /var/lib/ksctl/fstab.bak > /etc/fstab
        fi
        mkdir -p /etc/modules-load.d /etc/sysctl.d
        printf 'overlay\nbr_netfilter\n' > /etc/modules-load.d/ksctl-kubernetes.conf
        modprobe overlay
        modprobe br_netfilter
        printf 'net.bridge.bridge-nf-call-iptables = 1\nnet.bridge.bridge-nf-call-ip6tables = 1\nnet.ipv4.ip_forward = 1\n' > /etc/sysctl.d/99-ksctl-kubernetes.conf
        sysctl --system >/dev/null
        if ! command -v containerd >/dev/null 2>&1; then
          export DEBIAN_FRONTEND=noninteractive
          apt-get update -qq
          apt-get install -y -qq containerd
          mkdir -p /var/lib/ksctl && touch /var/lib/ksctl/installed-containerd
        fi
        mkdir -p /etc/containerd
        containerd config default | sed 's/SystemdCgroup = false/SystemdCgroup = true/' > /etc/containerd/config.toml.ksctl-new
        if ! cmp -s /etc/containerd/config.toml.ksctl-new /etc/containerd/config.toml; then
          mv -f /etc/containerd/config.toml.ksctl-new /etc/containerd/config.toml
          systemctl restart containerd
        else
          rm -f /etc/containerd/config.toml.ksctl-new
        fi
        systemctl enable containerd >/dev/null 2>&1 || true

        """.Replace("\r\n", "\n");

    /// <summary>kubelet, kubeadm and kubectl from the Kubernetes apt repository, pinned to the minor version and held.</summary>
    public static string InstallFromApt(string version)
    {
        var minor = string.Join('.', version.Split('.').Take(2));
        return $$"""
            set -euo pipefail
            if command -v kubeadm >/dev/null 2>&1 && [ "$(kubeadm version -o short)" = "v{{version}}" ]; then exit 0; fi
            export DEBIAN_FRONTEND=noninteractive
            apt-get update -qq
            apt-get install -y -qq apt-transport-https ca-certificates curl gpg
            mkdir -p /etc/apt/keyrings
            curl -fsSL https://pkgs.k8s.io/core:/stable:/v{{minor}}/deb/Release.key | gpg --dearmor --yes -o /etc/apt/keyrings/kubernetes-apt-keyring.gpg
            echo 'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v{{minor}}/deb/ /' > /etc/apt/sources.list.d/kubernetes.list
            apt-get update -qq
            apt-get install -y -qq --allow-change-held-packages kubelet kubeadm kubectl
            apt-mark hold kubelet kubeadm kubectl >/dev/null
            mkdir -p /var/lib/ksctl && touch /var/lib/ksctl/installed-kubernetes-packages

            """.Replace("\r\n", "\n");
    }

    /// <summary>After binaries were placed in /usr/local/bin (artifact folder or mirror): the kubelet unit kubeadm expects.</summary>
    public static string KubeletUnit() => """
        set -euo pipefail
        mkdir -p /etc/systemd/system /var/lib/kubelet /etc/kubernetes/manifests
        cat > /etc/systemd/system/kubelet.service.ksctl-new <<'UNIT'
        [Unit]
        Description=kubelet: The Kubernetes Node Agent (ksctl)
        After=containerd.service

        [Service]
        ExecStart=/usr/local/bin/kubelet --bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf --config=/var/lib/kubelet/config.yaml --container-runtime-endpoint=unix:///run/containerd/containerd.sock
        Restart=always

        [Install]
        WantedBy=multi-user.target
        UNIT
        if ! cmp -s /etc/systemd/system/kubelet.service.ksctl-new /etc/systemd/system/kubelet.service; then
          mv -f /etc/systemd/system/kubelet.service.ksctl-new /etc/systemd/system/kubelet.service
          systemctl daemon-reload
        else
          rm -f /etc/systemd/system/kubelet.service.ksctl-new
        fi
        systemctl enable kubelet >/dev/null 2>&1

        """.Replace("\r\n", "\n");

    /// <summary>kubeadm init with the uploaded config (skipped when this node already is a control plane); prints the CA hash.</summary>
    public static string Init() => $$"""
        set -euo pipefail
        if [ ! -f {{AdminConf}} ]; then
          kubeadm init --config {{InitConfig}} --upload-certs
        fi
        openssl x509 -pubkey -noout -in /etc/kubernetes/pki/ca.crt | openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1

        """.Replace("\r\n", "\n");

    /// <summary>kubeadm join through the load balancer (skipped when the node already joined). Secrets come from a file, not the command line.</summary>
    public static string Join(string endpoint, bool controlPlane, string advertiseAddress) => $$"""
        set -euo pipefail
        if [ -f /etc/kubernetes/kubelet.conf ]; then exit 0; fi
        # shellcheck disable=SC1091
        . /etc/ksctl/kubeadm-join.env
        {{(controlPlane
            ? $"kubeadm join {ShellQuote.Quote(endpoint)} --token \"$TOKEN\" --discovery-token-ca-cert-hash \"sha256:$CA_HASH\" --control-plane --certificate-key \"$CERTIFICATE_KEY\" --apiserver-advertise-address {ShellQuote.Quote(advertiseAddress)}"
            : $"kubeadm join {ShellQuote.Quote(endpoint)} --token \"$TOKEN\" --discovery-token-ca-cert-hash \"sha256:$CA_HASH\"")}}
        # Kept until success so that a retry can read it again.
        rm -f /etc/ksctl/kubeadm-join.env

        """.Replace("\r\n", "\n");

    /// <summary>Makes a new bootstrap token valid for <paramref name="ttlHours"/> hours and re-uploads the control-plane certificates under the same key.</summary>
    public static string RefreshToken(int ttlHours) => $$"""
        set -euo pipefail
        # shellcheck disable=SC1091
        . /etc/ksctl/kubeadm-join.env
        kubeadm token delete "$TOKEN" >/dev/null 2>&1 || true
        kubeadm token create "$TOKEN" --ttl {{ttlHours}}h >/dev/null
        kubeadm init phase upload-certs --upload-certs --config {{InitConfig}} >/dev/null
        rm -f /etc/ksctl/kubeadm-join.env

        """.Replace("\r\n", "\n");

    public static string Drain(string node) => $$"""
        set -euo pipefail
        node={{ShellQuote.Quote(node)}}
        export KUBECONFIG={{AdminConf}}
        if kubectl get node "$node" >/dev/null 2>&1; then
          kubectl drain "$node" --ignore-daemonsets --delete-emptydir-data --force --timeout=300s
          kubectl delete node "$node" --ignore-not-found
        fi

        """.Replace("\r\n", "\n");

    public static string Uninstall() => $$"""
        set -euo pipefail
        if command -v kubeadm >/dev/null 2>&1; then kubeadm reset -f >/dev/null 2>&1 || true; fi
        systemctl disable --now kubelet >/dev/null 2>&1 || true
        rm -f /etc/systemd/system/kubelet.service /usr/local/bin/kubeadm /usr/local/bin/kubelet /usr/local/bin/kubectl
        systemctl daemon-reload >/dev/null 2>&1 || true
        rm -rf /etc/kubernetes/* /var/lib/kubelet/* /etc/ksctl/kubeadm-init.yaml /etc/ksctl/kubeadm-join.env {{DatastoreSecrets.RemoteFolder}}
        rm -f /etc/modules-load.d/ksctl-kubernetes.conf /etc/sysctl.d/99-ksctl-kubernetes.conf
        if [ -f /var/lib/ksctl/fstab.bak ]; then cat /var/lib/ksctl/fstab.bak > /etc/fstab && rm -f /var/lib/ksctl/fstab.bak; fi
        if [ -f /var/lib/ksctl/installed-kubernetes-packages ]; then
          apt-mark unhold kubelet kubeadm kubectl >/dev/null 2>&1 || true
          DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq kubelet kubeadm kubectl || true
          rm -f /var/lib/ksctl/installed-kubernetes-packages
        fi
        if [ -f /var/lib/ksctl/installed-containerd ]; then
          DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq containerd || true
          rm -f /var/lib/ksctl/installed-containerd
        fi

        """.Replace("\r\n", "\n");
}
