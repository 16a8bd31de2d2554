using k8s;
using k8s.KubeConfigModels;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Storage;

namespace Ksctl.Core.Kube;

/// <summary>Where a kubeconfig was written and what it points at.</summary>
public sealed record KubeconfigWriteResult(string Path, string ContextName, string ClusterName, string? Server);

/// <summary>What Remove-KsctlCluster did to one kubeconfig a cluster had been merged into.</summary>
public sealed record KubeconfigRemoval(string Path, string Name, IReadOnlyList<string> Removed, IReadOnlyList<string> Kept, string? Problem = null);

/// <summary>
/// The kubeconfig use cases: clean a cluster's kubeconfig (<see cref="KubeconfigSanitizer"/>), merge it into a
/// user's file and take it out again (<see cref="KubeconfigMerger"/>, node level), write it alone. Every write of a
/// user's file holds kubectl's lock file and goes through a symlink to its target.
/// </summary>
public static class KubeconfigFile
{
    /// <summary>KubernetesClient's typed view, for reading fields (never for writing a user's file: it drops what it does not model).</summary>
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

    /// <summary>
    /// Returns a kubeconfig holding only the source's current context, with its context, cluster and user all named
    /// <paramref name="contextName"/> (k3s names all three "default", so merging unrenamed entries would collide),
    /// and the server replaced by <paramref name="server"/> when given. Keeps only the server, certificate-authority-data,
    /// client-certificate-data/client-key-data and token; refuses exec, auth-provider, file references and a server
    /// that is not https (<c>KsctlKubeconfigRefused</c>) — so nothing hostile from a node or a cloud API is ever stored.
    /// </summary>
    public static string Normalize(string kubeconfig, string contextName, string? server = null, string source = "the cluster") =>
        KubeconfigYaml.Save(KubeconfigSanitizer.Sanitize(kubeconfig, contextName, server, source));

    /// <summary>
    /// The file kubectl's `config` commands write (client-go tools/clientcmd/config.go, PathOptions.GetDefaultFilename):
    /// the only path of $KUBECONFIG; of several, the first that exists, else the last; without it ~/.kube/config.
    /// </summary>
    public static string DefaultUserPath()
    {
        var files = (Environment.GetEnvironmentVariable("KUBECONFIG") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(Path.GetFullPath).Distinct().ToList();
        return files.Count switch
        {
            0 => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".kube", "config"),
            1 => files[0],
            _ => files.FirstOrDefault(File.Exists) ?? files[^1],
        };
    }

    /// <summary>
    /// Merges the cluster's kubeconfig into <paramref name="target"/> (default <see cref="DefaultUserPath"/>), replacing
    /// same-named entries, keeping every other node of the file, and making the context current. Records the merge in
    /// <paramref name="log"/> under <paramref name="clusterKey"/> so that deleting the cluster can take it out again.
    /// </summary>
    public static async Task<KubeconfigWriteResult> MergeAsync(string kubeconfig, string contextName, string? target,
        KubeconfigMergeLog? log, string? clusterKey, CancellationToken cancellationToken)
    {
        var incoming = KubeconfigSanitizer.Sanitize(kubeconfig, contextName, server: null, "the cluster's state");
        var path = Path.GetFullPath(target ?? DefaultUserPath());
        Dictionary<string, string> fingerprints;
        using (await KubeconfigFileLock.AcquireAsync(path, cancellationToken).ConfigureAwait(false))
        {
            var root = KubeconfigYaml.Load(KubeconfigWriter.ReadOrEmpty(path), path);
            fingerprints = KubeconfigMerger.Merge(root, incoming, contextName);
            KubeconfigWriter.Write(path, KubeconfigYaml.Save(root));
        }
        if (log is not null && clusterKey is not null)
            await log.RecordAsync(new KubeconfigMergeEntry { Cluster = clusterKey, Path = path, Name = contextName, Fingerprints = fingerprints, MergedAt = DateTimeOffset.UtcNow }, cancellationToken).ConfigureAwait(false);
        return Result(path, incoming, contextName);
    }

    /// <summary>The cluster's kubeconfig alone, cleaned (what Get-KsctlKubeconfig prints).</summary>
    public static string Standalone(string kubeconfig, string contextName) =>
        KubeconfigYaml.Save(KubeconfigSanitizer.Sanitize(kubeconfig, contextName, server: null, "the cluster's state"));

    /// <summary>Writes the cluster's kubeconfig alone to <paramref name="path"/> (0600); an existing file is replaced only with <paramref name="overwrite"/>.</summary>
    public static KubeconfigWriteResult WriteStandalone(string kubeconfig, string contextName, string path, bool overwrite)
    {
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw new InvalidSpecException("Path", $"'{full}' is a folder; give the kubeconfig file to write.");
        if (!overwrite && (File.Exists(full) || new FileInfo(full).LinkTarget is not null))
            throw new KsctlException("KsctlFileExists", KsctlErrorCategory.ResourceExists,
                $"The file {full} already exists; add -Force to replace it (or choose another -Path).", full)
            { RecommendedAction = "Add -Force to replace the file." };
        var incoming = KubeconfigSanitizer.Sanitize(kubeconfig, contextName, server: null, "the cluster's state");
        KubeconfigWriter.Write(full, KubeconfigYaml.Save(incoming));
        return Result(full, incoming, contextName);
    }

    /// <summary>
    /// Takes the entries merged for <paramref name="clusterKey"/> out of every kubeconfig they were merged into, keeping
    /// any the user changed since (their fingerprint differs), then forgets the records. Never throws for one file:
    /// a problem is reported in its <see cref="KubeconfigRemoval"/>.
    /// </summary>
    public static async Task<IReadOnlyList<KubeconfigRemoval>> RemoveMergedAsync(KubeconfigMergeLog log, string clusterKey, CancellationToken cancellationToken)
    {
        var results = new List<KubeconfigRemoval>();
        foreach (var entry in (await log.ReadAsync(cancellationToken).ConfigureAwait(false)).Where(e => e.Cluster == clusterKey))
        {
            try
            {
                if (!File.Exists(KubeconfigWriter.ResolveTarget(entry.Path)))
                {
                    results.Add(new KubeconfigRemoval(entry.Path, entry.Name, [], [], "the file no longer exists"));
                }
                else
                {
                    using (await KubeconfigFileLock.AcquireAsync(entry.Path, cancellationToken).ConfigureAwait(false))
                    {
                        var root = KubeconfigYaml.Load(KubeconfigWriter.ReadOrEmpty(entry.Path), entry.Path);
                        var (removed, kept) = KubeconfigMerger.Remove(root, entry.Name, entry.Fingerprints);
                        if (removed.Count > 0) KubeconfigWriter.Write(entry.Path, KubeconfigYaml.Save(root));
                        results.Add(new KubeconfigRemoval(entry.Path, entry.Name, removed, kept));
                    }
                }
                await log.ForgetAsync(clusterKey, entry.Path, entry.Name, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is KsctlException or IOException or UnauthorizedAccessException)
            {
                results.Add(new KubeconfigRemoval(entry.Path, entry.Name, [], [], ex.Message));
            }
        }
        return results;
    }

    private static KubeconfigWriteResult Result(string path, YamlDotNet.RepresentationModel.YamlMappingNode config, string contextName)
    {
        var cluster = (YamlDotNet.RepresentationModel.YamlMappingNode)KubeconfigYaml.List(config, KubeconfigYaml.Clusters).Children[0];
        var server = KubeconfigYaml.Scalar(KubeconfigYaml.Mapping(cluster, "cluster")!, "server");
        return new KubeconfigWriteResult(path, contextName, contextName, server);
    }
}
