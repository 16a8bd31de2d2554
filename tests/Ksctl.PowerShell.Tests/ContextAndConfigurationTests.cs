using System.Management.Automation;
using Xunit;

namespace Ksctl.PowerShell.Tests;

[Collection(PowerShellCollection.Name)]
public sealed class ContextAndConfigurationTests
{
    private const string OtherKubeconfig = """
        apiVersion: v1
        kind: Config
        current-context: other
        clusters:
        - cluster:
            server: https://other.example:6443
          name: other
        contexts:
        - context:
            cluster: other
            user: other
          name: other
        users:
        - name: other
          user:
            token: abc
        """;

    [Fact]
    public void Switch_MergesIntoKubeconfig_KeepingOtherEntries()
    {
        using var session = new KsctlSession();
        Directory.CreateDirectory(Path.GetDirectoryName(session.Kubeconfig)!);
        File.WriteAllText(session.Kubeconfig, OtherKubeconfig);
        session.RunClean("New-KsctlCluster demo -Provider Local");

        var result = session.RunClean("Get-KsctlCluster demo | Switch-KsctlContext -PassThru");
        dynamic context = result.Single();
        Assert.Equal("kind-demo", (string)context.ContextName);
        Assert.Equal(session.Kubeconfig, (string)context.Path);
        Assert.StartsWith("https://127.0.0.1:", (string)context.Server);

        var text = File.ReadAllText(session.Kubeconfig);
        Assert.Contains("current-context: kind-demo", text);
        Assert.Contains("name: other", text);
        Assert.Contains("https://other.example:6443", text);
        Assert.Contains("name: kind-demo", text);
    }

    [Fact]
    public void Switch_Path_WritesAStandaloneFile_AndWhatIfWritesNothing()
    {
        using var session = new KsctlSession();
        session.RunClean("New-KsctlCluster demo -Provider Local");
        var path = Path.Combine(session.Root, "demo.kubeconfig");

        session.RunClean($"Switch-KsctlContext demo -Path '{path}' -WhatIf");
        Assert.False(File.Exists(path));

        var quiet = session.RunClean($"Switch-KsctlContext demo -Path '{path}'");
        Assert.Empty(quiet.Output);
        var text = File.ReadAllText(path);
        Assert.Contains("current-context: kind-demo", text);
        Assert.DoesNotContain("other", text);
        Assert.False(File.Exists(session.Kubeconfig), "-Path must not touch the user's kubeconfig");

        var missing = session.Run("Switch-KsctlContext nope");
        Assert.Equal("KsctlClusterNotFound", Assert.Single(missing.Errors).FullyQualifiedErrorId.Split(',')[0]);
    }

    [Fact]
    public void Configuration_GetAndSet()
    {
        using var session = new KsctlSession();
        dynamic config = session.RunClean("Get-KsctlConfiguration").Single();
        Assert.Equal(session.Home, (string)config.Home);
        Assert.Equal("File", (string)config.StateStore);
        Assert.Equal(session.StatePath, (string)config.StatePath);
        Assert.Equal(Path.Combine(session.Home, "logs"), (string)config.LogPath);

        var elsewhere = Path.Combine(session.Root, "elsewhere");
        session.RunClean($"Set-KsctlConfiguration -StatePath '{elsewhere}' -WhatIf");
        Assert.False(File.Exists(Path.Combine(session.Home, "config.json")));

        dynamic updated = session.RunClean($"Set-KsctlConfiguration -StateStore File -StatePath '{elsewhere}' -PassThru").Single();
        Assert.Equal(elsewhere, (string)updated.StatePath);
        Assert.Equal(elsewhere, (string)((dynamic)session.RunClean("Get-KsctlConfiguration").Single()).StatePath);

        session.RunClean("New-KsctlCluster demo -Provider Local");
        Assert.True(Directory.Exists(Path.Combine(elsewhere, "local", "managed", "demo LOCAL")));

        var file = Path.Combine(session.Root, "a-file");
        File.WriteAllText(file, "");
        var bad = session.Run($"Set-KsctlConfiguration -StatePath '{file}'");
        var error = Assert.Single(bad.Errors);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
        Assert.Contains("-StatePath", error.Exception.Message);
    }

    [Fact]
    public void Configuration_Invalid_IsTerminatingConfigurationError()
    {
        using var session = new KsctlSession();
        Directory.CreateDirectory(session.Home);
        File.WriteAllText(Path.Combine(session.Home, "config.json"), "{ not json");
        var result = session.Run("Get-KsctlCluster; 'after'");
        var error = Assert.Single(result.Errors);
        Assert.Equal("KsctlConfigurationInvalid", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(ErrorCategory.InvalidData, error.CategoryInfo.Category);
    }
}
