using Ksctl.Core.Remote;

namespace Ksctl.Core.Distributions.K3s;

/// <summary>
/// The shell side of a K3s upgrade, as docs.k3s.io/upgrades/manual ("Manually Upgrade K3s Using the Binary":
/// replace the binary, restart the service; servers first, one at a time, then agents) describes it, with the waits
/// between nodes that make it rolling: the restarted node must be Ready at the new version, and a server's API must
/// answer locally and through the load balancer, before the next node is touched. Every wait has its own deadline.
/// </summary>
internal static class K3sUpgradeScripts
{
    private const int DeadlineSeconds = 300;

    /// <summary>Checks the binary just installed is the wanted version, then restarts the unit (KillMode=process keeps the pods).</summary>
    public static string Restart(string unit, string k3sVersion) => $$"""
        set -euo pipefail
        want={{ShellQuote.Quote(k3sVersion)}}
        have=$(/usr/local/bin/k3s --version | awk 'NR == 1 { print $3 }')
        if [ "$have" != "$want" ]; then
          echo "/usr/local/bin/k3s is $have, not $want" >&2
          exit 1
        fi
        systemctl restart --no-block {{unit}}
        """ + "\n";

    /// <summary>Waits until /readyz answers 200 on this server and through the load balancer's private address.</summary>
    public static string WaitApi(string loadBalancerUrl) => $$"""
        set -euo pipefail
        deadline=$((SECONDS + {{DeadlineSeconds}}))
        for url in https://127.0.0.1:6443/readyz {{ShellQuote.Quote(loadBalancerUrl + "/readyz")}}; do
          until [ "$(curl -sk --max-time 5 -o /dev/null -w '%{http_code}' "$url" || true)" = 200 ]; do
            if [ "$SECONDS" -ge "$deadline" ]; then
              echo "the API did not answer at $url within {{DeadlineSeconds}} s after the restart" >&2
              exit 1
            fi
            sleep 1
          done
        done
        """ + "\n";

    /// <summary>Waits (on a server) until the Node is Ready and reports <paramref name="k3sVersion"/> (kubectl's VERSION column).</summary>
    public static string WaitNodeReady(string node, string k3sVersion) => $$"""
        set -euo pipefail
        node={{ShellQuote.Quote(node)}}
        want={{ShellQuote.Quote(k3sVersion)}}
        deadline=$((SECONDS + {{DeadlineSeconds}}))
        while :; do
          line=$(k3s kubectl get node "$node" --no-headers 2>/dev/null || true)
          status=$(printf '%s\n' "$line" | awk 'NR == 1 { print $2 }')
          version=$(printf '%s\n' "$line" | awk 'NR == 1 { print $5 }')
          case "$status" in Ready|Ready,*) [ "$version" != "$want" ] || exit 0 ;; esac
          if [ "$SECONDS" -ge "$deadline" ]; then
            echo "node $node is not Ready at $want within {{DeadlineSeconds}} s (now: ${line:-not registered})" >&2
            exit 1
          fi
          sleep 1
        done
        """ + "\n";

    /// <summary>Cordons and drains a Node that stays in the cluster (kubectl drain cordons first).</summary>
    public static string Drain(string node) => $$"""
        set -euo pipefail
        k3s kubectl drain {{ShellQuote.Quote(node)}} --ignore-daemonsets --delete-emptydir-data --force --timeout=300s
        """ + "\n";

    public static string Uncordon(string node) => $$"""
        set -euo pipefail
        k3s kubectl uncordon {{ShellQuote.Quote(node)}}
        """ + "\n";
}
