using System.Diagnostics;
using System.Management.Automation;
using System.Runtime.Loader;
using Xunit;

namespace Ksctl.PowerShell.Tests;

[Collection(PowerShellCollection.Name)]
public sealed class ModuleTests
{
    internal static readonly string[] Cmdlets =
        ["New-KsctlCluster", "Get-KsctlCluster", "Remove-KsctlCluster", "Resize-KsctlCluster", "Test-KsctlCluster", "Update-KsctlCluster", "Switch-KsctlContext", "Get-KsctlKubeconfig", "Get-KsctlConfiguration", "Set-KsctlConfiguration",
         "Set-KsctlCredential", "Get-KsctlCredential", "Remove-KsctlCredential", "Export-KsctlState", "Import-KsctlState", "Get-KsctlPlan",
         "Backup-KsctlCluster", "Get-KsctlBackup", "Remove-KsctlBackup", "Restore-KsctlCluster", "Update-KsctlCertificate",
         "Add-KsctlAddon", "Get-KsctlAddon", "Remove-KsctlAddon", "Get-KsctlGcpToken"];

    [Fact]
    public void Layout_HasOnlyTheModuleAtRootAndEveryDependencyInDependencies()
    {
        var root = Directory.GetFiles(Paths.ModuleDir).Select(Path.GetFileName).ToHashSet();
        Assert.Contains("Ksctl.psd1", root);
        Assert.Contains("Ksctl.PowerShell.dll", root);
        Assert.Contains("Ksctl.Format.ps1xml", root);
        Assert.DoesNotContain("Ksctl.Core.dll", root);
        Assert.DoesNotContain("YamlDotNet.dll", root);
        var deps = Directory.GetFiles(Paths.DependencyDir).Select(Path.GetFileName).ToHashSet();
        foreach (var dll in new[] { "Ksctl.Core.dll", "YamlDotNet.dll", "KubernetesClient.dll", "Microsoft.Extensions.Logging.dll", "Renci.SshNet.dll" })
            Assert.Contains(dll, deps);
    }

    [Fact]
    public void Manifest_PassesTestModuleManifest()
    {
        using var session = new KsctlSession();
        var result = session.RunClean($"Test-ModuleManifest -Path '{Paths.Manifest}'");
        var info = Assert.IsType<PSModuleInfo>(Assert.Single(result.Output).BaseObject);
        Assert.Equal(new Version(0, 1, 0), info.Version);
        Assert.Equal(Cmdlets.Order(), info.ExportedCmdlets.Keys.Order());
        Assert.Empty(info.ExportedFunctions);
        Assert.Empty(info.ExportedAliases);
        Assert.Contains("Core", info.CompatiblePSEditions);
        var text = File.ReadAllText(Path.Combine(Paths.RepoRoot, "Ksctl.psd1"));
        Assert.DoesNotContain("'*'", text);
    }

    [Fact]
    public void Conventions_ApprovedVerbs_OutputType_ShouldProcess()
    {
        using var session = new KsctlSession();
        var commands = session.RunClean("Get-Command -Module Ksctl").Objects<CmdletInfo>().ToList();
        Assert.Equal(Cmdlets.Order(), commands.Select(c => c.Name).Order());
        var approved = typeof(VerbsCommon).Assembly.GetExportedTypes()
            .Where(t => t.Namespace == "System.Management.Automation" && t.Name.StartsWith("Verbs", StringComparison.Ordinal))
            .SelectMany(t => t.GetFields()).Select(f => (string)f.GetValue(null)!).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var c in commands)
        {
            Assert.True(approved.Contains(c.Verb), $"{c.Name}: '{c.Verb}' is not an approved verb");
            Assert.StartsWith("Ksctl", c.Noun);
            Assert.True(c.OutputType.Count > 0, $"{c.Name} has no [OutputType]");
            var stateChanging = c.Verb is "New" or "Remove" or "Resize" or "Switch" or "Set" or "Export" or "Import" or "Backup" or "Restore" or "Update" or "Add";
            Assert.Equal(stateChanging, c.Parameters.ContainsKey("WhatIf"));
            Assert.Equal(stateChanging, c.Parameters.ContainsKey("Confirm"));
        }
    }

    [Fact]
    public void Help_EveryCmdletAndParameterIsDescribed()
    {
        Assert.True(File.Exists(Path.Combine(Paths.ModuleDir, "Ksctl.PowerShell.dll-Help.xml")), "the build must lay out the MAML help");
        using var session = new KsctlSession();
        var missing = session.RunClean("""
            $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
            foreach ($c in Get-Command -Module Ksctl) {
                $h = Get-Help $c.Name -Full
                if (-not "$($h.Synopsis)".Trim() -or "$($h.Synopsis)".Trim().StartsWith($c.Name)) { "$($c.Name): no synopsis" }
                foreach ($p in $c.Parameters.Keys.Where({ $_ -notin $common })) {
                    $ph = @($h.parameters.parameter).Where({ $_.name -eq $p })
                    if (-not $ph -or -not (($ph[0].description.ForEach({ $_.Text }) -join '').Trim())) { "$($c.Name) -$($p): no description" }
                }
            }
            """).Output.Select(o => o.ToString()).ToList();
        Assert.True(missing.Count == 0, string.Join(Environment.NewLine, missing));
    }

    [Fact]
    public void Import_LoadsNoDependency_UntilACmdletRuns()
    {
        // A fresh process (the in-test engine has long loaded Core): import, list the commands and their syntax.
        var (exit, stdout, stderr) = RunHost(
            "Get-Command -Module Ksctl | Out-Null; Get-Command New-KsctlCluster -Syntax | Out-Null; " +
            "[AppDomain]::CurrentDomain.GetAssemblies().Where({ -not $_.IsDynamic }).ForEach({ 'LOADED ' + $_.GetName().Name + '|' + $_.Location })");
        Assert.True(exit == 0, stderr);
        var loaded = stdout.Split('\n').Where(l => l.StartsWith("LOADED ")).Select(l => l[7..].Trim()).ToList();
        Assert.Contains(loaded, l => l.StartsWith("Ksctl.PowerShell|"));
        Assert.DoesNotContain(loaded, l => l.StartsWith("Ksctl.Core|"));
        Assert.DoesNotContain(loaded, l => l.Contains(Paths.DependencyDir, StringComparison.Ordinal));
        Assert.DoesNotContain(loaded, l => l.StartsWith("YamlDotNet|") || l.StartsWith("KubernetesClient|"));
    }

    [Fact]
    public void FirstCmdlet_LoadsCoreAndItsDependenciesIntoThePrivateContext()
    {
        using var session = new KsctlSession();
        session.RunClean("Get-KsctlCluster");
        var core = AppDomain.CurrentDomain.GetAssemblies().Single(a => a.GetName().Name == "Ksctl.Core");
        var context = AssemblyLoadContext.GetLoadContext(core)!;
        Assert.Equal("KsctlDependencies", context.Name);
        Assert.StartsWith(Paths.DependencyDir, core.Location);
        // Nothing from Dependencies/ is in the default context.
        Assert.DoesNotContain(AssemblyLoadContext.Default.Assemblies, a => !a.IsDynamic && a.Location.StartsWith(Paths.DependencyDir, StringComparison.Ordinal));
        // Core types stay invisible to script; the cmdlet layer's types resolve.
        var types = session.RunClean("'Ksctl.Core.Model.ClusterState' -as [type]; [Ksctl.PowerShell.Models.KsctlCluster].FullName").Output;
        Assert.Equal("Ksctl.PowerShell.Models.KsctlCluster", Assert.Single(types, t => t is not null).ToString());
    }

    [Fact]
    public void Host_PrintsErrorsLikePwsh_AndExitsNonZero()
    {
        using var session = new KsctlSession();
        var (exit, _, stderr) = RunHost("Get-KsctlCluster -Name missing");
        Assert.Equal(1, exit);
        Assert.Contains("Get-KsctlCluster: Cluster not found", stderr);
        Assert.Contains("KsctlClusterNotFound", stderr);
        Assert.Contains("ObjectNotFound", stderr);

        var (ok, stdout, err) = RunHost("Get-KsctlConfiguration");
        Assert.True(ok == 0, err);
        Assert.Contains(session.Home, stdout);
    }

    [Fact]
    public void Host_RendersThroughTheFormatViews()
    {
        using var session = new KsctlSession();
        var (exit, stdout, stderr) = RunHost("New-KsctlCluster demo -Provider Local; Get-KsctlCluster");
        Assert.True(exit == 0, stderr);
        var text = RecordingHost.VtEscape().Replace(stdout, "");
        Assert.Matches(@"Name\s+Provider\s+Type\s+Region\s+Status\s+Nodes\s+Version", text);
        Assert.Matches(@"demo\s+Local\s+Managed\s+LOCAL\s+Running\s+2\s+1\.33\.1", text);
    }

    [Fact]
    public void Host_RunsAScriptFile_WithArguments_AndReturnsItsExitCode()
    {
        using var session = new KsctlSession();
        var script = Path.Combine(session.Root, "script.ps1");
        File.WriteAllText(script, "param($Name) \"hello $Name\"; (Get-KsctlConfiguration).StateStore; exit 3");
        var (exit, stdout, stderr) = RunHost("-File", script, "world");
        Assert.True(exit == 3, stderr);
        Assert.Contains("hello world", stdout);
        Assert.Contains("File", stdout);
    }

    internal static (int Exit, string Stdout, string Stderr) RunHost(params string[] arguments)
    {
        Assert.True(File.Exists(Paths.HostDll), $"ksctl-host not built at {Paths.HostDll}");
        var dotnet = Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";
        var start = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Paths.HostDll);
        start.ArgumentList.Add("--module");
        start.ArgumentList.Add(Paths.Manifest);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        start.Environment["NO_COLOR"] = "1";
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(60_000), "ksctl-host did not finish within 60 s");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
