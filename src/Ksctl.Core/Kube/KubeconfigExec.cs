using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Ksctl.Core.Kube;

/// <summary>
/// The only <c>exec</c> credential plugins a kubeconfig in Ksctl's state may carry: GKE's (KubeconfigExecPlugins) and the EKS token commands Ksctl itself
/// writes (Providers/Aws/Eks/EksKubeconfig), `aws --region R eks get-token --cluster-name N --output json` and
/// `ksctl token --cluster-name N --region R`. Anything else in an exec entry (another command, other arguments, env,
/// installHint) would let a forged state make kubectl run a program, so the entry is rebuilt from the two checked
/// values and nothing else, or refused. The one env entry kept is an EKS command's AWS_PROFILE (what `aws eks
/// update-kubeconfig --profile` writes), a profile name only. Field names: client-go tools/clientcmd/api/v1/types.go
/// (ExecConfig, ExecEnvVar).
/// </summary>
internal static partial class KubeconfigExec
{
    public const string ApiVersion = "client.authentication.k8s.io/v1beta1";

    /// <summary>The clean exec mapping, or null when <paramref name="node"/> is not one of the allowed commands.</summary>
    public static YamlMappingNode? Clean(YamlNode node)
    {
        if (node is not YamlMappingNode exec) return null;
        // GKE's plugins take no per-cluster arguments: a fixed list (KubeconfigExecPlugins).
        if (KubeconfigExecPlugins.Rebuild(exec) is { } gke) return gke;
        var allowedKeys = new HashSet<string>(StringComparer.Ordinal) { "apiVersion", "command", "args", "interactiveMode", "provideClusterInfo", "env" };
        if (exec.Children.Keys.Any(k => k is not YamlScalarNode s || !allowedKeys.Contains(s.Value ?? ""))) return null;
        if (KubeconfigYaml.Scalar(exec, "apiVersion") != ApiVersion) return null;
        var command = KubeconfigYaml.Scalar(exec, "command");
        if (!exec.Children.TryGetValue("args", out var argsNode) || argsNode is not YamlSequenceNode seq) return null;
        var args = seq.Children.Select(a => (a as YamlScalarNode)?.Value).ToList();
        if (args.Any(a => a is null)) return null;
        string? region = null, cluster = null;
        if (command == "aws" && args.Count == 8 && args[0] == "--region" && args[2] == "eks" && args[3] == "get-token" && args[4] == "--cluster-name" && args[6] == "--output" && args[7] == "json")
            (region, cluster) = (args[1], args[5]);
        else if (command == "ksctl" && args.Count == 5 && args[0] == "token" && args[1] == "--cluster-name" && args[3] == "--region")
            (region, cluster) = (args[4], args[2]);
        if (region is null || cluster is null || !Region().IsMatch(region) || !ClusterName().IsMatch(cluster)) return null;
        string? profile = null;
        if (exec.Children.TryGetValue("env", out var envNode) && envNode is not YamlScalarNode { Value: null or "" or "null" })
        {
            if (envNode is not YamlSequenceNode { Children: [YamlMappingNode only] } || only.Children.Count != 2
                || KubeconfigYaml.Scalar(only, "name") != "AWS_PROFILE" || KubeconfigYaml.Scalar(only, "value") is not { } p || !Profile().IsMatch(p))
                return null;
            profile = p;
        }
        return Build(command!, region, cluster, profile);
    }

    public static YamlMappingNode Build(string command, string region, string cluster, string? profile = null)
    {
        var args = command == "aws"
            ? new[] { "--region", region, "eks", "get-token", "--cluster-name", cluster, "--output", "json" }
            : ["token", "--cluster-name", cluster, "--region", region];
        var exec = new YamlMappingNode
        {
            { "apiVersion", ApiVersion },
            { "command", KubeconfigYaml.Str(command) },
            { "args", new YamlSequenceNode(args.Select(a => (YamlNode)KubeconfigYaml.Str(a))) { Style = YamlDotNet.Core.Events.SequenceStyle.Block } },
            { "interactiveMode", "Never" },
        };
        if (profile is not null)
            exec.Add("env", new YamlSequenceNode(new YamlMappingNode { { "name", "AWS_PROFILE" }, { "value", KubeconfigYaml.Str(profile) } }) { Style = YamlDotNet.Core.Events.SequenceStyle.Block });
        return exec;
    }

    /// <summary>An AWS profile name (an ini section name; AwsCredentials' rule).</summary>
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.@+=,:/-]{0,127}\z")]
    private static partial Regex Profile();

    /// <summary>AWS region names (us-east-1, ap-southeast-4, us-gov-west-1, cn-north-1).</summary>
    [GeneratedRegex("^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$")]
    private static partial Regex Region();

    /// <summary>EKS cluster names (CreateCluster: [0-9A-Za-z][A-Za-z0-9-_]*, at most 100).</summary>
    [GeneratedRegex("^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")]
    private static partial Regex ClusterName();
}
