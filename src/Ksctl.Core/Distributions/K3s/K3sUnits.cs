using Ksctl.Core.Distributions.Systemd;

namespace Ksctl.Core.Distributions.K3s;

/// <summary>
/// The k3s and k3s-agent units, written as k3s's install.sh (create_systemd_service_file) writes them:
/// Type=notify (k3s tells systemd when it is ready), KillMode=process and Delegate=yes (a restart of k3s stops only
/// k3s, never the containerd shims and pods it started), no accounting limits, no start timeout (a joining server
/// may wait long for the datastore), Restart=always after 5 s, ordered after network-online, and an environment file.
/// Every argument goes through <see cref="UnitValue"/>.
/// </summary>
internal static class K3sUnits
{
    public const string ServerUnit = "k3s";
    public const string AgentUnit = "k3s-agent";
    public const string TokenFile = "/etc/ksctl/k3s-token";
    public const string AgentTokenFile = "/etc/ksctl/k3s-agent-token";

    public static string EnvironmentFile(string unit) => $"/etc/systemd/system/{unit}.service.env";

    /// <summary>
    /// A server on the external datastore. Every server gets the same agent token (a critical configuration value in
    /// k3s's server reference), so agents never hold the server token. The apiserver admits anonymous requests so the
    /// load balancer can probe /readyz (k3s turns anonymous auth off; RBAC's system:public-info-viewer still limits
    /// anonymous users to the health and version endpoints).
    /// </summary>
    public static string Server(IReadOnlyList<string> endpoints, string lbPublic, string lbPrivate, string? joinServer, string? cni, bool externalCloudProvider = false)
    {
        var args = new List<string>
        {
            "--datastore-endpoint=" + string.Join(',', endpoints.Select(e => Endpoint(e))),
            $"--datastore-cafile={DatastoreSecrets.RemoteFolder}/ca.crt",
            $"--datastore-certfile={DatastoreSecrets.RemoteFolder}/client.crt",
            $"--datastore-keyfile={DatastoreSecrets.RemoteFolder}/client.key",
            "--tls-san=" + UnitValue.Address(lbPublic, "LoadBalancer.PublicIP"),
            "--tls-san=" + UnitValue.Address(lbPrivate, "LoadBalancer.PrivateIP"),
            "--node-taint=CriticalAddonsOnly=true:NoExecute",
            $"--agent-token-file={AgentTokenFile}",
            "--kube-apiserver-arg=anonymous-auth=true",
        };
        // docs.k3s.io/networking/basic-network-options ("Custom CNI"): another CNI needs flannel and k3s's
        // network-policy controller off on every server.
        if (Cni.CniChoice.ReplacesBuiltIn(Cni.CniChoice.Parse(Model.DistributionKind.K3s, cni))) args.AddRange(["--flannel-backend=none", "--disable-network-policy"]);
        if (externalCloudProvider) args.AddRange(ExternalCloudProvider.K3sServerArgs);
        if (joinServer is not null) args.AddRange([$"--server={joinServer}", $"--token-file={TokenFile}"]);
        return Unit(ServerUnit, "Lightweight Kubernetes server (ksctl)", "server", args);
    }

    /// <summary>An agent: the agent token only (in <see cref="TokenFile"/>), through the load balancer.</summary>
    public static string Agent(string server, bool externalCloudProvider = false) =>
        Unit(AgentUnit, "Lightweight Kubernetes agent (ksctl)", "agent",
            [$"--server={server}", $"--token-file={TokenFile}", .. externalCloudProvider ? ExternalCloudProvider.K3sAgentArgs : []]);

    /// <summary>https://&lt;address&gt;:6443, the address validated.</summary>
    public static string ApiUrl(string? address, string source) => $"https://{Bracket(UnitValue.Address(address, source))}:6443";

    private static string Endpoint(string url) => UnitValue.HttpsEndpoint(url, "Datastore.PrivateIP");

    private static string Bracket(string address) => address.Contains(':') ? $"[{address}]" : address;

    private static string Unit(string name, string description, string command, IEnumerable<string> args) =>
        $$"""
        [Unit]
        Description={{description}}
        Documentation=https://k3s.io
        Wants=network-online.target
        After=network-online.target

        [Install]
        WantedBy=multi-user.target

        [Service]
        Type=notify
        EnvironmentFile=-/etc/default/%N
        EnvironmentFile=-/etc/sysconfig/%N
        EnvironmentFile=-{{EnvironmentFile(name)}}
        KillMode=process
        Delegate=yes
        User=root
        # Non-zero Limit*s cost accounting overhead in the kernel; cgroups account per container instead.
        LimitNOFILE=1048576
        LimitNPROC=infinity
        LimitCORE=infinity
        TasksMax=infinity
        TimeoutStartSec=0
        Restart=always
        RestartSec=5s
        ExecStartPre=-/sbin/modprobe br_netfilter
        ExecStartPre=-/sbin/modprobe overlay
        ExecStart=/usr/local/bin/k3s \
            {{command}} \
        {{string.Concat(args.Select(a => $"    {UnitValue.Arg(a, name)} \\\n"))}}

        """.Replace("\r\n", "\n");
}
