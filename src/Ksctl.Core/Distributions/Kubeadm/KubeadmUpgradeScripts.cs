using Ksctl.Core.Remote;

namespace Ksctl.Core.Distributions.Kubeadm;

/// <summary>
/// The shell side of a kubeadm upgrade, as kubeadm's guide does it (kubernetes.io/docs/tasks/administer-cluster/
/// kubeadm/kubeadm-upgrade): upgrade kubeadm first; "kubeadm upgrade plan" then "kubeadm upgrade apply v&lt;version&gt;"
/// on the first control plane, "kubeadm upgrade node" on the others and on workers; drain; kubelet and kubectl to the
/// same version; daemon-reload and restart the kubelet; uncordon. From pkgs.k8s.io the package repository is moved
/// to the new minor first (one repository per minor, "Changing the package repository"). Every wait has a deadline.
/// </summary>
internal static class KubeadmUpgradeScripts
{
    private const int DeadlineSeconds = 300;
    private const string Apt = "apt-get -o DPkg::Lock::Timeout=600";
    private const string Kubectl = "kubectl --kubeconfig=" + KubeadmScripts.AdminConf;

    /// <summary>The given packages to exactly <paramref name="version"/> from the new minor's repository, held again after.</summary>
    public static string UpgradePackages(string version, IReadOnlyList<string> packages)
    {
        var v = KubeadmConfigs.Version(version);
        var minor = string.Join('.', v.Split('.').Take(2));
        var pins = string.Join(' ', packages.Select(p => $"'{p}={v}-*'"));
        var names = string.Join(' ', packages);
        return $$"""
            set -euo pipefail
            export DEBIAN_FRONTEND=noninteractive
            echo 'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v{{minor}}/deb/ /' > /etc/apt/sources.list.d/kubernetes.list
            curl -fsSL https://pkgs.k8s.io/core:/stable:/v{{minor}}/deb/Release.key | gpg --dearmor --yes -o /etc/apt/keyrings/kubernetes-apt-keyring.gpg
            {{Apt}} update -qq
            apt-mark unhold {{names}} >/dev/null
            {{Apt}} install -y -qq --allow-change-held-packages {{pins}}
            apt-mark hold {{names}} >/dev/null

            """.Replace("\r\n", "\n", StringComparison.Ordinal);
    }

    /// <summary>kubeadm must already be the new version; then plan (which checks the skew policy) and apply.</summary>
    public static string Apply(string version) => $$"""
        set -euo pipefail
        want={{ShellQuote.Quote("v" + KubeadmConfigs.Version(version))}}
        have=$(kubeadm version -o short)
        if [ "$have" != "$want" ]; then echo "kubeadm is $have, not $want" >&2; exit 1; fi
        kubeadm upgrade plan "$want"
        kubeadm upgrade apply "$want" --yes

        """.Replace("\r\n", "\n", StringComparison.Ordinal);

    public static string Node(string version) => $$"""
        set -euo pipefail
        want={{ShellQuote.Quote("v" + KubeadmConfigs.Version(version))}}
        have=$(kubeadm version -o short)
        if [ "$have" != "$want" ]; then echo "kubeadm is $have, not $want" >&2; exit 1; fi
        kubeadm upgrade node

        """.Replace("\r\n", "\n", StringComparison.Ordinal);

    public static string RestartKubelet() => """
        set -euo pipefail
        systemctl daemon-reload
        systemctl restart kubelet

        """.Replace("\r\n", "\n", StringComparison.Ordinal);

    /// <summary>Waits (where admin.conf is) until the Node is Ready at the version (kubectl's VERSION column).</summary>
    public static string WaitNodeReady(string node, string version) => $$"""
        set -euo pipefail
        node={{ShellQuote.Quote(node)}}
        want={{ShellQuote.Quote("v" + KubeadmConfigs.Version(version))}}
        deadline=$((SECONDS + {{DeadlineSeconds}}))
        while :; do
          line=$({{Kubectl}} get node "$node" --no-headers 2>/dev/null || true)
          status=$(printf '%s\n' "$line" | awk 'NR == 1 { print $2 }')
          version=$(printf '%s\n' "$line" | awk 'NR == 1 { print $5 }')
          case "$status" in Ready|Ready,*) [ "$version" != "$want" ] || exit 0 ;; esac
          if [ "$SECONDS" -ge "$deadline" ]; then
            echo "node $node is not Ready at $want within {{DeadlineSeconds}} s (now: ${line:-not registered})" >&2
            exit 1
          fi
          sleep 1
        done

        """.Replace("\r\n", "\n", StringComparison.Ordinal);

    /// <summary>Waits until /readyz answers 200 on this control plane and through the load balancer.</summary>
    public static string WaitApi(string loadBalancerUrl) => $$"""
        set -euo pipefail
        deadline=$((SECONDS + {{DeadlineSeconds}}))
        for url in https://127.0.0.1:6443/readyz {{ShellQuote.Quote(loadBalancerUrl + "/readyz")}}; do
          until [ "$(curl -sk --max-time 5 -o /dev/null -w '%{http_code}' "$url" || true)" = 200 ]; do
            if [ "$SECONDS" -ge "$deadline" ]; then echo "the API did not answer at $url within {{DeadlineSeconds}} s" >&2; exit 1; fi
            sleep 1
          done
        done

        """.Replace("\r\n", "\n", StringComparison.Ordinal);

    public static string Drain(string node) => $$"""
        set -euo pipefail
        {{Kubectl}} drain {{ShellQuote.Quote(node)}} --ignore-daemonsets --delete-emptydir-data --force --timeout=300s

        """.Replace("\r\n", "\n", StringComparison.Ordinal);

    public static string Uncordon(string node) => $$"""
        set -euo pipefail
        {{Kubectl}} uncordon {{ShellQuote.Quote(node)}}

        """.Replace("\r\n", "\n", StringComparison.Ordinal);
}
