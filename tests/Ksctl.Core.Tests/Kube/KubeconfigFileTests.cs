using Ksctl.Core.Diagnostics;
using Ksctl.Core.Kube;

namespace Ksctl.Core.Tests.Kube;

[Collection(ProcessEnvironmentCollection.Name)] // one test sets $KUBECONFIG
public sealed class KubeconfigFileTests : IDisposable
{
    private readonly TempDir _dir = new("ksctl-kube");
    public void Dispose() => _dir.Dispose();

    private const string OtherUsersConfig = """
        apiVersion: v1
        kind: Config
        current-context: work
        clusters:
        - name: work
          cluster:
            server: https://work.example:443
        - name: prod-eastus-selfmanaged-azure-ksctl
          cluster:
            server: https://old.example:6443
        users:
        - name: work
          user:
            token: work-token
        - name: prod-eastus-selfmanaged-azure-ksctl
          user:
            token: stale-token
        contexts:
        - name: work
          context:
            cluster: work
            user: work
        - name: prod-eastus-selfmanaged-azure-ksctl
          context:
            cluster: prod-eastus-selfmanaged-azure-ksctl
            user: prod-eastus-selfmanaged-azure-ksctl
        """;

    private const string Context = "prod-eastus-selfmanaged-azure-ksctl";

    [Fact]
    public void Normalize_renames_k3s_default_entries_and_rewrites_the_server()
    {
        var text = KubeconfigFile.Normalize(Samples.K3sKubeconfig, Context, "https://10.251.0.10:6443");
        var config = KubeconfigFile.Parse(text, "normalized");

        Assert.Equal(Context, config.CurrentContext);
        var cluster = Assert.Single(config.Clusters);
        Assert.Equal(Context, cluster.Name);
        Assert.Equal("https://10.251.0.10:6443", cluster.ClusterEndpoint.Server);
        Assert.Equal("Q0EgREFUQQ==", cluster.ClusterEndpoint.CertificateAuthorityData);
        var user = Assert.Single(config.Users);
        Assert.Equal(Context, user.Name);
        Assert.Equal("S0VZIERBVEE=", user.UserCredentials.ClientKeyData);
        var context = Assert.Single(config.Contexts);
        Assert.Equal(Context, context.Name);
        Assert.Equal(Context, context.ContextDetails.Cluster);
        Assert.Equal(Context, context.ContextDetails.User);
        Assert.DoesNotContain("default", text);
    }

    [Fact]
    public void Normalize_without_a_server_keeps_the_original_one()
    {
        var config = KubeconfigFile.Parse(KubeconfigFile.Normalize(Samples.K3sKubeconfig, "kind-demo"), "n");
        Assert.Equal("https://127.0.0.1:6443", config.Clusters.Single().ClusterEndpoint.Server);
    }

    [Fact]
    public void Normalize_refuses_a_kubeconfig_without_contexts()
    {
        var ex = Assert.Throws<KsctlException>(() => KubeconfigFile.Normalize("apiVersion: v1\nkind: Config\nclusters: []\n", "x"));
        Assert.Equal("KsctlKubeconfigInvalid", ex.ErrorId);
    }

    [Fact]
    public async Task Merge_keeps_other_entries_replaces_same_named_ones_and_sets_the_current_context()
    {
        var target = _dir.Combine("config");
        File.WriteAllText(target, OtherUsersConfig);

        var result = await KubeconfigFile.MergeAsync(Samples.K3sKubeconfig, Context, target, null, null, CancellationToken.None);

        Assert.Equal(target, result.Path);
        Assert.Equal(Context, result.ContextName);
        var merged = KubeconfigFile.Parse(File.ReadAllText(target), target);
        Assert.Equal(Context, merged.CurrentContext);
        Assert.Equal([Context, "work"], merged.Clusters.Select(c => c.Name).Order(StringComparer.Ordinal));
        Assert.Equal([Context, "work"], merged.Users.Select(c => c.Name).Order(StringComparer.Ordinal));
        Assert.Equal([Context, "work"], merged.Contexts.Select(c => c.Name).Order(StringComparer.Ordinal));
        Assert.Equal("https://work.example:443", merged.Clusters.Single(c => c.Name == "work").ClusterEndpoint.Server);
        Assert.Equal("work-token", merged.Users.Single(u => u.Name == "work").UserCredentials.Token);
        Assert.Equal("https://127.0.0.1:6443", merged.Clusters.Single(c => c.Name == Context).ClusterEndpoint.Server);
        var mine = merged.Users.Single(u => u.Name == Context).UserCredentials;
        Assert.Null(mine.Token);
        Assert.Equal("S0VZIERBVEE=", mine.ClientKeyData);
    }

    [Fact]
    public async Task Merge_creates_a_missing_file_and_its_folder_privately()
    {
        var target = _dir.Combine("new", ".kube", "config");

        await KubeconfigFile.MergeAsync(Samples.K3sKubeconfig, "kind-demo", target, null, null, CancellationToken.None);

        var config = KubeconfigFile.Parse(File.ReadAllText(target), target);
        Assert.Equal("kind-demo", config.CurrentContext);
        Assert.Equal("kind-demo", config.Contexts.Single().Name);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(target));
        Assert.Equal(["config"], Directory.GetFileSystemEntries(Path.GetDirectoryName(target)!).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Merge_into_an_empty_file_treats_it_as_an_empty_config()
    {
        var target = _dir.Combine("empty-config");
        File.WriteAllText(target, ""); // `touch ~/.kube/config` is common; kubectl reads it as empty

        await KubeconfigFile.MergeAsync(Samples.K3sKubeconfig, "kind-demo", target, null, null, CancellationToken.None);

        Assert.Equal("kind-demo", KubeconfigFile.Parse(File.ReadAllText(target), target).Contexts.Single().Name);
    }

    [Fact]
    public async Task Merge_without_a_target_writes_the_file_kubectl_writes_the_first_existing_path_of_KUBECONFIG()
    {
        var first = _dir.Combine("first.yaml");
        var second = _dir.Combine("second.yaml");
        var third = _dir.Combine("third.yaml");
        File.WriteAllText(second, OtherUsersConfig);
        using var env = new EnvironmentScope().Set("KUBECONFIG", string.Join(Path.PathSeparator, first, second, third));

        // client-go PathOptions.GetDefaultFilename: of several files, the first that exists (else the last).
        Assert.Equal(second, KubeconfigFile.DefaultUserPath());
        var result = await KubeconfigFile.MergeAsync(Samples.K3sKubeconfig, "kind-demo", null, null, null, CancellationToken.None);

        Assert.Equal(second, result.Path);
        var merged = KubeconfigFile.Parse(File.ReadAllText(second), second);
        Assert.Equal("kind-demo", merged.CurrentContext);
        Assert.Contains(merged.Contexts, c => c.Name == "work");
        Assert.False(File.Exists(first));
        Assert.False(File.Exists(third));

        File.Delete(second);
        Assert.Equal(third, KubeconfigFile.DefaultUserPath());
        using var single = new EnvironmentScope().Set("KUBECONFIG", first);
        Assert.Equal(first, KubeconfigFile.DefaultUserPath());
    }

    [Fact]
    public void WriteStandalone_refuses_an_existing_file_without_overwrite_and_replaces_it_with_only_this_cluster()
    {
        var path = _dir.Combine("standalone.yaml");
        File.WriteAllText(path, OtherUsersConfig);

        var refused = Assert.Throws<KsctlException>(() => KubeconfigFile.WriteStandalone(Samples.K3sKubeconfig, "kind-demo", path, overwrite: false));
        Assert.Equal("KsctlFileExists", refused.ErrorId);
        Assert.Equal(OtherUsersConfig, File.ReadAllText(path));

        var result = KubeconfigFile.WriteStandalone(Samples.K3sKubeconfig, "kind-demo", path, overwrite: true);

        Assert.Equal(path, result.Path);
        Assert.Equal("https://127.0.0.1:6443", result.Server);
        var config = KubeconfigFile.Parse(File.ReadAllText(path), path);
        Assert.Equal("kind-demo", Assert.Single(config.Clusters).Name);
        Assert.Equal("kind-demo", Assert.Single(config.Users).Name);
        Assert.Equal("kind-demo", Assert.Single(config.Contexts).Name);
        Assert.Equal("kind-demo", config.CurrentContext);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }
}
