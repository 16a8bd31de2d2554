using System.Diagnostics;
using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Xunit;

namespace Ksctl.PowerShell.Tests;

/// <summary>
/// Issue #13 item 16: from the one version in Directory.Build.props, `dotnet pack` makes (a) the PowerShell Gallery
/// package Ksctl.&lt;version&gt;.nupkg, which unpacks into an importable module, and (b) the .NET tool `ksctl`, which
/// installs from the folder it was packed into and runs a command. The same commands as build.ps1 and the README,
/// with --no-build (this project's build already built both projects) and --tool-path into a temp folder, so
/// nothing global changes.
/// </summary>
[Collection(PowerShellCollection.Name)] // two nested `dotnet` builds: not beside the engine tests, whose timing they would disturb
public sealed class PackageTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ksctl-packages-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static string Version { get; } =
        Regex.Match(File.ReadAllText(Path.Combine(Paths.RepoRoot, "Directory.Build.props")), "<Version>([^<]+)</Version>").Groups[1].Value;

    /// <summary>The configuration this test project was built with: --no-build packs what that build made.</summary>
    private static string Configuration =>
        typeof(Paths).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "KsctlConfiguration")?.Value ?? "Debug";

    [Fact]
    public void Gallery_package_has_the_module_at_its_root_the_gallery_fields_and_imports_in_the_engine()
    {
        var output = Path.Combine(_root, "gallery");
        Dotnet("pack", Path.Combine(Paths.RepoRoot, "src", "Ksctl.Gallery"), "-c", Configuration, "--no-build", "-o", output);

        var package = Path.Combine(output, $"Ksctl.{Version}.nupkg");
        Assert.True(File.Exists(package), $"no {package}: {string.Join(", ", Directory.GetFiles(output).Select(Path.GetFileName))}");
        using (var zip = ZipFile.OpenRead(package))
        {
            var entries = zip.Entries.Select(e => e.FullName).ToHashSet();
            foreach (var expected in new[] { "Ksctl.psd1", "Ksctl.PowerShell.dll", "Ksctl.Format.ps1xml", "Ksctl.PowerShell.dll-Help.xml",
                         "en-US/about_Ksctl.help.txt", "Dependencies/Ksctl.Core.dll", "Dependencies/YamlDotNet.dll", "LICENSE" })
                Assert.Contains(expected, entries);
            Assert.DoesNotContain(entries, e => e.StartsWith("Dependencies/Dependencies/", StringComparison.Ordinal) || e.StartsWith("lib/", StringComparison.Ordinal));

            XNamespace ns = "http://schemas.microsoft.com/packaging/2011/08/nuspec.xsd";
            XElement metadata;
            using (var nuspec = zip.GetEntry("Ksctl.nuspec")!.Open()) metadata = XDocument.Load(nuspec).Root!.Element(ns + "metadata")!;
            string? Field(string name) => metadata.Element(ns + name)?.Value;
            Assert.Equal("Ksctl", Field("id"));
            Assert.Equal(Version, Field("version"));
            Assert.Equal("Ksctl contributors", Field("authors"));
            Assert.Equal("Apache-2.0", Field("license"));
            Assert.Null(Field("projectUrl")); // no link that pretends to be this project's home
            string manifest;
            using (var reader = new StreamReader(zip.GetEntry("Ksctl.psd1")!.Open())) manifest = reader.ReadToEnd();
            Assert.Equal(Regex.Match(manifest, @"(?m)^\s*Description\s*=\s*'([^']*)'").Groups[1].Value, Field("description"));
            Assert.Matches($@"(?m)^\s*ModuleVersion\s*=\s*'{Regex.Escape(Version)}'", manifest);
            Assert.DoesNotMatch(@"(?m)^\s*ProjectUri\s*=", manifest);
            Assert.DoesNotMatch(@"(?m)^\s*LicenseUri\s*=", manifest);
            var notes = ChangelogSection(Version);
            Assert.Equal(notes, Field("releaseNotes")!.Replace("\r\n", "\n"));
            Assert.Contains("ReleaseNotes = '" + notes.Replace("'", "''") + "'", manifest.Replace("\r\n", "\n"));

            var tags = Field("tags")!.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Contains("PSModule", tags);
            Assert.Contains("PSIncludes_Cmdlet", tags);
            foreach (var cmdlet in ModuleTests.Cmdlets)
            {
                Assert.Contains($"PSCmdlet_{cmdlet}", tags);
                Assert.Contains($"PSCommand_{cmdlet}", tags);
            }
            // Only registered providers: Local (kind), BareMetal, Civo, Azure, AWS (self-managed on EC2).
            Assert.Contains("AWS", tags);
            Assert.Contains("Civo", tags);
            Assert.Contains("Azure", tags);

            // Unpack as Install-PSResource lays a module out: <name>/<version>/ with the package's own files left out.
            var moduleDir = Path.Combine(_root, "modules", "Ksctl", Version);
            foreach (var entry in zip.Entries.Where(e => !e.FullName.EndsWith('/') && e.FullName != "Ksctl.nuspec" && e.FullName != "[Content_Types].xml"
                         && !e.FullName.StartsWith("_rels/", StringComparison.Ordinal) && !e.FullName.StartsWith("package/", StringComparison.Ordinal)))
            {
                var target = Path.Combine(moduleDir, entry.FullName);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                entry.ExtractToFile(target);
            }
        }

        // A fresh engine imports the unpacked module (not the build's out/Ksctl) and runs its cmdlets and help.
        var unpacked = Path.Combine(_root, "modules", "Ksctl", Version);
        var (exit, stdout, stderr) = Run(DotnetPath(), [Paths.HostDll, "--module", Path.Combine(unpacked, "Ksctl.psd1"),
            "$m = Get-Module Ksctl; 'BASE=' + $m.ModuleBase; 'VERSION=' + $m.Version; 'COMMANDS=' + @(Get-Command -Module Ksctl).Count; " +
            "'HELP=' + (Get-Help Get-KsctlKubeconfig).Synopsis; 'HOME=' + (Get-KsctlConfiguration).Home; 'VALID=' + (Test-ModuleManifest ($m.ModuleBase + '/Ksctl.psd1')).Name"],
            new() { ["KSCTL_HOME"] = Path.Combine(_root, "home") });
        Assert.True(exit == 0, stderr + stdout);
        Assert.Contains($"BASE={unpacked}", stdout);
        Assert.Contains($"VERSION={Version}", stdout);
        Assert.Contains($"COMMANDS={ModuleTests.Cmdlets.Length}", stdout);
        Assert.Contains("HELP=Returns a cluster's kubeconfig", stdout);
        Assert.Contains($"HOME={Path.Combine(_root, "home")}", stdout);
        Assert.Contains("VALID=Ksctl", stdout);
    }

    [Fact]
    public void Tool_installs_from_the_folder_it_was_packed_into_and_runs_a_command_with_the_module_it_carries()
    {
        var output = Path.Combine(_root, "tool");
        Dotnet("pack", Path.Combine(Paths.RepoRoot, "src", "Ksctl.Host"), "-c", Configuration, "--no-build", "-o", output);
        Assert.True(File.Exists(Path.Combine(output, $"ksctl.{Version}.nupkg")));
        // Only the folder just built as a source: a package called ksctl elsewhere must not be the one installed.
        var config = Path.Combine(_root, "nuget.config");
        File.WriteAllText(config, """<?xml version="1.0" encoding="utf-8"?><configuration><packageSources><clear /></packageSources></configuration>""");
        var tools = Path.Combine(_root, "tools");

        Dotnet("tool", "install", "ksctl", "--tool-path", tools, "--add-source", output, "--configfile", config, "--version", Version);

        var ksctl = Path.Combine(tools, OperatingSystem.IsWindows() ? "ksctl.exe" : "ksctl");
        Assert.True(File.Exists(ksctl), $"no {ksctl}");
        var home = Path.Combine(_root, "home");
        var (exit, stdout, stderr) = Run(ksctl, ["'BASE=' + (Get-Module Ksctl).ModuleBase; 'HOME=' + (Get-KsctlConfiguration).Home; New-KsctlCluster demo -Provider Local -WhatIf"],
            new() { ["KSCTL_HOME"] = home });
        Assert.True(exit == 0, stderr + stdout);
        Assert.Contains($"BASE={tools}", stdout); // the module inside the installed tool, not the checkout's out/Ksctl
        Assert.Contains($"HOME={home}", stdout);
        Assert.Contains("What if: Creating cluster demo (Local/Managed, LOCAL).", stdout);
        Assert.False(Directory.Exists(Path.Combine(home, "state")), "-WhatIf wrote state");

        // An EKS kubeconfig's exec entry where the AWS CLI is absent: the installed tool prints an ExecCredential whose
        // k8s-aws-v1 token is signed with the environment's AWS keys (Ksctl.Core loaded from the module it carries).
        var token = Run(ksctl, ["token", "--cluster-name", "demo", "--region", "eu-west-1"],
            new() { ["AWS_ACCESS_KEY_ID"] = "AKIAKSCTLPACKAGETEST", ["AWS_SECRET_ACCESS_KEY"] = "package-test-secret", ["AWS_SESSION_TOKEN"] = null, ["AWS_PROFILE"] = null });
        Assert.True(token.Exit == 0, token.Stderr + token.Stdout);
        Assert.Contains("\"kind\":\"ExecCredential\"", token.Stdout);
        Assert.Contains("\"token\":\"k8s-aws-v1.", token.Stdout);
        Assert.DoesNotContain("package-test-secret", token.Stdout);
        Assert.Equal(2, Run(ksctl, ["token", "--region", "eu-west-1"], new()).Exit); // no --cluster-name
    }

    private static string ChangelogSection(string version) =>
        Regex.Match(File.ReadAllText(Path.Combine(Paths.RepoRoot, "CHANGELOG.md")).Replace("\r\n", "\n"),
            @"(?ms)^## \[" + Regex.Escape(version) + @"\][^\n]*\n(.*?)(?=^## |\z)").Groups[1].Value.Trim();

    private static string DotnetPath() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
        : Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";

    private void Dotnet(params string[] arguments)
    {
        // No build servers: a nested MSBuild must not outlive the test or share nodes with the outer `dotnet test`.
        var (exit, stdout, stderr) = Run(DotnetPath(), [.. arguments, .. arguments[0] == "pack" ? new[] { "--disable-build-servers", "-nologo" } : []],
            new() { ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["DOTNET_NOLOGO"] = "1", ["MSBUILDDISABLENODEREUSE"] = "1", ["NUGET_PACKAGES"] = Environment.GetEnvironmentVariable("NUGET_PACKAGES") });
        Assert.True(exit == 0, $"dotnet {string.Join(' ', arguments)} failed ({exit}):\n{stdout}\n{stderr}");
    }

    private static (int Exit, string Stdout, string Stderr) Run(string file, string[] arguments, Dictionary<string, string?> environment)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        start.Environment["NO_COLOR"] = "1";
        start.Environment["POWERSHELL_TELEMETRY_OPTOUT"] = "1";
        // Other test classes set KSCTL_* process-wide while they run: the child gets only the ones given here.
        foreach (var k in start.Environment.Keys.Where(k => k.StartsWith("KSCTL_", StringComparison.Ordinal)).ToList()) start.Environment.Remove(k);
        foreach (var (k, v) in environment) start.Environment[k] = v;
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
