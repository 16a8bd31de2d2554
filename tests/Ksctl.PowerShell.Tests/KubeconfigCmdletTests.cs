using Xunit;

namespace Ksctl.PowerShell.Tests;

/// <summary>Issue #13 items 7, 8 and 10 through the hosted engine: Get-KsctlKubeconfig, Switch-KsctlContext -Path/-ContextName, Remove-KsctlCluster -KeepContext.</summary>
[Collection(PowerShellCollection.Name)]
public sealed class KubeconfigCmdletTests
{
    private const string OtherKubeconfig = """
        apiVersion: v1
        kind: Config
        current-context: other
        clusters:
        - name: other
          cluster:
            server: https://other.example:6443
            proxy-url: http://proxy.example:3128
        contexts:
        - name: other
          context: {cluster: other, user: other}
        users:
        - name: other
          user:
            exec:
              apiVersion: client.authentication.k8s.io/v1
              command: kubelogin
              interactiveMode: Never
        """;

    [Fact]
    public void Get_KsctlKubeconfig_returns_the_text_by_name_and_from_the_pipeline()
    {
        using var session = new KsctlSession();
        session.RunClean("New-KsctlCluster demo -Provider Local");

        var byName = (string)Assert.Single(session.RunClean("Get-KsctlKubeconfig demo").Output).BaseObject;
        var piped = (string)Assert.Single(session.RunClean("Get-KsctlCluster demo | Get-KsctlKubeconfig -ContextName short").Output).BaseObject;

        Assert.Contains("current-context: kind-demo", byName);
        Assert.Contains("server: https://127.0.0.1:", byName);
        Assert.Contains("client-key-data:", byName);
        Assert.Contains("current-context: short", piped);
        Assert.DoesNotContain("kind-demo", piped);
        Assert.False(File.Exists(session.Kubeconfig), "Get-KsctlKubeconfig must not touch the user's kubeconfig");

        var bad = session.Run("Get-KsctlKubeconfig demo -ContextName 'has space'");
        Assert.Equal("KsctlInvalidSpec", Assert.Single(bad.Errors).FullyQualifiedErrorId.Split(',')[0]);
    }

    [Fact]
    public void Get_KsctlKubeconfig_Path_writes_a_private_standalone_file_and_refuses_to_overwrite_without_Force()
    {
        using var session = new KsctlSession();
        session.RunClean("New-KsctlCluster demo -Provider Local");
        var path = Path.Combine(session.Root, "demo.kubeconfig");

        dynamic written = session.RunClean($"Get-KsctlKubeconfig demo -Path '{path}'").Output.Single();
        Assert.Equal(path, (string)written.Path);
        Assert.Equal("kind-demo", (string)written.ContextName);
        Assert.Contains("current-context: kind-demo", File.ReadAllText(path));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));

        File.WriteAllText(path, OtherKubeconfig);
        var refused = session.Run($"Get-KsctlKubeconfig demo -Path '{path}'");
        Assert.Equal("KsctlFileExists", Assert.Single(refused.Errors).FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(OtherKubeconfig, File.ReadAllText(path));

        session.RunClean($"Get-KsctlKubeconfig demo -Path '{path}' -Force");
        var text = File.ReadAllText(path);
        Assert.Contains("current-context: kind-demo", text);
        Assert.DoesNotContain("other", text);
    }

    [Fact]
    public void Switch_Path_merges_into_that_file_and_ContextName_renames_the_context_it_adds()
    {
        using var session = new KsctlSession();
        session.RunClean("New-KsctlCluster demo -Provider Local");
        var path = Path.Combine(session.Root, "team.kubeconfig");
        File.WriteAllText(path, OtherKubeconfig);

        dynamic context = session.RunClean($"Switch-KsctlContext demo -Path '{path}' -ContextName dev -PassThru").Output.Single();

        Assert.Equal("dev", (string)context.ContextName);
        Assert.Equal(path, (string)context.Path);
        var text = File.ReadAllText(path);
        Assert.Contains("current-context: dev", text);
        Assert.Contains("- name: other", text);
        Assert.Contains("- name: dev", text);
        Assert.Contains("interactiveMode: Never", text);
        Assert.Contains("proxy-url: http://proxy.example:3128", text);
        Assert.DoesNotContain("kind-demo", text);
        Assert.False(File.Exists(session.Kubeconfig), "-Path must not touch the user's kubeconfig");
    }

    [Fact]
    public void Remove_takes_out_the_merged_entries_unless_KeepContext()
    {
        using var session = new KsctlSession();
        Directory.CreateDirectory(Path.GetDirectoryName(session.Kubeconfig)!);
        File.WriteAllText(session.Kubeconfig, OtherKubeconfig);
        session.RunClean("New-KsctlCluster demo -Provider Local; New-KsctlCluster keep -Provider Local");
        session.RunClean("Get-KsctlCluster | Switch-KsctlContext");
        Assert.Contains("- name: kind-demo", File.ReadAllText(session.Kubeconfig));
        Assert.Contains("- name: kind-keep", File.ReadAllText(session.Kubeconfig));

        session.RunClean("Remove-KsctlCluster demo -Force");
        session.RunClean("Remove-KsctlCluster keep -Force -KeepContext");

        var text = File.ReadAllText(session.Kubeconfig);
        Assert.DoesNotContain("kind-demo", text);
        Assert.Contains("- name: kind-keep", text);
        Assert.Contains("current-context: kind-keep", text);
        Assert.Contains("- name: other", text);
        Assert.Contains("interactiveMode: Never", text);
    }
}
