using YamlDotNet.RepresentationModel;

namespace Ksctl.Core.Kube;

/// <summary>
/// The only <c>exec</c> credential plugins a kubeconfig from a cluster or the state may carry: fixed command names with
/// fixed arguments that Ksctl itself writes for managed clusters whose API takes short-lived tokens (GKE). An entry is
/// accepted only when its command and args equal one of these exactly and it sets no env; what is kept is rebuilt from
/// this list, never copied, so a forged state cannot make kubectl run anything else.
/// Fields: client-go tools/clientcmd/api/v1/types.go ExecConfig (command, args, env, apiVersion, installHint,
/// provideClusterInfo, interactiveMode).
/// </summary>
internal static class KubeconfigExecPlugins
{
    private sealed record Plugin(string Command, string[] Args, bool ProvideClusterInfo, string InstallHint);

    private static readonly Plugin[] Known =
    [
        new("gke-gcloud-auth-plugin", [], true,
            "Install gke-gcloud-auth-plugin for use with kubectl by following https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl#install_plugin"),
        new("ksctl", ["gcp-token"], false,
            "Install the ksctl .NET tool (dotnet tool install --global ksctl) or gke-gcloud-auth-plugin, then run Get-KsctlKubeconfig again."),
    ];

    /// <summary>The clean exec mapping for a known plugin, or null when <paramref name="exec"/> is anything else.</summary>
    public static YamlMappingNode? Rebuild(YamlMappingNode exec)
    {
        if (exec.Children.ContainsKey("env")) return null;
        var command = KubeconfigYaml.Scalar(exec, "command");
        var args = exec.Children.TryGetValue("args", out var a) && a is YamlSequenceNode seq
            ? seq.Children.Select(c => (c as YamlScalarNode)?.Value).ToArray()
            : exec.Children.ContainsKey("args") ? null : [];
        if (args is null) return null;
        var plugin = Known.FirstOrDefault(p => p.Command == command && p.Args.SequenceEqual(args!));
        if (plugin is null) return null;
        var clean = new YamlMappingNode
        {
            { "apiVersion", KubeconfigYaml.Str("client.authentication.k8s.io/v1beta1") },
            { "command", KubeconfigYaml.Str(plugin.Command) },
        };
        if (plugin.Args.Length > 0)
            clean.Add("args", new YamlSequenceNode(plugin.Args.Select(x => (YamlNode)KubeconfigYaml.Str(x))) { Style = YamlDotNet.Core.Events.SequenceStyle.Block });
        clean.Add("installHint", KubeconfigYaml.Str(plugin.InstallHint));
        if (plugin.ProvideClusterInfo) clean.Add("provideClusterInfo", new YamlScalarNode("true"));
        clean.Add("interactiveMode", KubeconfigYaml.Str("Never"));
        return clean;
    }
}
