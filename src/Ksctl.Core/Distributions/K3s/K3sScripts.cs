using Ksctl.Core.Remote;

namespace Ksctl.Core.Distributions.K3s;

/// <summary>
/// The shell side of K3s: start a unit, wait for what k3s writes, and the equivalents of install.sh's
/// k3s-killall.sh and k3s-uninstall.sh / k3s-agent-uninstall.sh (create_killall, create_uninstall), installed
/// beside the binary as upstream does and run by Remove-KsctlCluster and resize-down.
/// </summary>
internal static class K3sScripts
{
    public const string DataDir = "/var/lib/rancher/k3s";
    public const string KillallPath = "/usr/local/bin/k3s-killall.sh";
    public const string KubeconfigPath = "/etc/rancher/k3s/k3s.yaml";

    public static string UninstallPath(string unit) => $"/usr/local/bin/{unit}-uninstall.sh";

    /// <summary>
    /// Installs the unit and (re)starts it only when it changed. The start does not block (Type=notify with
    /// TimeoutStartSec=0 would wait as long as k3s does); the script then waits, against its own deadline, for the
    /// file k3s writes once it is up.
    /// </summary>
    public static string Start(string unit, string waitForFile) => $$"""
        set -euo pipefail
        unit=/etc/systemd/system/{{unit}}.service
        env_file={{K3sUnits.EnvironmentFile(unit)}}
        if [ ! -f "$env_file" ]; then install -m 0600 /dev/null "$env_file"; fi
        # A retry after a failed start finds the new unit already in place (no .ksctl-new): it starts it again.
        changed=false
        if [ -f "$unit.ksctl-new" ]; then
          if cmp -s "$unit.ksctl-new" "$unit"; then rm -f "$unit.ksctl-new"; else mv -f "$unit.ksctl-new" "$unit"; changed=true; fi
        fi
        if "$changed" || ! systemctl is-active --quiet {{unit}}; then
          systemctl daemon-reload
          systemctl enable {{unit}} >/dev/null 2>&1
          systemctl restart --no-block {{unit}}
        fi
        deadline=$((SECONDS + 300))
        until [ -s {{waitForFile}} ]; do
          if [ "$SECONDS" -ge "$deadline" ]; then
            echo "{{unit}} did not write {{waitForFile}} within 300 s" >&2
            journalctl -u {{unit}} -n 50 --no-pager >&2 2>/dev/null || true
            exit 1
          fi
          sleep 1
        done
        """ + "\n";

    /// <summary>
    /// Waits until k3s has written the kubeconfig and the file has stopped changing, then prints it. k3s writes it
    /// in place once the apiserver is up, so a reader can meet a half-written file; the caller still parses what it
    /// gets and asks again when it is incomplete (<see cref="K3sKubeconfig"/>).
    /// </summary>
    public static string ReadKubeconfig() => $$"""
        set -euo pipefail
        file={{KubeconfigPath}}
        deadline=$((SECONDS + 300))
        last=""
        while :; do
          if [ -s "$file" ]; then
            now=$(stat -c '%s %Y' "$file")
            if [ "$now" = "$last" ]; then break; fi
            last=$now
          fi
          if [ "$SECONDS" -ge "$deadline" ]; then
            echo "k3s did not write $file within 300 s" >&2
            exit 1
          fi
          sleep 1
        done
        cat "$file"
        """ + "\n";

    /// <summary>
    /// install.sh's k3s-killall.sh, as this cluster needs it: stop every k3s unit (KillMode=process leaves the
    /// containerd shims and their pods running), kill the shims under the data dir and their children, unmount what
    /// pods and containerd mounted, remove the CNI interfaces and namespaces and the KUBE-/CNI-/flannel firewall rules.
    /// Only processes in this machine's mount namespace are touched.
    /// </summary>
    public static string Killall() => $$"""
        #!/usr/bin/env bash
        # Written by ksctl: stops K3s and everything it started (the equivalent of install.sh's k3s-killall.sh).
        set -uo pipefail
        [ "$(id -u)" -eq 0 ] || exec sudo "$0" "$@"
        data={{DataDir}}
        for service in /etc/systemd/system/k3s*.service; do
          if [ -s "$service" ]; then systemctl stop "$(basename "$service")" || true; fi
        done
        children() { ps -e -o ppid= -o pid= | awk -v p="$1" '$1 == p { print $2 }'; }
        tree() { local pid child; for pid in "$@"; do echo "$pid"; for child in $(children "$pid"); do tree "$child"; done; done; }
        self_ns=$(readlink /proc/self/ns/mnt)
        shims=()
        for proc in /proc/[0-9]*; do
          args=$(tr '\0' ' ' <"$proc/cmdline" 2>/dev/null) || continue
          case "$args" in "$data"/data/*/bin/containerd-shim*) ;; *) continue ;; esac
          [ "$(readlink "$proc/ns/mnt" 2>/dev/null)" = "$self_ns" ] || continue
          shims+=("${proc#/proc/}")
        done
        if [ "${#shims[@]}" -gt 0 ]; then
          mapfile -t victims < <(tree "${shims[@]}")
          kill -9 "${victims[@]}" 2>/dev/null || true
        fi
        unmount_under() {
          local prefix=$1 path
          while read -r _ path _; do
            case "$path" in "$prefix"*) echo "$path" ;; esac
          done </proc/self/mounts | sort -r | while read -r path; do
            umount -f "$path" 2>/dev/null || umount -l "$path" 2>/dev/null || true
            rm -rf "$path" 2>/dev/null || true
          done
        }
        unmount_under /run/k3s
        unmount_under /var/lib/kubelet/pods
        unmount_under /var/lib/kubelet/plugins
        unmount_under /run/netns/cni-
        unmount_under "$data/"
        ip netns show 2>/dev/null | awk '/^cni-/ { print $1 }' | xargs -r -n 1 ip netns delete
        ip link show 2>/dev/null | awk -F': ' '/master cni0/ { split($2, a, "@"); print a[1] }' | xargs -r -n 1 ip link delete
        for iface in cni0 flannel.1 flannel-v6.1 kube-ipvs0 flannel-wg flannel-wg-v6; do ip link delete "$iface" 2>/dev/null || true; done
        rm -rf /var/lib/cni/
        for tables in iptables ip6tables; do
          if command -v "$tables-save" >/dev/null 2>&1 && command -v "$tables-restore" >/dev/null 2>&1; then
            "$tables-save" 2>/dev/null | grep -v KUBE- | grep -v CNI- | grep -iv flannel | "$tables-restore" 2>/dev/null || true
          fi
        done
        exit 0
        """ + "\n";

    /// <summary>
    /// install.sh's k3s-uninstall.sh / k3s-agent-uninstall.sh: killall, then remove the unit, its environment file,
    /// the data (a mounted folder is emptied, not removed), the kubelet folder, the binary and these scripts.
    /// </summary>
    public static string Uninstall() => $$"""
        set -euo pipefail
        {{KillallPath}}
        for unit in {{K3sUnits.ServerUnit}} {{K3sUnits.AgentUnit}}; do
          systemctl disable "$unit" >/dev/null 2>&1 || true
          rm -f "/etc/systemd/system/$unit.service" "/etc/systemd/system/$unit.service.env" "/usr/local/bin/$unit-uninstall.sh"
        done
        systemctl daemon-reload >/dev/null 2>&1 || true
        clean_dir() {
          local dir=$1
          [ -e "$dir" ] || return 0
          if mountpoint -q "$dir"; then find "$dir" -mindepth 1 -delete; else rm -rf "$dir"; fi
        }
        for dir in /etc/rancher/k3s /run/k3s /run/flannel {{DataDir}} /var/lib/kubelet; do clean_dir "$dir"; done
        rm -f {{ShellQuote.Quote(K3sUnits.TokenFile)}} {{ShellQuote.Quote(K3sUnits.AgentTokenFile)}}
        rm -rf {{DatastoreSecrets.RemoteFolder}}
        for cmd in kubectl crictl ctr; do
          if [ -L "/usr/local/bin/$cmd" ]; then rm -f "/usr/local/bin/$cmd"; fi
        done
        rm -f /usr/local/bin/k3s {{KillallPath}}
        """ + "\n";

    /// <summary>The uninstaller kept beside the binary, as install.sh leaves one (runs <see cref="Uninstall"/>).</summary>
    public static string UninstallerFile() => "#!/usr/bin/env bash\n# Written by ksctl: removes K3s from this machine (the equivalent of install.sh's k3s-uninstall.sh).\n" + Uninstall();

    /// <summary>Drains and deletes a Node; a Node that is already gone is not an error (the step may run again).</summary>
    public static string Drain(string node) => $$"""
        set -euo pipefail
        node={{ShellQuote.Quote(node)}}
        if k3s kubectl get node "$node" >/dev/null 2>&1; then
          k3s kubectl drain "$node" --ignore-daemonsets --delete-emptydir-data --force --timeout=300s
          k3s kubectl delete node "$node" --ignore-not-found
        fi
        """ + "\n";
}
