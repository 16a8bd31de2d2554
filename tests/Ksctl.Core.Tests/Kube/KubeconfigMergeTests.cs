using Ksctl.Core.Diagnostics;
using Ksctl.Core.Kube;
using YamlDotNet.RepresentationModel;

namespace Ksctl.Core.Tests.Kube;

/// <summary>
/// Issue #13 items 8 and 9: merging keeps what KubernetesClient's models do not know, writes through a symlinked
/// kubeconfig to its target, and serialises writers with kubectl's `&lt;file&gt;.lock` convention.
/// </summary>
public sealed class KubeconfigMergeTests : IDisposable
{
    private readonly TempDir _dir = new("ksctl-merge");
    public void Dispose() => _dir.Dispose();

    /// <summary>
    /// Made by hand from client-go's clientcmd/api/v1 types: fields KubernetesClient 21 does not model
    /// (interactiveMode, proxy-url, disable-compression, extensions, preferences.extensions) and keys nobody knows.
    /// </summary>
    private const string HandMade = """
        apiVersion: v1
        kind: Config
        preferences:
          colors: true
          extensions:
          - name: my-pref-ext
            extension:
              answer: 42
        current-context: work
        x-team-annotation: "keep me"
        clusters:
        - name: work
          cluster:
            server: https://work.example:443
            proxy-url: socks5://proxy.example:1080
            disable-compression: true
            tls-server-name: api.work.example
            extensions:
            - name: client.authentication.k8s.io/exec
              extension:
                audience: work
        - name: prod-ksctl
          cluster:
            server: https://stale.example:6443
        users:
        - name: sso
          user:
            exec:
              apiVersion: client.authentication.k8s.io/v1
              command: kubelogin
              args: ["get-token", "--server-id", "abc"]
              interactiveMode: IfAvailable
              provideClusterInfo: true
            x-unknown-user-key: [1, 2, 3]
        contexts:
        - name: work
          context:
            cluster: work
            user: sso
            namespace: team-a
            extensions:
            - name: my-context-ext
              extension: "just a string"
        - name: prod-ksctl
          context:
            cluster: prod-ksctl
            user: sso
        """;

    [Fact]
    public async Task Merge_preserves_every_field_it_does_not_own_by_meaning()
    {
        var target = _dir.Combine("config");
        File.WriteAllText(target, HandMade);

        var result = await KubeconfigFile.MergeAsync(Samples.K3sKubeconfig, "prod-ksctl", target, null, null, CancellationToken.None);

        Assert.Equal("prod-ksctl", result.ContextName);
        var before = Load(HandMade);
        var after = Load(File.ReadAllText(target));
        // Every top-level key but the lists we merge into and current-context is the same node.
        foreach (var (key, value) in before.Children.Where(kv => kv.Key.ToString() is not ("clusters" or "users" or "contexts" or "current-context")))
            Assert.Equal(Canonical(value), Canonical(after.Children[key]));
        Assert.Equal("prod-ksctl", ((YamlScalarNode)after.Children["current-context"]).Value);
        // Other entries: same meaning, same order; ours replaced the stale same-named ones in place.
        Assert.Equal(Canonical(Item(before, "clusters", "work")), Canonical(Item(after, "clusters", "work")));
        Assert.Equal(Canonical(Item(before, "users", "sso")), Canonical(Item(after, "users", "sso")));
        Assert.Equal(Canonical(Item(before, "contexts", "work")), Canonical(Item(after, "contexts", "work")));
        Assert.Equal(["work", "prod-ksctl"], Names(after, "clusters"));
        Assert.Equal(["sso", "prod-ksctl"], Names(after, "users"));
        Assert.Equal(["work", "prod-ksctl"], Names(after, "contexts"));
        var mine = KubeconfigFile.Parse(File.ReadAllText(target), target);
        Assert.Equal("https://127.0.0.1:6443", mine.Clusters.Single(c => c.Name == "prod-ksctl").ClusterEndpoint.Server);
        Assert.Equal("prod-ksctl", mine.Contexts.Single(c => c.Name == "prod-ksctl").ContextDetails.User);
        // The specific fields by name, as kubectl would read them.
        var text = File.ReadAllText(target);
        foreach (var field in new[] { "interactiveMode: IfAvailable", "proxy-url: socks5://proxy.example:1080", "disable-compression: true", "x-team-annotation", "x-unknown-user-key", "my-pref-ext", "my-context-ext", "namespace: team-a", "provideClusterInfo: true" })
            Assert.Contains(field, text);
    }

    [Fact]
    public async Task Merge_with_another_name_adds_a_second_context_and_keeps_the_first()
    {
        var target = _dir.Combine("config");
        await KubeconfigFile.MergeAsync(Samples.K3sKubeconfig, "kind-demo", target, null, null, CancellationToken.None);

        await KubeconfigFile.MergeAsync(Samples.K3sKubeconfig, "demo", target, null, null, CancellationToken.None);

        var config = Load(File.ReadAllText(target));
        Assert.Equal(["kind-demo", "demo"], Names(config, "contexts"));
        Assert.Equal(["kind-demo", "demo"], Names(config, "clusters"));
        Assert.Equal("demo", ((YamlScalarNode)config.Children["current-context"]).Value);
    }

    [Fact]
    public async Task Merge_writes_through_a_symlinked_kubeconfig_and_the_link_stays_a_link()
    {
        var dotfiles = _dir.Combine("dotfiles");
        Directory.CreateDirectory(dotfiles);
        var real = Path.Combine(dotfiles, "kubeconfig");
        File.WriteAllText(real, HandMade);
        var kube = _dir.Combine(".kube");
        Directory.CreateDirectory(kube);
        var link = Path.Combine(kube, "config");
        File.CreateSymbolicLink(link, Path.Combine("..", "dotfiles", "kubeconfig")); // relative, as `ln -s ../dotfiles/kubeconfig` makes it

        var result = await KubeconfigFile.MergeAsync(Samples.K3sKubeconfig, "prod-ksctl", link, null, null, CancellationToken.None);

        Assert.Equal(link, result.Path);
        Assert.Equal(Path.Combine("..", "dotfiles", "kubeconfig"), new FileInfo(link).LinkTarget);
        Assert.Contains("prod-ksctl", Names(Load(File.ReadAllText(real)), "contexts"));
        Assert.Contains("interactiveMode: IfAvailable", File.ReadAllText(real));
        // No temp or lock file left in either folder.
        Assert.Equal(["kubeconfig"], Directory.GetFileSystemEntries(dotfiles).Select(Path.GetFileName));
        Assert.Equal(["config"], Directory.GetFileSystemEntries(kube).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Concurrent_writers_are_serialised_by_the_lock_file_and_no_merge_is_lost()
    {
        var target = _dir.Combine("config");
        File.WriteAllText(target, HandMade);
        var names = Enumerable.Range(0, 8).Select(i => $"c{i}").ToArray();
        using var start = new ManualResetEventSlim();

        var writers = names.Select(name => Task.Run(async () =>
        {
            start.Wait();
            await KubeconfigFile.MergeAsync(Samples.K3sKubeconfig, name, target, null, null, CancellationToken.None);
        })).ToArray();
        start.Set();
        await Task.WhenAll(writers);

        var config = Load(File.ReadAllText(target));
        Assert.Equal(["work", "prod-ksctl", .. names], Names(config, "contexts").Take(2).Concat(Names(config, "contexts").Skip(2).Order()));
        Assert.Equal(10, Names(config, "clusters").Count);
        Assert.False(File.Exists(target + ".lock"));
    }

    [Fact]
    public async Task A_lock_held_by_kubectl_is_waited_for_and_then_named_without_touching_the_file()
    {
        var target = _dir.Combine("config");
        File.WriteAllText(target, HandMade);
        File.WriteAllText(target + ".lock", ""); // what kubectl's lockFile leaves while it writes (or after a crash)

        var ex = await Assert.ThrowsAsync<KsctlException>(async () =>
        {
            using var held = await KubeconfigFileLock.AcquireAsync(target, CancellationToken.None, attempts: 3);
        });

        Assert.Equal("KsctlKubeconfigLocked", ex.ErrorId);
        Assert.Contains(target + ".lock", ex.Message);
        Assert.Equal(HandMade, File.ReadAllText(target));
        Assert.True(File.Exists(target + ".lock")); // never removed by Ksctl: the convention records no owner

        // Once kubectl is done (the lock is gone) the same merge goes through and leaves no lock behind.
        File.Delete(target + ".lock");
        await KubeconfigFile.MergeAsync(Samples.K3sKubeconfig, "prod-ksctl", target, null, null, CancellationToken.None);
        Assert.False(File.Exists(target + ".lock"));
    }

    [Fact]
    public async Task A_lock_released_while_waiting_lets_the_writer_through()
    {
        var target = _dir.Combine("config");
        File.WriteAllText(target + ".lock", "");
        var attempt = KubeconfigFile.MergeAsync(Samples.K3sKubeconfig, "prod-ksctl", target, null, null, CancellationToken.None);

        // The writer cannot have written: the lock is still there.
        Assert.False(attempt.IsCompleted && File.Exists(target));
        File.Delete(target + ".lock");
        await attempt;

        Assert.Equal(["prod-ksctl"], Names(Load(File.ReadAllText(target)), "contexts"));
    }

    private static YamlMappingNode Load(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static List<string> Names(YamlMappingNode root, string list) =>
        ((YamlSequenceNode)root.Children[list]).Children.Cast<YamlMappingNode>().Select(m => ((YamlScalarNode)m.Children["name"]).Value!).ToList();

    private static YamlNode Item(YamlMappingNode root, string list, string name) =>
        ((YamlSequenceNode)root.Children[list]).Children.Cast<YamlMappingNode>().Single(m => ((YamlScalarNode)m.Children["name"]).Value == name);

    /// <summary>Meaning: keys sorted, scalar values as text (quoting style is not meaning).</summary>
    private static string Canonical(YamlNode node) => node switch
    {
        YamlScalarNode s => "'" + s.Value + "'",
        YamlSequenceNode q => "[" + string.Join(",", q.Children.Select(Canonical)) + "]",
        YamlMappingNode m => "{" + string.Join(",", m.Children.Select(kv => Canonical(kv.Key) + ":" + Canonical(kv.Value)).Order(StringComparer.Ordinal)) + "}",
        _ => "?",
    };
}
