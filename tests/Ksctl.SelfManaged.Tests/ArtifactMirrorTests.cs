using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Distributions.Artifacts;
using Ksctl.Core.Remote;
using Ksctl.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ksctl.SelfManaged.Tests;

/// <summary>
/// Issue #17 item 8: the default (official) download scripts and the https mirror path, run on a test machine against
/// a local https server on the test bridge that serves the same layouts as GitHub releases, dl.k8s.io and a Ksctl
/// mirror (with SHA256SUMS). The machine trusts the server's CA through its own copy of the CA bundle (bind-mounted
/// in its mount namespace only), as a site with a private mirror would set it up.
/// </summary>
[Collection(HaMachinesCollection.Name)]
public sealed class ArtifactMirrorTests(HaMachinesFixture machines) : IAsyncLifetime
{
    private const int Machine = 9;
    private const string Bundle = "/etc/ssl/certs/ca-certificates.crt";
    private readonly string _root = Directory.CreateTempSubdirectory("ksctl-mirror-").FullName;
    private WebApplication? _app;
    private string _base = "";

    public async Task InitializeAsync()
    {
        var host = IPAddress.Parse(string.Join('.', machines.Machines[0].Address.Split('.')[..3]) + ".1");
        var (ca, leaf) = Certificates(host);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(host, 0, l => l.UseHttps(leaf)));
        _app = builder.Build();
        _app.Run(async ctx =>
        {
            var path = Path.GetFullPath(Path.Combine(_root, ctx.Request.Path.Value!.TrimStart('/')));
            if (!path.StartsWith(_root + "/", StringComparison.Ordinal) || !File.Exists(path)) { ctx.Response.StatusCode = 404; return; }
            await ctx.Response.SendFileAsync(path);
        });
        await _app.StartAsync();
        var port = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        _base = $"https://{host}:{port}";

        var pem = ca.ExportCertificatePem();
        await machines.RunOnAsync(Machine, $"cat {Bundle} > /run/ksctl/ca-bundle.crt\ncat >> /run/ksctl/ca-bundle.crt <<'PEM'\n{pem}\nPEM\nmount --bind /run/ksctl/ca-bundle.crt {Bundle}\n");
    }

    public async Task DisposeAsync()
    {
        await machines.RunOnAsync(Machine, $"umount {Bundle}; rm -f /run/ksctl/ca-bundle.crt /usr/local/bin/k3s /usr/local/bin/etcd /usr/local/bin/etcdctl /usr/local/bin/kubeadm /usr/local/bin/kubelet; true");
        if (_app is not null) await _app.DisposeAsync();
        Directory.Delete(_root, true);
    }

    [Fact]
    public async Task The_official_download_scripts_verify_and_install_k3s_etcd_and_kubernetes_binaries()
    {
        var k3s = await File.ReadAllBytesAsync(Path.Combine(TestMachineHarness.StandIns, "k3s"));
        Put("gh/k3s-io/k3s/releases/download/v1.33.1+k3s1/k3s", k3s);
        Put("gh/k3s-io/k3s/releases/download/v1.33.1+k3s1/sha256sum-amd64.txt", System.Text.Encoding.UTF8.GetBytes($"{Sha(k3s)}  k3s\n{Sha([1])}  k3s-airgap-images-amd64.tar\n"));
        var tarball = EtcdTarball();
        Put("gh/etcd-io/etcd/releases/download/v3.5.21/etcd-v3.5.21-linux-amd64.tar.gz", tarball);
        Put("gh/etcd-io/etcd/releases/download/v3.5.21/SHA256SUMS", System.Text.Encoding.UTF8.GetBytes($"{Sha([2])}  etcd-v3.5.21-darwin-amd64.zip\n{Sha(tarball)}  etcd-v3.5.21-linux-amd64.tar.gz\n"));
        foreach (var tool in new[] { "kubeadm", "kubelet" })
        {
            var bytes = await File.ReadAllBytesAsync(Path.Combine(TestMachineHarness.StandIns, tool));
            Put($"k8s/release/v1.33.1/bin/linux/amd64/{tool}", bytes);
            Put($"k8s/release/v1.33.1/bin/linux/amd64/{tool}.sha256", System.Text.Encoding.UTF8.GetBytes(Sha(bytes)));
        }

        await using var shell = await ConnectAsync();
        await ArtifactSource.Official.InstallAsync(shell, OfficialArtifacts.K3s("v1.33.1+k3s1", $"{_base}/gh"), CancellationToken.None);
        await ArtifactSource.Official.InstallAsync(shell, OfficialArtifacts.Etcd("v3.5.21", $"{_base}/gh"), CancellationToken.None);
        await ArtifactSource.Official.InstallAsync(shell, OfficialArtifacts.Kubernetes("v1.33.1", ["kubeadm", "kubelet"], $"{_base}/k8s"), CancellationToken.None);
        var installed = await machines.RunOnAsync(Machine, "sha256sum /usr/local/bin/k3s /usr/local/bin/kubeadm; /usr/local/bin/etcd --version | head -n 1; stat -c '%a' /usr/local/bin/k3s");
        Assert.Contains($"{Sha(k3s)}  /usr/local/bin/k3s", installed);
        Assert.Contains("etcd Version", installed);
        Assert.Contains("755", installed);

        // A download that does not match the release's checksum list is refused and the installed binary stays.
        Put("gh/k3s-io/k3s/releases/download/v1.33.2+k3s1/k3s", "#!/bin/sh\necho tampered\n"u8.ToArray());
        Put("gh/k3s-io/k3s/releases/download/v1.33.2+k3s1/sha256sum-amd64.txt", System.Text.Encoding.UTF8.GetBytes($"{Sha("#!/bin/sh\necho genuine\n"u8.ToArray())}  k3s\n"));
        var error = await Assert.ThrowsAsync<KsctlException>(() => ArtifactSource.Official.InstallAsync(shell, OfficialArtifacts.K3s("v1.33.2+k3s1", $"{_base}/gh"), CancellationToken.None));
        Assert.Equal("KsctlArtifactChecksumMismatch", error.ErrorId);
        // A release that does not exist: KsctlArtifactMissing.
        var missing = await Assert.ThrowsAsync<KsctlException>(() => ArtifactSource.Official.InstallAsync(shell, OfficialArtifacts.K3s("v1.99.0+k3s1", $"{_base}/gh"), CancellationToken.None));
        Assert.Equal("KsctlArtifactMissing", missing.ErrorId);
        Assert.Contains($"{Sha(k3s)}  /usr/local/bin/k3s", await machines.RunOnAsync(Machine, "sha256sum /usr/local/bin/k3s"));
    }

    [Fact]
    public async Task An_https_mirror_is_verified_against_its_SHA256SUMS_on_the_machine()
    {
        foreach (var file in Directory.GetFiles(Path.Combine(machines.ArtifactFolder, "etcd", "v3.5.21")))
            Put($"mirror/etcd/v3.5.21/{Path.GetFileName(file)}", await File.ReadAllBytesAsync(file));
        foreach (var file in Directory.GetFiles(Path.Combine(machines.ArtifactFolder, "k3s", "v1.33.1+k3s1")))
            Put($"mirror/k3s/v1.33.1+k3s1/{Path.GetFileName(file)}", await File.ReadAllBytesAsync(file));
        var source = ArtifactSource.Parse($"{_base}/mirror");

        await using var shell = await ConnectAsync();
        await source.InstallAsync(shell, OfficialArtifacts.Etcd("v3.5.21"), CancellationToken.None);
        await source.InstallAsync(shell, OfficialArtifacts.K3s("v1.33.1+k3s1"), CancellationToken.None);
        Assert.Contains("etcd Version", await machines.RunOnAsync(Machine, "/usr/local/bin/etcd --version"));
        Assert.Contains("stand-in", await machines.RunOnAsync(Machine, "/usr/local/bin/k3s --version"));

        // The mirror's copy changes: the machine refuses it and keeps what it had.
        await machines.RunOnAsync(Machine, "rm -f /usr/local/bin/k3s");
        Put("mirror/k3s/v1.33.1+k3s1/k3s", "#!/bin/sh\necho tampered\n"u8.ToArray());
        var error = await Assert.ThrowsAsync<KsctlException>(() => source.InstallAsync(shell, OfficialArtifacts.K3s("v1.33.1+k3s1"), CancellationToken.None));
        Assert.Equal("KsctlArtifactChecksumMismatch", error.ErrorId);
        Assert.Contains("checksum mismatch: k3s", error.Message);
        Assert.Equal("", (await machines.RunOnAsync(Machine, "ls /usr/local/bin/k3s 2>/dev/null; true")).Trim());

        // A version the mirror does not carry.
        var missing = await Assert.ThrowsAsync<KsctlException>(() => source.InstallAsync(shell, OfficialArtifacts.Etcd("v3.5.99"), CancellationToken.None));
        Assert.Equal("KsctlArtifactMissing", missing.ErrorId);
    }

    private string Put(string relative, byte[] content)
    {
        var path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return path;
    }

    private async Task<IRemoteShell> ConnectAsync() =>
        await new SshRemoteShellFactory(new RemoteShellOptions { ConnectDeadline = TimeSpan.FromSeconds(20) }).ConnectAsync(machines.Machines[Machine].ToRemote());

    private static string Sha(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();

    /// <summary>etcd's release layout: etcd-v3.5.21-linux-amd64/{etcd,etcdctl} in a gzipped tarball.</summary>
    private static byte[] EtcdTarball()
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip))
        {
            foreach (var tool in new[] { "etcd", "etcdctl" })
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, $"etcd-v3.5.21-linux-amd64/{tool}")
                {
                    DataStream = new MemoryStream(File.ReadAllBytes($"/usr/bin/{tool}")),
                    Mode = (UnixFileMode)0b111_101_101,
                });
        }
        return output.ToArray();
    }

    private static (X509Certificate2 Ca, X509Certificate2 Leaf) Certificates(IPAddress host)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=ksctl test mirror CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={host}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(host);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(12));
        var leaf = X509CertificateLoader.LoadPkcs12(issued.CopyWithPrivateKey(key).Export(X509ContentType.Pkcs12), null);
        return (ca, leaf);
    }
}
