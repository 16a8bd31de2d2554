using YamlDotNet.RepresentationModel;

namespace Ksctl.Core.Kube;

/// <summary>
/// Merges one cluster's entries into a user's kubeconfig and takes them out again, at the YAML node level so that
/// nothing else in the file changes meaning. Rules as kubectl's `config set-*` leave a file: an entry with the same
/// name is replaced (in place, so the file's order stays), others are untouched; current-context is set.
/// Removal follows kind (pkg/cluster/internal/kubeconfig/internal/kubeconfig/remove.go: drop the cluster, user and
/// context of that name; clear current-context when it pointed there), except that an entry the user changed since
/// Ksctl merged it (its fingerprint differs) is kept.
/// </summary>
internal static class KubeconfigMerger
{
    public static readonly string[] Lists = [KubeconfigYaml.Clusters, KubeconfigYaml.Users, KubeconfigYaml.Contexts];

    /// <summary>Merges the single entry of each list of <paramref name="incoming"/>; returns each merged entry's fingerprint by list.</summary>
    public static Dictionary<string, string> Merge(YamlMappingNode target, YamlMappingNode incoming, string contextName)
    {
        var fingerprints = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var list in Lists)
        {
            var item = KubeconfigYaml.List(incoming, list).Children.OfType<YamlMappingNode>().Single();
            var name = KubeconfigYaml.Scalar(item, "name")!;
            var seq = KubeconfigYaml.List(target, list);
            var index = seq.Children.ToList().FindIndex(n => n is YamlMappingNode m && KubeconfigYaml.Scalar(m, "name") == name);
            if (index < 0) seq.Children.Add(item);
            else
            {
                seq.Children[index] = item;
                // kubectl's loader reads only the first of duplicate names; later ones would only confuse the next reader.
                for (var i = seq.Children.Count - 1; i > index; i--)
                    if (seq.Children[i] is YamlMappingNode m && KubeconfigYaml.Scalar(m, "name") == name) seq.Children.RemoveAt(i);
            }
            fingerprints[list] = KubeconfigYaml.Fingerprint(item);
        }
        target.Children[new YamlScalarNode(KubeconfigYaml.CurrentContext)] = KubeconfigYaml.Str(contextName);
        return fingerprints;
    }

    /// <summary>Removes the entries named <paramref name="name"/> whose fingerprint is still the one recorded; returns the lists removed from and kept.</summary>
    public static (List<string> Removed, List<string> Kept) Remove(YamlMappingNode target, string name, IReadOnlyDictionary<string, string> fingerprints)
    {
        var removed = new List<string>();
        var kept = new List<string>();
        foreach (var list in Lists)
        {
            if (!target.Children.TryGetValue(list, out var node) || node is not YamlSequenceNode seq) continue;
            var named = seq.Children.OfType<YamlMappingNode>().Where(m => KubeconfigYaml.Scalar(m, "name") == name).ToList();
            if (named.Count == 0) continue;
            var unchanged = named.Where(m => fingerprints.TryGetValue(list, out var fp) && fp == KubeconfigYaml.Fingerprint(m)).ToList();
            foreach (var m in unchanged) seq.Children.Remove(m);
            if (unchanged.Count > 0) removed.Add(list);
            if (unchanged.Count < named.Count) kept.Add(list);
        }
        if (removed.Contains(KubeconfigYaml.Contexts) && KubeconfigYaml.Scalar(target, KubeconfigYaml.CurrentContext) == name)
            target.Children[new YamlScalarNode(KubeconfigYaml.CurrentContext)] = new YamlScalarNode("") { Style = YamlDotNet.Core.ScalarStyle.DoubleQuoted };
        return (removed, kept);
    }
}
