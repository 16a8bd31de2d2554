using Ksctl.Core.Diagnostics;
using Ksctl.Core.Distributions.Artifacts;
using Ksctl.Core.Remote;

namespace Ksctl.Core.Distributions.Kubeadm;

/// <summary>
/// kubelet/kubeadm/kubectl and what the packages would bring with them, for installs from an artifact folder or mirror
/// (air-gapped sites): crictl, the CNI plugins in /opt/cni/bin (Flannel delegates to bridge and host-local and chains
/// portmap), the kubelet unit and kubeadm's drop-in that feeds the kubelet the flags file kubeadm writes. Layout:
/// <c>kubeadm/v1.33.1/{kubeadm,kubelet,kubectl}</c>, <c>cri-tools/v1.33.0/crictl</c>,
/// <c>cni-plugins/v1.6.2/cni-plugins.tgz</c> (upstream's cni-plugins-linux-&lt;arch&gt;-v1.6.2.tgz for the machines).
/// From the official source the pkgs.k8s.io packages bring all of it (kubeadm depends on cri-tools, kubelet on kubernetes-cni).
/// </summary>
internal static class KubeadmBinaries
{
    public const string CriToolsVersion = "v1.33.0";
    public const string CniPluginsVersion = "v1.6.2";
    private const string CniArchive = "cni-plugins.tgz";
    private const string Marker = "/var/lib/ksctl/installed-cni-plugins";

    /// <summary>Lines of the uninstall script that remove what <see cref="InstallAsync"/> laid down.</summary>
    public const string UninstallLines = """
        rm -f /etc/systemd/system/kubelet.service.d/10-kubeadm.conf /usr/local/bin/crictl /etc/cni/net.d/10-flannel.conflist
        rmdir --ignore-fail-on-non-empty /etc/systemd/system/kubelet.service.d 2>/dev/null || true
        if [ -f /var/lib/ksctl/installed-cni-plugins ]; then
          while read -r plugin; do case "$plugin" in ''|*/*) ;; *) rm -f "/opt/cni/bin/$plugin" ;; esac; done < /var/lib/ksctl/installed-cni-plugins
          rm -f /var/lib/ksctl/installed-cni-plugins
        fi
        """;

    public static async Task InstallAsync(IRemoteShell shell, ArtifactSource source, string version, CancellationToken ct)
    {
        await source.InstallAsync(shell, "kubeadm", $"v{KubeadmConfigs.Version(version)}", ["kubeadm", "kubelet", "kubectl"], officialScript: "", ct).ConfigureAwait(false);
        await source.InstallAsync(shell, "cri-tools", CriToolsVersion, ["crictl"], officialScript: "", ct).ConfigureAwait(false);
        const string staged = "/var/lib/ksctl/cni-plugins.tgz";
        const string stagedSums = staged + ".SHA256SUMS";
        // The archive is checked against the SHA256SUMS beside it on the machine, like every other artifact.
        if (source.Folder is not null)
        {
            var local = Path.Combine(source.Folder, "cni-plugins", CniPluginsVersion);
            foreach (var file in new[] { CniArchive, "SHA256SUMS" })
                if (!File.Exists(Path.Combine(local, file)))
                    throw new KsctlException("KsctlArtifactMissing", KsctlErrorCategory.ObjectNotFound,
                        $"The artifact folder has no cni-plugins/{CniPluginsVersion}/{file} (looked in '{local}').", local);
            await shell.UploadAsync(await File.ReadAllBytesAsync(Path.Combine(local, CniArchive), ct).ConfigureAwait(false), staged, (UnixFileMode)0b110_000_000, ct).ConfigureAwait(false);
            await shell.UploadAsync(await File.ReadAllBytesAsync(Path.Combine(local, "SHA256SUMS"), ct).ConfigureAwait(false), stagedSums, (UnixFileMode)0b110_000_000, ct).ConfigureAwait(false);
        }
        else
        {
            var url = new Uri(source.Mirror!, $"cni-plugins/{CniPluginsVersion}/{CniArchive}").AbsoluteUri;
            var sums = new Uri(source.Mirror!, $"cni-plugins/{CniPluginsVersion}/SHA256SUMS").AbsoluteUri;
            await shell.RunAsync(new RemoteScript("kubeadm:download-cni-plugins",
                $"set -euo pipefail\nmkdir -p /var/lib/ksctl\ncurl -fsSL --retry 3 --connect-timeout 20 -o {staged} {ShellQuote.Quote(url)}\n" +
                $"curl -fsSL --retry 3 --connect-timeout 20 -o {stagedSums} {ShellQuote.Quote(sums)}\n", retries: 2), ct).ConfigureAwait(false);
        }
        await shell.RunAsync(new RemoteScript("kubeadm:cni-plugins", CniPluginsScript(staged), retries: 1), ct).ConfigureAwait(false);
        await shell.RunAsync(new RemoteScript("kubeadm:kubelet-unit", KubeletUnitScript(), retries: 1), ct).ConfigureAwait(false);
    }

    /// <summary>Unpacks the CNI plugins into /opt/cni/bin and records which files are ours (for uninstall).</summary>
    internal static string CniPluginsScript(string archive) => $$"""
        set -euo pipefail
        mkdir -p /opt/cni/bin /var/lib/ksctl
        expected=$(awk '$2 == "{{CniArchive}}" || $2 == "*{{CniArchive}}" { print $1; exit }' {{archive}}.SHA256SUMS 2>/dev/null || true)
        if [ -z "$expected" ]; then echo "SHA256SUMS lists no {{CniArchive}}" >&2; rm -f {{archive}} {{archive}}.SHA256SUMS; exit 1; fi
        if ! echo "$expected  {{archive}}" | sha256sum -c --quiet - >/dev/null 2>&1; then
          echo "{{CniArchive}} does not match its SHA256SUMS; not installed" >&2; rm -f {{archive}} {{archive}}.SHA256SUMS; exit 1
        fi
        tar -tzf {{archive}} | sed -n 's|^\./||; /^[A-Za-z0-9._-][A-Za-z0-9._-]*$/p' > {{Marker}}.ksctl-new
        tar -C /opt/cni/bin --no-same-owner -xzf {{archive}}
        mv -f {{Marker}}.ksctl-new {{Marker}}
        rm -f {{archive}} {{archive}}.SHA256SUMS

        """.Replace("\r\n", "\n", StringComparison.Ordinal);

    /// <summary>
    /// The kubelet unit and kubeadm's drop-in as the upstream packages ship them (kubernetes/release,
    /// cmd/krel/templates/latest/kubelet/kubelet.service and kubeadm/10-kubeadm.conf), pointed at /usr/local/bin.
    /// </summary>
    internal static string KubeletUnitScript() => """
        set -euo pipefail
        mkdir -p /etc/systemd/system/kubelet.service.d /var/lib/kubelet /etc/kubernetes/manifests
        cat > /etc/systemd/system/kubelet.service.ksctl-new <<'UNIT'
        [Unit]
        Description=kubelet: The Kubernetes Node Agent
        Documentation=https://kubernetes.io/docs/
        Wants=network-online.target
        After=network-online.target

        [Service]
        ExecStart=/usr/local/bin/kubelet
        Restart=always
        StartLimitInterval=0
        RestartSec=10

        [Install]
        WantedBy=multi-user.target
        UNIT
        cat > /etc/systemd/system/kubelet.service.d/10-kubeadm.conf.ksctl-new <<'UNIT'
        # Note: This dropin only works with kubeadm and kubelet v1.11+
        [Service]
        Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
        Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
        # This is a file that "kubeadm init" and "kubeadm join" generates at runtime, populating the KUBELET_KUBEADM_ARGS variable dynamically
        EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
        # This is a file that the user can use for overrides of the kubelet args as a last resort.
        EnvironmentFile=-/etc/default/kubelet
        ExecStart=
        ExecStart=/usr/local/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
        UNIT
        changed=false
        for f in /etc/systemd/system/kubelet.service /etc/systemd/system/kubelet.service.d/10-kubeadm.conf; do
          if ! cmp -s "$f.ksctl-new" "$f"; then mv -f "$f.ksctl-new" "$f"; changed=true; else rm -f "$f.ksctl-new"; fi
        done
        if "$changed"; then systemctl daemon-reload; fi
        systemctl enable kubelet >/dev/null 2>&1

        """.Replace("\r\n", "\n", StringComparison.Ordinal);
}
