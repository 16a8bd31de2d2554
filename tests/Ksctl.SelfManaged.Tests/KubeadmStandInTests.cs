using Ksctl.Core.Distributions.Kubeadm;
using Ksctl.TestSupport;

namespace Ksctl.SelfManaged.Tests;

/// <summary>
/// The kubeadm stand-in refuses what kubeadm v1.33 refuses (its header names the sources): configs are decoded strictly
/// against v1beta4, secrets cannot be mixed onto the command line with --config. Run in a private mount namespace
/// (tmpfs over /var/log, /var/lib and /run) so that nothing it records reaches the host.
/// </summary>
public sealed class KubeadmStandInTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ksctl-kubeadm-standin-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private static readonly string Init = KubeadmConfigs.Init("1.33.1", "10.0.0.5", "1.2.3.4", "10.0.0.1", ["https://10.0.0.2:2379"], "abcdef.0123456789abcdef", new string('a', 64));
    private static readonly string Join = KubeadmConfigs.Join("10.0.0.1", "abcdef.0123456789abcdef", new string('b', 64), null, "10.0.0.7");

    private (int Code, string Error) Kubeadm(string config, params string[] args)
    {
        var file = Path.Combine(_dir, "config.yaml");
        File.WriteAllText(file, config);
        var (code, _, error) = TestMachineHarness.Run("unshare", TimeSpan.FromSeconds(60),
            ["--mount", "--propagation", "private", "sh", "-c",
             "mount -t tmpfs tmpfs /var/log && mount -t tmpfs tmpfs /var/lib && mount -t tmpfs tmpfs /run && exec bash \"$0\" \"$@\"",
             Path.Combine(TestMachineHarness.StandIns, "kubeadm"), .. args.Select(a => a.Replace("{config}", file))]);
        return (code, error);
    }

    [Fact]
    public void Ksctls_own_configs_decode_and_the_stand_in_gets_as_far_as_preflight()
    {
        var (code, error) = Kubeadm(Init, "init", "--config", "{config}", "--upload-certs");
        Assert.NotEqual(0, code);
        Assert.Contains("[preflight]", error);
        Assert.DoesNotContain("decoding", error);
        (code, error) = Kubeadm(Join, "join", "--config", "{config}");
        Assert.Contains("[preflight]", error);
        Assert.DoesNotContain("decoding", error);
    }

    [Theory]
    [InlineData("apiServer:\n", "apiServer:\n  timeoutForControlPlane: 4m0s\n", "unknown field \"apiServer.timeoutForControlPlane\"")]
    [InlineData("kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration", "kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration", "no kind \"ClusterConfiguration\" is registered for version \"kubeadm.k8s.io/v1beta3\"")]
    [InlineData("kind: InitConfiguration\n", "kind: InitConfig\n", "no kind \"InitConfig\"")]
    [InlineData("certificateKey:", "certificateKeys:", "unknown field \"certificateKeys\"")]
    [InlineData("kubernetesVersion: \"v1.33.1\"", "kubernetesVersion: \"v1.30.4\"", "control plane version >= 1.32.0")]
    public void An_init_config_kubeadm_would_refuse_is_refused(string from, string to, string expected)
    {
        Assert.Contains(from, Init);
        var (code, error) = Kubeadm(Init.Replace(from, to), "init", "--config", "{config}");
        Assert.NotEqual(0, code);
        Assert.Contains(expected, error);
        Assert.DoesNotContain("[preflight]", error);
    }

    [Fact]
    public void Join_refuses_an_unknown_field_and_secrets_mixed_onto_the_command_line()
    {
        var (code, error) = Kubeadm(Join.Replace("discovery:\n", "discovery:\n  timeout: 5m0s\n"), "join", "--config", "{config}");
        Assert.NotEqual(0, code);
        Assert.Contains("unknown field \"discovery.timeout\"", error);

        (code, error) = Kubeadm(Join, "join", "--config", "{config}", "--token", "abcdef.0123456789abcdef");
        Assert.NotEqual(0, code);
        Assert.Contains("can not mix '--config' with arguments [token]", error);
    }
}
