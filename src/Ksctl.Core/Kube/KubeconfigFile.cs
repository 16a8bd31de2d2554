using k8s;
using k8s.KubeConfigModels;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Storage;

namespace Ksctl.Core.Kube;

/// <summary>Where a kubeconfig was written and what it points at.</summary>
public sealed record KubeconfigWriteResult(string Path, string ContextName, string ClusterName, string? Server);

/// <summary>
/// Kubeconfig handling on KubernetesClient's models: rename a cluster's entries to ksctl's context name, point
/// it at another server, and merge it into the user's file without disturbing any other entry.
/// </summary>
public static class KubeconfigFile
{
    public static K8SConfiguration Parse(string yaml, string source)
    {
        try
        {
            return KubernetesYaml.Deserialize<K8SConfiguration>(yaml)
                ?? throw new KsctlException("KsctlKubeconfigInvalid", KsctlErrorCategory.InvalidData, $"The kubeconfig from {source} is empty.", source);
        }
        catch (YamlDotNet.Core.YamlException ex)
        {
            throw new KsctlException("KsctlKubeconfigInvalid", KsctlErrorCategory.InvalidData, $"The kubeconfig from {source} is not valid YAML: {ex.Message}", source, ex);
        }
    }

    public static string Serialize(K8SConfiguration config) => KubernetesYaml.Serialize(config);

    /// <summary>
    /// Returns a kubeconfig holding only the source's current context, with its context, cluster and user all named
    /// <paramref name="contextName"/> (k3s names all three "default", so merging unrenamed entries would collide),
    /// and the server replaced by <paramref name="server"/> when given.
    /// </summary>
    public static string Normalize(string kubeconfig, string contextName, string? server = null)
    {
        var source = Parse(kubeconfig, "the cluster");
        var context = (source.Contexts ?? []).FirstOrDefault(c => c.Name == source.CurrentContext) ?? (source.Contexts ?? []).FirstOrDefault()
            ?? throw new KsctlException("KsctlKubeconfigInvalid", KsctlErrorCategory.InvalidData, "The cluster's kubeconfig has no context.", contextName);
        var cluster = (source.Clusters ?? []).FirstOrDefault(c => c.Name == context.ContextDetails?.Cluster)
            ?? throw new KsctlException("KsctlKubeconfigInvalid", KsctlErrorCategory.InvalidData, $"The cluster's kubeconfig has no cluster '{context.ContextDetails?.Cluster}'.", contextName);
        var user = (source.Users ?? []).FirstOrDefault(u => u.Name == context.ContextDetails?.User);
        cluster.Name = contextName;
        if (server is not null) cluster.ClusterEndpoint.Server = server;
        if (user is not null) user.Name = contextName;
        context.Name = contextName;
        context.ContextDetails ??= new ContextDetails();
        context.ContextDetails.Cluster = contextName;
        context.ContextDetails.User = user is null ? context.ContextDetails.User : contextName;
        var result = new K8SConfiguration
        {
            ApiVersion = "v1",
            Kind = "Config",
            CurrentContext = contextName,
            Clusters = [cluster],
            Users = user is null ? [] : [user],
            Contexts = [context],
        };
        return Serialize(result);
    }

    /// <summary>The kubeconfig file a user's kubectl reads: the first path of $KUBECONFIG, else ~/.kube/config.</summary>
    public static string DefaultUserPath()
    {
        var env = Environment.GetEnvironmentVariable("KUBECONFIG");
        var first = env?.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        return first is not null
            ? Path.GetFullPath(first)
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".kube", "config");
    }

    /// <summary>Merges into <see cref="DefaultUserPath"/> (or <paramref name="target"/>), replacing same-named entries and setting current-context.</summary>
    public static KubeconfigWriteResult MergeIntoUserConfig(string kubeconfig, string contextName, string? target = null)
    {
        target ??= DefaultUserPath();
        var incoming = Parse(Normalize(kubeconfig, contextName), "the cluster");
        var text = File.Exists(target) ? File.ReadAllText(target) : "";
        // An empty file (e.g. after `touch ~/.kube/config`) is an empty config to kubectl, and so to us.
        var existing = string.IsNullOrWhiteSpace(text) ? new K8SConfiguration { ApiVersion = "v1", Kind = "Config" } : Parse(text, target);
        existing.ApiVersion ??= "v1";
        existing.Kind ??= "Config";
        existing.Clusters = Replace(existing.Clusters, incoming.Clusters, c => c.Name);
        existing.Users = Replace(existing.Users, incoming.Users, u => u.Name);
        existing.Contexts = Replace(existing.Contexts, incoming.Contexts, c => c.Name);
        existing.CurrentContext = contextName;
        existing.FileName = null;
        return Write(existing, target, contextName);
    }

    /// <summary>Writes the cluster's kubeconfig alone to <paramref name="path"/> (replacing that file).</summary>
    public static KubeconfigWriteResult WriteStandalone(string kubeconfig, string contextName, string path) =>
        Write(Parse(Normalize(kubeconfig, contextName), "the cluster"), Path.GetFullPath(path), contextName);

    private static KubeconfigWriteResult Write(K8SConfiguration config, string path, string contextName)
    {
        SecureFile.WriteAtomic(path, System.Text.Encoding.UTF8.GetBytes(Serialize(config)));
        var cluster = config.Clusters.First(c => c.Name == contextName);
        return new KubeconfigWriteResult(path, contextName, cluster.Name, cluster.ClusterEndpoint?.Server);
    }

    private static List<T> Replace<T>(IEnumerable<T>? existing, IEnumerable<T>? incoming, Func<T, string> name)
    {
        var added = (incoming ?? []).ToList();
        var names = added.Select(name).ToHashSet(StringComparer.Ordinal);
        return (existing ?? []).Where(e => !names.Contains(name(e))).Concat(added).ToList();
    }
}
