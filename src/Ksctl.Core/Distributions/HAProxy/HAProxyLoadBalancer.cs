using System.Text;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Remote;

namespace Ksctl.Core.Distributions.HAProxy;

/// <summary>
/// The API load balancer: HAProxy in TCP mode on *:6443, round-robin to every control plane's private address, each
/// sent traffic only while its apiserver answers <c>GET /readyz</c> with 200 over TLS (HAProxy 2.6 <c>option
/// httpchk</c> + <c>http-check send/expect</c> with <c>check-ssl</c>): a bare TCP check passes as soon as the port
/// is open, long before the apiserver can serve. The check does not verify the apiserver's certificate (its CA does
/// not exist yet when the balancer is configured) and sends no credentials. A stats page on the machine's own loopback
/// (<see cref="StatsUrl"/>, CSV with <c>;csv</c>; HAProxy 2.6 "stats enable"/"stats uri") lets Test-KsctlCluster read each
/// backend's state over SSH; it is never reachable from outside the machine. It runs as ksctl's own unit (ksctl-haproxy) so that uninstalling leaves the distro's
/// haproxy.service as it was.
/// </summary>
internal static class HAProxyLoadBalancer
{
    public const string Step = "lb:haproxy";
    public const string Unit = "ksctl-haproxy";
    public const string ConfigPath = "/etc/haproxy/ksctl-haproxy.cfg";
    /// <summary>The stats page in CSV (management guide, "9.1. CSV format"), bound to 127.0.0.1 only.</summary>
    public const string StatsUrl = "http://127.0.0.1:8404/stats;csv";
    /// <summary>The backend of the control planes in the stats.</summary>
    public const string Backend = "control-planes";

    public static string Config(IEnumerable<(string Key, string Address)> controlPlanes)
    {
        var sb = new StringBuilder("""
            # Written by ksctl: the Kubernetes API load balancer. Changes are overwritten.
            global
                maxconn 4096

            defaults
                mode tcp
                timeout connect 5s
                timeout client 1h
                timeout server 1h

            frontend kubernetes-api
                bind *:6443
                default_backend control-planes

            frontend stats
                mode http
                bind 127.0.0.1:8404
                stats enable
                stats uri /stats

            backend control-planes
                balance roundrobin
                option httpchk
                http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host kubernetes
                http-check expect status 200
                default-server inter 2s fall 3 rise 2 check-ssl verify none

            """);
        foreach (var (key, address) in controlPlanes)
        {
            var name = System.Text.RegularExpressions.Regex.IsMatch(key, "^[a-z0-9-]{1,32}\\z") ? key : throw new Ksctl.Core.Diagnostics.InvalidSpecException("ControlPlane", $"'{key}' is not a node key.");
            var ip = Systemd.UnitValue.Address(address, "ControlPlane.PrivateIP");
            sb.Append($"    server {name} {(ip.Contains(':') ? $"[{ip}]" : ip)}:6443 check\n");
        }
        return sb.ToString().Replace("\r\n", "\n");
    }

    public static string InstallScript() => $$"""
        set -euo pipefail
        if ! command -v haproxy >/dev/null 2>&1; then
          export DEBIAN_FRONTEND=noninteractive
          apt-get update -qq
          apt-get install -y -qq haproxy
          mkdir -p /var/lib/ksctl && touch /var/lib/ksctl/installed-haproxy
        fi
        haproxy -c -q -f {{ConfigPath}}
        # Our unit owns port 6443; the distro's default instance would only get in the way.
        systemctl disable --now haproxy >/dev/null 2>&1 || true
        cat > /etc/systemd/system/{{Unit}}.service <<'UNIT'
        [Unit]
        Description=Kubernetes API load balancer (ksctl)
        Wants=network-online.target
        After=network-online.target

        [Service]
        ExecStart=/usr/sbin/haproxy -Ws -f {{ConfigPath}}
        Restart=always

        [Install]
        WantedBy=multi-user.target
        UNIT
        systemctl daemon-reload
        systemctl enable {{Unit}} >/dev/null 2>&1
        systemctl restart {{Unit}}
        """ + "\n";

    public static string UninstallScript() => $$"""
        set -euo pipefail
        systemctl disable --now {{Unit}} >/dev/null 2>&1 || true
        rm -f /etc/systemd/system/{{Unit}}.service {{ConfigPath}}
        systemctl daemon-reload >/dev/null 2>&1 || true
        if [ -f /var/lib/ksctl/installed-haproxy ]; then
          DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq haproxy || true
          rm -f /var/lib/ksctl/installed-haproxy
        fi
        """ + "\n";

    /// <summary>Configures the LB once every control plane machine exists (its backends are their private addresses).</summary>
    public static PlanStep CreateStep(SelfManagedTopology topology, MachineAccess access) =>
        new(Step, async (ctx, ct) =>
        {
            var backends = ctx.Session.Read(s => topology.ControlPlanes
                .Select(cp => (cp.Key, s.Nodes.First(n => n.Key == cp.Key).PrivateIP!)).ToList());
            var shell = await access.ShellAsync(ctx, topology.LoadBalancer.Key, ct).ConfigureAwait(false);
            await shell.UploadAsync(Encoding.UTF8.GetBytes(Config(backends)), ConfigPath, (UnixFileMode)0b110_100_100, ct).ConfigureAwait(false);
            await shell.RunAsync(new RemoteScript("haproxy:install", InstallScript(), retries: 3), ct).ConfigureAwait(false);
        })
        {
            DependsOn = [topology.LoadBalancer.MachineStep, .. topology.ControlPlanes.Select(c => c.MachineStep)],
            Description = $"configure HAProxy on the load balancer: TCP :6443 round-robin to {topology.ControlPlanes.Count} control plane(s), each while its /readyz answers 200",
            Resources = ["haproxy frontend *:6443"],
        };

    public static PlanStep UninstallStep(NodeState node, MachineAccess access) =>
        new($"lb-uninstall:{node.Key}", async (ctx, ct) =>
        {
            var shell = await access.ShellAsync(ctx, node.Key!, ct).ConfigureAwait(false);
            await shell.RunAsync(new RemoteScript("haproxy:uninstall", UninstallScript(), retries: 2), ct).ConfigureAwait(false);
        })
        {
            Description = $"remove the ksctl HAProxy unit and configuration from {node.Key}",
        };
}
