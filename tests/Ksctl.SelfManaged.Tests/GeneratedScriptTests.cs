using System.Diagnostics;
using Ksctl.Core.Distributions.Etcd;
using Ksctl.Core.Distributions.HAProxy;
using Ksctl.Core.Distributions.K3s;
using Ksctl.Core.Distributions.Kubeadm;

namespace Ksctl.SelfManaged.Tests;

/// <summary>Every shell script ksctl generates passes shellcheck (bash dialect, all severities but style).</summary>
public sealed class GeneratedScriptTests
{
    public static TheoryData<string, string> Scripts() => new()
    {
        { "haproxy-install", HAProxyLoadBalancer.InstallScript() },
        { "haproxy-uninstall", HAProxyLoadBalancer.UninstallScript() },
        { "etcd-start", EtcdDatastore.StartScript() },
        { "etcd-health", EtcdDatastore.HealthScript(["https://10.0.0.2:2379", "https://10.0.0.3:2379"]) },
        { "etcd-uninstall", EtcdDatastore.UninstallScript() },
        { "k3s-start", K3sDistribution.StartScript("k3s", "/var/lib/rancher/k3s/server/token") },
        { "k3s-uninstall", K3sDistribution.UninstallScript() },
        { "k3s-drain", K3sDistribution.DrainScript("worker-'1'") },
        { "kubeadm-prepare", KubeadmScripts.Prepare() },
        { "kubeadm-apt", KubeadmScripts.InstallFromApt("1.33.1") },
        { "kubeadm-kubelet-unit", KubeadmBinaries.KubeletUnitScript() },
        { "kubeadm-cni-plugins", KubeadmBinaries.CniPluginsScript("/var/lib/ksctl/cni-plugins.tgz") },
        { "kubeadm-init", KubeadmScripts.Init() },
        { "kubeadm-join", KubeadmScripts.Join() },
        { "kubeadm-refresh", KubeadmScripts.RefreshToken("abcdef") },
        { "kubeadm-cni", KubeadmScripts.ApplyCni() },
        { "kubeadm-nodes-ready", KubeadmScripts.WaitNodesReady(["cp-0", "worker-'1'"], 600) },
        { "kubeadm-drain", KubeadmScripts.Drain("node-1") },
        { "kubeadm-uninstall", KubeadmScripts.Uninstall() },
    };

    [Theory]
    [MemberData(nameof(Scripts))]
    public void Script_passes_shellcheck(string name, string script)
    {
        var psi = new ProcessStartInfo("shellcheck") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--shell=bash", "--severity=info", "-" }) psi.ArgumentList.Add(a);
        Process p;
        try { p = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception ex) { throw new InvalidOperationException("shellcheck is not installed (apt-get install shellcheck); .ci/run installs it.", ex); }
        using (p)
        {
            p.StandardInput.Write("#!/usr/bin/env bash\n" + script);
            p.StandardInput.Close();
            var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, $"{name}:\n{output}");
        }
    }

    [Fact]
    public void HAProxy_config_balances_every_control_plane_with_readyz_checks()
    {
        var config = HAProxyLoadBalancer.Config([("cp-0", "10.0.0.5"), ("cp-1", "10.0.0.6")]);
        Assert.Contains("bind *:6443", config);
        Assert.Contains("balance roundrobin", config);
        Assert.Contains("option httpchk", config);
        Assert.DoesNotContain("tcp-check", config);
        Assert.Contains("server cp-0 10.0.0.5:6443 check", config);
        Assert.Contains("server cp-1 10.0.0.6:6443 check", config);
    }

    [Fact]
    public void K3s_server_unit_has_the_datastore_taint_and_join_flags()
    {
        var first = K3sDistribution.ServerUnit(["https://10.0.0.2:2379", "https://10.0.0.3:2379"], "1.2.3.4", "10.0.0.1", null, "none");
        Assert.Contains("'--datastore-endpoint=https://10.0.0.2:2379,https://10.0.0.3:2379'", first);
        Assert.Contains("'--tls-san=1.2.3.4'", first);
        Assert.Contains("'--tls-san=10.0.0.1'", first);
        Assert.Contains("'--node-taint=CriticalAddonsOnly=true:NoExecute'", first);
        Assert.Contains("'--flannel-backend=none' \\\n    '--disable-network-policy'", first);
        Assert.DoesNotContain("--server=", first);
        var joiner = K3sDistribution.ServerUnit(["https://10.0.0.2:2379"], "1.2.3.4", "10.0.0.1", "https://10.0.0.1:6443", null);
        Assert.Contains("'--server=https://10.0.0.1:6443' \\\n    '--token-file=/etc/ksctl/k3s-token'", joiner);
        Assert.DoesNotContain("flannel", joiner);
    }

    [Fact]
    public void Etcd_unit_lists_every_member_with_tls_client_auth()
    {
        var unit = EtcdDatastore.Unit(1, "10.0.0.3", [(0, "10.0.0.2"), (1, "10.0.0.3"), (2, "10.0.0.4")], "demo-etcd");
        Assert.Contains("--name infra1", unit);
        Assert.Contains("--initial-cluster infra0=https://10.0.0.2:2380,infra1=https://10.0.0.3:2380,infra2=https://10.0.0.4:2380", unit);
        Assert.Contains("--listen-client-urls https://10.0.0.3:2379,https://127.0.0.1:2379", unit);
        Assert.Contains("--client-cert-auth", unit);
        Assert.Contains("--data-dir /var/lib/etcd", unit);
    }
}
