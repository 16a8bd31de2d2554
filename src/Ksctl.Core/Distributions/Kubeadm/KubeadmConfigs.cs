using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace Ksctl.Core.Distributions.Kubeadm;

/// <summary>
/// The kubeadm configuration files (kubeadm.k8s.io/v1beta4, kubeadm ≥ 1.31). Every value written into them passes a
/// check of its own type first (an IP address, a token, a hex key, a version), so that nothing read back from state
/// can add YAML of its own; the files holding secrets are uploaded 0600 and removed by the script that uses them.
/// </summary>
internal static partial class KubeadmConfigs
{
    public const string PodSubnet = "10.244.0.0/16";
    public const string ServiceSubnet = "10.96.0.0/12";

    public static string Init(string version, string advertiseAddress, string lbPublic, string lbPrivate, IReadOnlyList<string> etcdEndpoints, string token, string certificateKey, bool externalCloudProvider = false) => $"""
        apiVersion: kubeadm.k8s.io/v1beta4
        kind: InitConfiguration
        bootstrapTokens:
        - token: "{Token(token)}"
          ttl: "{KubeadmDistribution.TokenTtlHours.ToString(CultureInfo.InvariantCulture)}h0m0s"
          usages: [signing, authentication]
          groups: [system:bootstrappers:kubeadm:default-node-token]
        certificateKey: "{Hex(certificateKey)}"
        localAPIEndpoint:
          advertiseAddress: "{Ip(advertiseAddress)}"
          bindPort: 6443
        nodeRegistration:
          criSocket: unix:///run/containerd/containerd.sock
        {ExternalCloudProvider.KubeadmKubeletExtraArgs(externalCloudProvider, "  ")}---
        apiVersion: kubeadm.k8s.io/v1beta4
        kind: ClusterConfiguration
        kubernetesVersion: "v{Version(version)}"
        controlPlaneEndpoint: "{Ip(lbPrivate)}:6443"
        apiServer:
          certSANs: ["{Ip(lbPublic)}", "{Ip(lbPrivate)}", "127.0.0.1"]
        etcd:
          external:
            endpoints: [{string.Join(", ", etcdEndpoints.Select(e => $"\"{EtcdEndpoint(e)}\""))}]
            caFile: {DatastoreSecrets.RemoteFolder}/ca.crt
            certFile: {DatastoreSecrets.RemoteFolder}/client.crt
            keyFile: {DatastoreSecrets.RemoteFolder}/client.key
        networking:
          podSubnet: {PodSubnet}
          serviceSubnet: {ServiceSubnet}
        ---
        apiVersion: kubelet.config.k8s.io/v1beta1
        kind: KubeletConfiguration
        cgroupDriver: systemd

        """.Replace("\r\n", "\n", StringComparison.Ordinal);

    /// <summary>A JoinConfiguration: the token, CA pin and certificate key live here, never on kubeadm's command line.</summary>
    public static string Join(string lbPrivate, string token, string caHash, string? certificateKey, string advertiseAddress, bool externalCloudProvider = false)
    {
        var controlPlane = certificateKey is null ? "" : $"""
            controlPlane:
              certificateKey: "{Hex(certificateKey)}"
              localAPIEndpoint:
                advertiseAddress: "{Ip(advertiseAddress)}"
                bindPort: 6443

            """;
        return ($"""
            apiVersion: kubeadm.k8s.io/v1beta4
            kind: JoinConfiguration
            discovery:
              bootstrapToken:
                apiServerEndpoint: "{Ip(lbPrivate)}:6443"
                token: "{Token(token)}"
                caCertHashes: ["sha256:{Hex(caHash)}"]
            nodeRegistration:
              criSocket: unix:///run/containerd/containerd.sock

            """ + ExternalCloudProvider.KubeadmKubeletExtraArgs(externalCloudProvider, "  ") + controlPlane + """
            ---
            apiVersion: kubelet.config.k8s.io/v1beta1
            kind: KubeletConfiguration
            cgroupDriver: systemd

            """).Replace("\r\n", "\n", StringComparison.Ordinal);
    }

    internal static string Token(string value) => TokenPattern().IsMatch(value) ? value : throw Bad("bootstrap token", "[a-z0-9]{6}.[a-z0-9]{16}");

    /// <summary>The token id (the public half), which is what "kubeadm token delete" needs.</summary>
    internal static string TokenId(string token) => Token(token)[..6];

    private static string Hex(string value) => HexPattern().IsMatch(value) ? value : throw Bad("key or hash", "64 lowercase hex digits");

    internal static string Version(string value) => VersionPattern().IsMatch(value) ? value : throw Bad("Kubernetes version", "major.minor.patch");

    internal static string Ip(string? value) =>
        value is not null && IPAddress.TryParse(value, out var ip) && ip.ToString() == value ? value : throw Bad("IP address", "an IPv4 or IPv6 address");

    private static string EtcdEndpoint(string value)
    {
        var ok = Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps && uri.AbsolutePath == "/"
            && IPAddress.TryParse(uri.Host.Trim('[', ']'), out _) && value == $"https://{uri.Host}:{uri.Port.ToString(CultureInfo.InvariantCulture)}";
        return ok ? value : throw Bad("etcd endpoint", "https://<ip>:<port>");
    }

    private static InvalidDataException Bad(string what, string rule) =>
        new($"A {what} read from the cluster state is not of the form {rule}; refusing to write it into a kubeadm configuration.");

    [GeneratedRegex("^[a-z0-9]{6}\\.[a-z0-9]{16}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex TokenPattern();

    [GeneratedRegex("^[0-9a-f]{64}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex HexPattern();

    [GeneratedRegex("^[0-9]+\\.[0-9]+\\.[0-9]+\\z", RegexOptions.CultureInvariant)]
    private static partial Regex VersionPattern();
}
