using Ksctl.Core.Remote;

namespace Ksctl.Core.Distributions.Kubeadm;

/// <summary>The shell scripts of the Kubeadm distribution (all idempotent; each passes shellcheck).</summary>
internal static class KubeadmScripts
{
    public const string AdminConf = "/etc/kubernetes/admin.conf";
    public const string InitConfig = "/etc/ksctl/kubeadm-init.yaml";
    public const string JoinConfig = "/etc/ksctl/kubeadm-join.yaml";
    public const string RefreshConfig = "/etc/ksctl/kubeadm-refresh.yaml";
    public const string CniManifest = "/etc/ksctl/cni.yaml";

    /// <summary>Written only after kubeadm init/join succeeded: admin.conf and kubelet.conf appear mid-way, so they prove nothing.</summary>
    public const string InitDone = "/var/lib/ksctl/kubeadm-init.done";
    public const string JoinDone = "/var/lib/ksctl/kubeadm-join.done";

    /// <summary>apt on a fresh VM: cloud-init may still be installing packages and hold the dpkg lock.</summary>
    private const string Apt = "apt-get -o DPkg::Lock::Timeout=600";

    private const string WaitForCloudInit = """
        # A fresh cloud VM may still be running cloud-init's package steps; its result (even "degraded") is not ours to judge.
        if command -v cloud-init >/dev/null 2>&1; then cloud-init status --wait >/dev/null 2>&1 || true; fi
        """;

    /// <summary>Swap off, kernel modules, sysctls, containerd with systemd cgroups.</summary>
    public static string Prepare() => $$"""
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
        {{WaitForCloudInit}}
          export DEBIAN_FRONTEND=noninteractive
          {{Apt}} update -qq
          {{Apt}} install -y -qq containerd
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

        """.Replace("\r\n", "\n", StringComparison.Ordinal);

    /// <summary>
    /// kubelet, kubeadm and kubectl <paramref name="version"/> exactly (pkgs.k8s.io names its builds "1.33.1-1.1", so the
    /// pin is "1.33.1-*", as kubeadm's upgrade guide does), held. cri-tools and kubernetes-cni come as their dependencies,
    /// and the kubeadm package brings the kubelet drop-in (10-kubeadm.conf). Skipped when exactly that version is installed.
    /// </summary>
    public static string InstallFromApt(string version)
    {
        var v = KubeadmConfigs.Version(version);
        var minor = string.Join('.', v.Split('.').Take(2));
        return $$"""
            set -euo pipefail
            installed() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true; }
            want='{{v}}-'
            if [[ "$(installed kubeadm)" == "$want"* && "$(installed kubelet)" == "$want"* && "$(installed kubectl)" == "$want"* ]]; then exit 0; fi
            {{WaitForCloudInit}}
            export DEBIAN_FRONTEND=noninteractive
            {{Apt}} update -qq
            {{Apt}} install -y -qq apt-transport-https ca-certificates curl gpg
            mkdir -p /etc/apt/keyrings
            curl -fsSL https://pkgs.k8s.io/core:/stable:/v{{minor}}/deb/Release.key | gpg --dearmor --yes -o /etc/apt/keyrings/kubernetes-apt-keyring.gpg
            echo 'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v{{minor}}/deb/ /' > /etc/apt/sources.list.d/kubernetes.list
            {{Apt}} update -qq
            {{Apt}} install -y -qq --allow-change-held-packages --allow-downgrades 'kubelet={{v}}-*' 'kubeadm={{v}}-*' 'kubectl={{v}}-*'
            apt-mark hold kubelet kubeadm kubectl >/dev/null
            mkdir -p /var/lib/ksctl && touch /var/lib/ksctl/installed-kubernetes-packages

            """.Replace("\r\n", "\n", StringComparison.Ordinal);
    }

    /// <summary>
    /// kubeadm init (preceded by "kubeadm reset -f" when an earlier attempt left anything behind: kubeadm writes
    /// admin.conf mid-way, so only <see cref="InitDone"/> counts), then the CA hash. The config file holds the
    /// bootstrap token and certificate key, and is removed however the script ends.
    /// </summary>
    public static string Init() => $$"""
        set -euo pipefail
        trap 'rm -f {{InitConfig}}' EXIT
        if [ ! -f {{InitDone}} ]; then
          if [ -n "$(find /etc/kubernetes /var/lib/kubelet -type f -print -quit 2>/dev/null)" ]; then
            echo "ksctl: an earlier kubeadm init did not finish; resetting this node first" >&2
            kubeadm reset -f >&2
          fi
          kubeadm init --config {{InitConfig}} --upload-certs >&2
          mkdir -p /var/lib/ksctl && touch {{InitDone}}
        fi
        openssl x509 -pubkey -noout -in /etc/kubernetes/pki/ca.crt | openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1

        """.Replace("\r\n", "\n", StringComparison.Ordinal);

    /// <summary>kubeadm join with the uploaded JoinConfiguration (secrets in the file, not on the command line), reset first when a join was left half-done.</summary>
    public static string Join() => $$"""
        set -euo pipefail
        trap 'rm -f {{JoinConfig}}' EXIT
        if [ -f {{JoinDone}} ]; then exit 0; fi
        if [ -n "$(find /etc/kubernetes /var/lib/kubelet -type f -print -quit 2>/dev/null)" ]; then
          echo "ksctl: an earlier kubeadm join did not finish; resetting this node first" >&2
          kubeadm reset -f
        fi
        kubeadm join --config {{JoinConfig}}
        mkdir -p /var/lib/ksctl && touch {{JoinDone}}

        """.Replace("\r\n", "\n", StringComparison.Ordinal);

    /// <summary>
    /// Replaces the bootstrap token (the old one deleted by its public id) and re-uploads the control-plane certificates
    /// under the same key, both from a config file: "kubeadm token create" would otherwise take the token as an argument.
    /// </summary>
    public static string RefreshToken(string oldTokenId) => $$"""
        set -euo pipefail
        trap 'rm -f {{RefreshConfig}}' EXIT
        kubeadm token delete {{ShellQuote.Quote(oldTokenId)}} >/dev/null 2>&1 || true
        kubeadm token create --config {{RefreshConfig}} >/dev/null
        kubeadm init phase upload-certs --upload-certs --config {{RefreshConfig}} >/dev/null

        """.Replace("\r\n", "\n", StringComparison.Ordinal);

    /// <summary>Applies the pod network manifest (kubectl apply is idempotent, so a re-run is harmless).</summary>
    public static string ApplyCni() => $$"""
        set -euo pipefail
        kubectl --kubeconfig={{AdminConf}} apply -f {{CniManifest}}

        """.Replace("\r\n", "\n", StringComparison.Ordinal);

    /// <summary>Waits until each named Node is registered and Ready (a node without a pod network stays NotReady).</summary>
    public static string WaitNodesReady(IReadOnlyList<string> nodes, int timeoutSeconds) => $$"""
        set -euo pipefail
        export KUBECONFIG={{AdminConf}}
        nodes=({{string.Join(' ', nodes.Select(ShellQuote.Quote))}})
        deadline=$((SECONDS + {{timeoutSeconds}}))
        while :; do
          waiting=()
          for node in "${nodes[@]}"; do
            status=$(kubectl get node "$node" --no-headers 2>/dev/null | awk '{print $2}' || true)
            case "$status" in Ready|Ready,*) ;; *) waiting+=("$node:${status:-unregistered}") ;; esac
          done
          if [ "${#waiting[@]}" -eq 0 ]; then exit 0; fi
          if [ "$SECONDS" -ge "$deadline" ]; then
            echo "Nodes not Ready after {{timeoutSeconds}} s: ${waiting[*]}" >&2
            kubectl get nodes >&2 || true
            exit 1
          fi
          sleep 2
        done

        """.Replace("\r\n", "\n", StringComparison.Ordinal);

    public static string Drain(string node) => $$"""
        set -euo pipefail
        node={{ShellQuote.Quote(node)}}
        export KUBECONFIG={{AdminConf}}
        if kubectl get node "$node" >/dev/null 2>&1; then
          kubectl drain "$node" --ignore-daemonsets --delete-emptydir-data --force --timeout=300s
          kubectl delete node "$node" --ignore-not-found
        fi

        """.Replace("\r\n", "\n", StringComparison.Ordinal);

    public static string Uninstall() => $$"""
        set -euo pipefail
        if command -v kubeadm >/dev/null 2>&1; then kubeadm reset -f >/dev/null 2>&1 || true; fi
        systemctl disable --now kubelet >/dev/null 2>&1 || true
        rm -f /etc/systemd/system/kubelet.service /usr/local/bin/kubeadm /usr/local/bin/kubelet /usr/local/bin/kubectl
        {{KubeadmBinaries.UninstallLines}}
        systemctl daemon-reload >/dev/null 2>&1 || true
        rm -rf /etc/kubernetes/* /var/lib/kubelet/* {{InitConfig}} {{JoinConfig}} {{RefreshConfig}} {{CniManifest}} /etc/ksctl/kubeadm-join.env {{DatastoreSecrets.RemoteFolder}}
        rm -f {{InitDone}} {{JoinDone}} /etc/modules-load.d/ksctl-kubernetes.conf /etc/sysctl.d/99-ksctl-kubernetes.conf
        if [ -f /var/lib/ksctl/fstab.bak ]; then cat /var/lib/ksctl/fstab.bak > /etc/fstab && rm -f /var/lib/ksctl/fstab.bak; fi
        if [ -f /var/lib/ksctl/installed-kubernetes-packages ]; then
          apt-mark unhold kubelet kubeadm kubectl >/dev/null 2>&1 || true
          DEBIAN_FRONTEND=noninteractive {{Apt}} remove -y -qq kubelet kubeadm kubectl || true
          rm -f /var/lib/ksctl/installed-kubernetes-packages
        fi
        if [ -f /var/lib/ksctl/installed-containerd ]; then
          DEBIAN_FRONTEND=noninteractive {{Apt}} remove -y -qq containerd || true
          rm -f /var/lib/ksctl/installed-containerd
        fi

        """.Replace("\r\n", "\n", StringComparison.Ordinal);
}
