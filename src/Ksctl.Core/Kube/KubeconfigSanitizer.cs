using Ksctl.Core.Diagnostics;
using YamlDotNet.RepresentationModel;

namespace Ksctl.Core.Kube;

/// <summary>
/// A kubeconfig read from a machine or a cloud API is untrusted input: it ends up in the user's own kubeconfig,
/// where kubectl acts on it. Whoever controls the node (or forges the state) could otherwise make kubectl run a
/// program (<c>exec</c>, <c>auth-provider</c>), read a local file (<c>client-certificate</c>, <c>client-key</c>,
/// <c>certificate-authority</c>, <c>tokenFile</c>) or send credentials in clear text (a server that is not https).
/// So only the current context's server, certificate-authority-data, client-certificate-data/client-key-data and
/// token are kept, and every other known-dangerous field is refused before anything is stored or merged.
/// Field names: client-go tools/clientcmd/api/v1/types.go (Cluster, AuthInfo).
/// </summary>
internal static class KubeconfigSanitizer
{
    public const string ErrorId = "KsctlKubeconfigRefused";

    private static readonly (string Key, string Why)[] RefusedUserFields =
    [
        ("exec", "runs a command on this machine"),
        ("auth-provider", "runs a credential plugin on this machine"),
        ("client-certificate", "reads a file on this machine"),
        ("client-key", "reads a file on this machine"),
        ("tokenFile", "reads a file on this machine"),
    ];

    private static readonly (string Key, string Why)[] RefusedClusterFields =
    [
        ("certificate-authority", "reads a file on this machine"),
    ];

    /// <summary>
    /// The source's current context (else its first) as a clean one-context kubeconfig whose context, cluster and
    /// user are all named <paramref name="contextName"/>, with the server replaced by <paramref name="server"/> when given.
    /// </summary>
    public static YamlMappingNode Sanitize(string kubeconfig, string contextName, string? server, string source)
    {
        var root = KubeconfigYaml.Load(kubeconfig, $"from {source}");
        var contexts = Items(root, KubeconfigYaml.Contexts);
        var current = KubeconfigYaml.Scalar(root, KubeconfigYaml.CurrentContext);
        var context = contexts.FirstOrDefault(c => KubeconfigYaml.Scalar(c, "name") == current) ?? contexts.FirstOrDefault()
            ?? throw new KsctlException("KsctlKubeconfigInvalid", KsctlErrorCategory.InvalidData, $"The kubeconfig from {source} has no context.", contextName);
        var details = KubeconfigYaml.Mapping(context, "context")
            ?? throw Invalid(source, contextName, "its context has no 'context' mapping");
        var clusterName = KubeconfigYaml.Scalar(details, "cluster");
        var userName = KubeconfigYaml.Scalar(details, "user");
        var cluster = Items(root, KubeconfigYaml.Clusters).FirstOrDefault(c => KubeconfigYaml.Scalar(c, "name") == clusterName)
            ?.Let(c => KubeconfigYaml.Mapping(c, "cluster"))
            ?? throw new KsctlException("KsctlKubeconfigInvalid", KsctlErrorCategory.InvalidData, $"The kubeconfig from {source} has no cluster '{clusterName}'.", contextName);
        var user = Items(root, KubeconfigYaml.Users).FirstOrDefault(u => KubeconfigYaml.Scalar(u, "name") == userName)
            ?.Let(u => KubeconfigYaml.Mapping(u, "user"))
            ?? throw Refused(source, contextName, $"its context names user '{userName}', which it does not define; Ksctl needs client-certificate-data/client-key-data or a token");

        foreach (var (field, why) in RefusedClusterFields)
            if (cluster.Children.ContainsKey(field)) throw Refused(source, contextName, $"cluster field '{field}' {why}; only certificate-authority-data is accepted");
        // The one exec allowed: Ksctl's own token commands (EKS, GKE), rebuilt from their checked values (KubeconfigExec).
        var exec = user.Children.TryGetValue("exec", out var execNode) ? KubeconfigExec.Clean(execNode) : null;
        foreach (var (field, why) in RefusedUserFields)
            if (user.Children.ContainsKey(field) && !(field == "exec" && exec is not null))
                throw Refused(source, contextName, $"user field '{field}' {why}; only client-certificate-data/client-key-data, a token or Ksctl's own token commands are accepted");

        var cleanCluster = new YamlMappingNode { { "server", S(CheckServer(server ?? KubeconfigYaml.Scalar(cluster, "server"), source, contextName)) } };
        if (KubeconfigYaml.Scalar(cluster, "certificate-authority-data") is { } ca)
            cleanCluster.Add("certificate-authority-data", S(CheckBase64(ca, "certificate-authority-data", source, contextName)));

        var cleanUser = new YamlMappingNode();
        var cert = KubeconfigYaml.Scalar(user, "client-certificate-data");
        var key = KubeconfigYaml.Scalar(user, "client-key-data");
        if ((cert is null) != (key is null))
            throw Refused(source, contextName, "it has only one of client-certificate-data and client-key-data");
        if (cert is not null)
        {
            cleanUser.Add("client-certificate-data", S(CheckBase64(cert, "client-certificate-data", source, contextName)));
            cleanUser.Add("client-key-data", S(CheckBase64(key!, "client-key-data", source, contextName)));
        }
        if (KubeconfigYaml.Scalar(user, "token") is { } token)
        {
            if (token.Any(char.IsControl)) throw Refused(source, contextName, "its token holds control characters");
            cleanUser.Add("token", S(token));
        }
        if (exec is not null) cleanUser.Add("exec", exec);
        if (cleanUser.Children.Count == 0)
            throw Refused(source, contextName, "its user has neither client-certificate-data/client-key-data nor a token");

        return new YamlMappingNode
        {
            { "apiVersion", "v1" },
            { "kind", "Config" },
            { KubeconfigYaml.CurrentContext, S(contextName) },
            { KubeconfigYaml.Clusters, new YamlSequenceNode(new YamlMappingNode { { "name", S(contextName) }, { "cluster", cleanCluster } }) { Style = YamlDotNet.Core.Events.SequenceStyle.Block } },
            { KubeconfigYaml.Contexts, new YamlSequenceNode(new YamlMappingNode { { "name", S(contextName) }, { "context", new YamlMappingNode { { "cluster", S(contextName) }, { "user", S(contextName) } } } }) { Style = YamlDotNet.Core.Events.SequenceStyle.Block } },
            { KubeconfigYaml.Users, new YamlSequenceNode(new YamlMappingNode { { "name", S(contextName) }, { "user", cleanUser } }) { Style = YamlDotNet.Core.Events.SequenceStyle.Block } },
        };
    }

    private static YamlScalarNode S(string value) => KubeconfigYaml.Str(value);

    /// <summary>The server must be an absolute https URL with a host and no user info: anything else would send the token in clear or elsewhere.</summary>
    private static string CheckServer(string? server, string source, string contextName)
    {
        if (string.IsNullOrWhiteSpace(server)) throw Refused(source, contextName, "its cluster has no server");
        if (!Uri.TryCreate(server, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps || string.IsNullOrEmpty(uri.Host)
            || !string.IsNullOrEmpty(uri.UserInfo) || server.Any(char.IsControl) || server.Any(char.IsWhiteSpace))
            throw Refused(source, contextName, $"its server '{Shorten(server)}' is not an https:// URL with a host (credentials would be sent in clear or elsewhere)");
        return server;
    }

    private static string CheckBase64(string value, string field, string source, string contextName)
    {
        var buffer = new byte[value.Length];
        if (!Convert.TryFromBase64String(value, buffer, out _)) throw Refused(source, contextName, $"its {field} is not base64");
        return value;
    }

    private static List<YamlMappingNode> Items(YamlMappingNode root, string list) =>
        root.Children.TryGetValue(list, out var node) && node is YamlSequenceNode seq ? seq.Children.OfType<YamlMappingNode>().ToList() : [];

    private static string Shorten(string s) => s.Length > 80 ? s[..80] + "…" : s;

    private static KsctlException Refused(string source, string contextName, string reason) =>
        new(ErrorId, KsctlErrorCategory.SecurityError, $"The kubeconfig from {source} was refused: {reason}. Nothing was stored or merged.", contextName);

    private static KsctlException Invalid(string source, string contextName, string reason) =>
        new("KsctlKubeconfigInvalid", KsctlErrorCategory.InvalidData, $"The kubeconfig from {source} is not usable: {reason}.", contextName);

    private static TResult? Let<T, TResult>(this T value, Func<T, TResult?> f) => f(value);
}
