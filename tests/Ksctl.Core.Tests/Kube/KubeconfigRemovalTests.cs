using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Kube;
using YamlDotNet.RepresentationModel;

namespace Ksctl.Core.Tests.Kube;

/// <summary>
/// Issue #13 item 10: deleting a cluster takes out of kubeconfigs the context, cluster and user entries Ksctl merged
/// (like `kind delete cluster`), but not entries the user changed since, and not with KeepKubeconfigEntries.
/// </summary>
[Collection(ProcessEnvironmentCollection.Name)] // PATH, KSCTL_HOME, KUBECONFIG, the kind stand-in's variables
public sealed class KubeconfigRemovalTests : IDisposable
{
    private readonly TempDir _home = new("ksctl-kube-remove");
    private readonly TempDir _bin = new("ksctl-bin");
    private readonly EnvironmentScope _env = new();
    private readonly string _kindState = Path.Combine(Path.GetTempPath(), "kind-standin-" + Guid.NewGuid().ToString("N"));

    private const string Others = """
        apiVersion: v1
        kind: Config
        current-context: work
        preferences: {colors: true}
        clusters:
        - name: work
          cluster: {server: "https://work.example:443", proxy-url: "http://proxy:3128"}
        users:
        - name: work
          user: {token: work-token}
        contexts:
        - name: work
          context: {cluster: work, user: work}
        """;

    public KubeconfigRemovalTests()
    {
        foreach (var tool in new[] { "kind", "docker" }) File.CreateSymbolicLink(_bin.Combine(tool), Path.Combine(Samples.StandinsDirectory(), tool));
        _env.Set("PATH", string.Join(Path.PathSeparator, _bin.Path, "/usr/bin", "/bin"))
            .Set(KsctlSettings.HomeVariable, _home.Path)
            .Set("KUBECONFIG", _home.Combine("kube", "config"))
            .Set("KIND_STANDIN_STATE", _kindState)
            .Set("KIND_STANDIN_LOG", null).Set("KIND_STANDIN_FAIL_CREATE", null).Set("KIND_STANDIN_CREATE_DELAY", null).Set("DOCKER_STANDIN_DOWN", null);
    }

    public void Dispose()
    {
        _env.Dispose();
        _bin.Dispose();
        _home.Dispose();
        try { Directory.Delete(_kindState, recursive: true); } catch (IOException) { }
    }

    private ClusterManager NewManager() => new(KsctlSettings.Load(_home.Path));

    [Fact]
    public async Task Delete_removes_the_merged_entries_from_every_file_it_was_merged_into_and_nothing_else()
    {
        var userConfig = _home.Combine("kube", "config");
        var other = _home.Combine("other.yaml");
        Directory.CreateDirectory(Path.GetDirectoryName(userConfig)!);
        File.WriteAllText(userConfig, Others);
        using var manager = NewManager();
        var state = await manager.CreateAsync(new() { Id = Samples.LocalId("demo") }, OperationOptions.Default, CancellationToken.None);
        await manager.SwitchContextAsync(state.Id, null, CancellationToken.None);
        await manager.SwitchContextAsync(state.Id, other, "demo", CancellationToken.None);
        await manager.SwitchContextAsync(state.Id, other, "demo-again", CancellationToken.None); // a second name in the same file
        Assert.Contains("kind-demo", Names(userConfig, "contexts"));
        Assert.Equal(["demo", "demo-again"], Names(other, "contexts"));

        await manager.DeleteAsync(state.Id, OperationOptions.Default, CancellationToken.None);

        foreach (var list in new[] { "clusters", "users", "contexts" })
            Assert.Equal(["work"], Names(userConfig, list));
        Assert.Equal("", Root(userConfig).Children["current-context"].ToString()); // it pointed at the removed context (kind does the same)
        Assert.Contains("proxy-url", File.ReadAllText(userConfig));
        Assert.Contains("colors", File.ReadAllText(userConfig));
        Assert.Empty(Names(other, "contexts"));
        Assert.Empty(await manager.KubeconfigMerges.ReadAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Delete_keeps_an_entry_the_user_changed_since_the_merge_and_the_current_context_it_points_at()
    {
        var userConfig = _home.Combine("kube", "config");
        using var manager = NewManager();
        var state = await manager.CreateAsync(new() { Id = Samples.LocalId("demo") }, OperationOptions.Default, CancellationToken.None);
        await manager.SwitchContextAsync(state.Id, null, CancellationToken.None);
        // The user points the context at a namespace of their own after the merge.
        File.WriteAllText(userConfig, File.ReadAllText(userConfig).Replace("user: kind-demo", "user: kind-demo\n    namespace: mine"));

        await manager.DeleteAsync(state.Id, OperationOptions.Default, CancellationToken.None);

        Assert.Equal(["kind-demo"], Names(userConfig, "contexts"));
        Assert.Empty(Names(userConfig, "clusters"));
        Assert.Empty(Names(userConfig, "users"));
        Assert.Equal("kind-demo", Root(userConfig).Children["current-context"].ToString());
    }

    [Fact]
    public async Task Delete_with_KeepKubeconfigEntries_keeps_them()
    {
        var userConfig = _home.Combine("kube", "config");
        using var manager = NewManager();
        var state = await manager.CreateAsync(new() { Id = Samples.LocalId("demo") }, OperationOptions.Default, CancellationToken.None);
        await manager.SwitchContextAsync(state.Id, null, CancellationToken.None);
        var before = File.ReadAllText(userConfig);

        await manager.DeleteAsync(state.Id, OperationOptions.Default with { KeepKubeconfigEntries = true }, CancellationToken.None);

        Assert.Equal(before, File.ReadAllText(userConfig));
    }

    [Fact]
    public async Task A_merged_file_removed_since_is_no_error()
    {
        var other = _home.Combine("gone.yaml");
        using var manager = NewManager();
        var state = await manager.CreateAsync(new() { Id = Samples.LocalId("demo") }, OperationOptions.Default, CancellationToken.None);
        await manager.SwitchContextAsync(state.Id, other, CancellationToken.None);
        File.Delete(other);

        await manager.DeleteAsync(state.Id, OperationOptions.Default, CancellationToken.None);

        Assert.False(File.Exists(other));
        Assert.Empty(await manager.KubeconfigMerges.ReadAsync(CancellationToken.None));
    }

    private static YamlMappingNode Root(string path)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(path)));
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static List<string> Names(string path, string list) =>
        Root(path).Children.TryGetValue(list, out var node) && node is YamlSequenceNode seq
            ? seq.Children.Cast<YamlMappingNode>().Select(m => m.Children["name"].ToString()).ToList()
            : [];
}
