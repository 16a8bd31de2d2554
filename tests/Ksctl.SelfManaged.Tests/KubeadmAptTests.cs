using Ksctl.Core.Distributions.Kubeadm;
using Ksctl.TestSupport;

namespace Ksctl.SelfManaged.Tests;

/// <summary>
/// The apt install script run for real (in a private mount namespace, with /etc/apt and /var/lib on tmpfs) against
/// recording stand-ins for apt-get, dpkg-query, cloud-init, curl, gpg and apt-mark: on a fresh VM it waits for
/// cloud-init, never fails on a held dpkg lock, and installs exactly the version asked for; it skips only when exactly
/// that version is installed.
/// </summary>
public sealed class KubeadmAptTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ksctl-kubeadm-apt-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private (int Code, string[] Calls, string Error) Run(string installedVersion)
    {
        var bin = Directory.CreateDirectory(Path.Combine(_dir, "bin")).FullName;
        var log = Path.Combine(_dir, "calls.log");
        File.WriteAllText(log, "");
        foreach (var tool in new[] { "apt-get", "cloud-init", "curl", "gpg", "apt-mark" })
            File.WriteAllText(Path.Combine(bin, tool), $"#!/bin/sh\necho \"$(basename \"$0\") $*\" >> '{log}'\n");
        File.WriteAllText(Path.Combine(bin, "dpkg-query"), $"#!/bin/sh\n[ -n '{installedVersion}' ] && printf '%s' '{installedVersion}'\nexit 0\n");
        foreach (var f in Directory.GetFiles(bin)) File.SetUnixFileMode(f, (UnixFileMode)0b111_101_101);
        var script = Path.Combine(_dir, "install.sh");
        File.WriteAllText(script, KubeadmScripts.InstallFromApt("1.33.1"));
        var (code, _, error) = TestMachineHarness.Run("unshare", TimeSpan.FromSeconds(60), "--mount", "--propagation", "private", "sh", "-c",
            "mount -t tmpfs tmpfs /etc/apt && mkdir -p /etc/apt/sources.list.d && mount -t tmpfs tmpfs /var/lib && PATH=\"$0:$PATH\" bash \"$1\"", bin, script);
        return (code, File.ReadAllLines(log), error);
    }

    [Fact]
    public void On_a_fresh_VM_it_waits_for_cloud_init_and_the_dpkg_lock_and_pins_the_exact_version()
    {
        var (code, calls, error) = Run(installedVersion: "");

        Assert.True(code == 0, error);
        Assert.Equal("cloud-init status --wait", calls[0]);
        var apt = calls.Where(c => c.StartsWith("apt-get ", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(apt);
        Assert.All(apt, c => Assert.StartsWith("apt-get -o DPkg::Lock::Timeout=", c));
        Assert.Contains(apt, c => c.Contains(" install ") && c.EndsWith(" kubelet=1.33.1-* kubeadm=1.33.1-* kubectl=1.33.1-*", StringComparison.Ordinal));
        Assert.Contains("apt-mark hold kubelet kubeadm kubectl", calls);
    }

    [Fact]
    public void Exactly_the_asked_version_installed_is_left_alone_and_another_patch_is_replaced()
    {
        var (code, calls, error) = Run(installedVersion: "1.33.1-1.1");
        Assert.True(code == 0, error);
        Assert.Empty(calls);

        (code, calls, error) = Run(installedVersion: "1.33.4-1.1");
        Assert.True(code == 0, error);
        Assert.Contains(calls, c => c.StartsWith("apt-get ", StringComparison.Ordinal) && c.Contains("kubeadm=1.33.1-*"));
    }
}
