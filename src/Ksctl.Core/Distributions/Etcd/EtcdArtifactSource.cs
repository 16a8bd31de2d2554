namespace Ksctl.Core.Distributions.Etcd;

/// <summary>
/// Where the etcd binaries come from: the official release download on each machine (default), or a local folder on
/// the machine running ksctl holding <c>etcd</c> and <c>etcdctl</c>, uploaded over SSH (air-gapped installs, mirrors, tests).
/// </summary>
public sealed record EtcdArtifactSource
{
    public string Version { get; init; } = "3.5.21";
    public string DownloadBaseUrl { get; init; } = "https://github.com/etcd-io/etcd/releases/download";
    public string Architecture { get; init; } = "amd64";
    /// <summary>A folder holding the <c>etcd</c> and <c>etcdctl</c> executables to upload instead of downloading.</summary>
    public string? LocalFolder { get; init; }

    public string DownloadUrl => $"{DownloadBaseUrl.TrimEnd('/')}/v{Version}/etcd-v{Version}-linux-{Architecture}.tar.gz";
}
