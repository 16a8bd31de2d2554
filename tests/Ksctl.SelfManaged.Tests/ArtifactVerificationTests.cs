using System.Diagnostics;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Distributions.Artifacts;
using Ksctl.Core.Distributions.Etcd;
using Ksctl.Core.Distributions.K3s;
using Ksctl.Core.Remote;
using Ksctl.TestSupport;

namespace Ksctl.SelfManaged.Tests;

/// <summary>
/// Issue #12 item 5 and #17 item 8: artifact URLs are https unless explicitly allowed; official downloads are checked
/// against the upstream checksum files; a folder's SHA256SUMS is checked on the machine before anything is installed.
/// </summary>
[Collection(HaMachinesCollection.Name)]
public sealed class ArtifactVerificationTests(HaMachinesFixture machines)
{
    [Theory]
    [InlineData("http://mirror.example/ksctl")]
    [InlineData("ftp://mirror.example/ksctl")]
    [InlineData("https://user:pass@mirror.example/ksctl")]
    [InlineData("https://mirror.example/ksctl?sig=abc")]
    public void A_source_that_is_not_plain_https_is_refused_naming_the_parameter(string url)
    {
        var error = Assert.Throws<InvalidSpecException>(() => ArtifactSource.Parse(url));
        Assert.Equal("KsctlInvalidSpec", error.ErrorId);
        Assert.Equal("ArtifactSource", error.Parameter);
    }

    [Fact]
    public void Plain_http_is_accepted_only_behind_the_switch()
    {
        Assert.Equal(new Uri("http://mirror.example/ksctl/"), ArtifactSource.Parse("http://mirror.example/ksctl", allowInsecure: true).Mirror);
        Assert.Equal(new Uri("https://mirror.example/ksctl/"), ArtifactSource.Parse("https://mirror.example/ksctl").Mirror);
    }

    [Fact]
    public void Official_downloads_are_verified_against_the_upstream_checksum_files()
    {
        var k3s = OfficialArtifacts.K3s("v1.33.1+k3s1").OfficialScript;
        Assert.Contains("https://github.com/k3s-io/k3s/releases/download/v1.33.1%2Bk3s1", k3s);
        Assert.Contains("sha256sum-$arch.txt", k3s);
        Assert.Contains("mismatch", k3s);
        var etcd = OfficialArtifacts.Etcd(EtcdDatastore.Version).OfficialScript;
        Assert.Contains("/SHA256SUMS", etcd);
        Assert.True(etcd.IndexOf("matches \"$tmp/$tarball\"", StringComparison.Ordinal) < etcd.IndexOf("tar -xzf", StringComparison.Ordinal));
        var kube = OfficialArtifacts.Kubernetes("v1.33.1", ["kubeadm", "kubelet"]).OfficialScript;
        Assert.Contains("https://dl.k8s.io/release/v1.33.1/bin/linux/", kube);
        Assert.Contains("/kubeadm.sha256", kube);
        Assert.Contains("/kubelet.sha256", kube);
        Assert.All(new[] { k3s, etcd, kube }, s => Assert.Contains("--proto \"$protocols\"", s));
    }

    public static TheoryData<string, string> Scripts() => new()
    {
        { "official-k3s", OfficialArtifacts.K3s("v1.33.1+k3s1").OfficialScript },
        { "official-etcd", OfficialArtifacts.Etcd(EtcdDatastore.Version).OfficialScript },
        { "official-kubernetes", OfficialArtifacts.Kubernetes("v1.33.1", ["kubeadm", "kubelet", "kubectl"]).OfficialScript },
        { "mirror", ArtifactScripts.FromMirror("https://mirror.example/k3s/v1.33.1%2Bk3s1", false, ["k3s"]) },
        { "mirror-http", ArtifactScripts.FromMirror("http://mirror.example/etcd/v3.5.21", true, ["etcd", "etcdctl"]) },
        { "folder-needed", ArtifactScripts.NeededFiles("/var/lib/ksctl/artifacts/k3s-1/SHA256SUMS", ["k3s"]) },
        { "folder-install", ArtifactScripts.InstallStaged("/var/lib/ksctl/artifacts/k3s-1", ["k3s"]) },
        { "k3s-killall", K3sScripts.Killall() },
        { "k3s-uninstaller", K3sScripts.UninstallerFile() },
        { "k3s-read-kubeconfig", K3sScripts.ReadKubeconfig() },
    };

    [Theory]
    [MemberData(nameof(Scripts))]
    public void Script_passes_shellcheck(string name, string script)
    {
        var psi = new ProcessStartInfo("shellcheck") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--shell=bash", "--severity=info", "-" }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.StandardInput.Write(script.StartsWith("#!", StringComparison.Ordinal) ? script : "#!/usr/bin/env bash\n" + script);
        p.StandardInput.Close();
        var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{name}:\n{output}");
    }

    [Fact]
    public async Task A_binary_that_does_not_match_the_folders_SHA256SUMS_is_refused_on_the_machine_and_not_installed()
    {
        var folder = Directory.CreateTempSubdirectory("ksctl-tampered-").FullName;
        try
        {
            var dir = Directory.CreateDirectory(Path.Combine(folder, "etcd", "v3.5.21")).FullName;
            await File.WriteAllTextAsync(Path.Combine(dir, "etcd"), "#!/bin/sh\necho genuine\n");
            await File.WriteAllTextAsync(Path.Combine(dir, "etcdctl"), "#!/bin/sh\necho genuine\n");
            TestMachineHarness.WriteChecksums(dir);
            await File.WriteAllTextAsync(Path.Combine(dir, "etcd"), "#!/bin/sh\necho tampered\n");

            var factory = new SshRemoteShellFactory(new RemoteShellOptions { ConnectDeadline = TimeSpan.FromSeconds(20) });
            await using var shell = await factory.ConnectAsync(machines.Machines[9].ToRemote());
            var source = ArtifactSource.Parse(folder);
            var error = await Assert.ThrowsAsync<KsctlException>(() => source.InstallAsync(shell, OfficialArtifacts.Etcd("v3.5.21"), CancellationToken.None));
            Assert.Equal("KsctlArtifactChecksumMismatch", error.ErrorId);
            Assert.Contains("checksum mismatch: etcd", error.Message);
            Assert.Equal("", (await machines.RunOnAsync(9, "ls /usr/local/bin/etcd /usr/local/bin/etcdctl 2>/dev/null; find /var/lib/ksctl/artifacts -mindepth 1 2>/dev/null; true")).Trim());

            // Without the list there is nothing to check against: KsctlArtifactMissing, naming the file.
            File.Delete(Path.Combine(dir, "SHA256SUMS"));
            var missing = await Assert.ThrowsAsync<KsctlException>(() => source.InstallAsync(shell, OfficialArtifacts.Etcd("v3.5.21"), CancellationToken.None));
            Assert.Equal("KsctlArtifactMissing", missing.ErrorId);
            Assert.Contains("SHA256SUMS", missing.Message);

            // The genuine files install.
            await File.WriteAllTextAsync(Path.Combine(dir, "etcd"), "#!/bin/sh\necho genuine\n");
            TestMachineHarness.WriteChecksums(dir);
            await source.InstallAsync(shell, OfficialArtifacts.Etcd("v3.5.21"), CancellationToken.None);
            Assert.Equal("genuine", (await machines.RunOnAsync(9, "/usr/local/bin/etcd")).Trim());
        }
        finally
        {
            await machines.RunOnAsync(9, "rm -rf /usr/local/bin/etcd /usr/local/bin/etcdctl /var/lib/ksctl/artifacts; true");
            Directory.Delete(folder, true);
        }
    }
}
