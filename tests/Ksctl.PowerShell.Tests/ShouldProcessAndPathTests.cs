using System.Diagnostics;
using System.Management.Automation;
using System.Text.Json;
using Xunit;

namespace Ksctl.PowerShell.Tests;

/// <summary>
/// Issue #13 items 1-3 and 6: -Force never bypasses -WhatIf/$WhatIfPreference, -BreakStaleLock is the only lock
/// breaker, Set-KsctlConfiguration -WhatIf writes only the what-if line, -Provider offers exactly the registered
/// providers, and the path parameters behave like PowerShell's own (Get-ChildItem binding, -NoClobber).
/// </summary>
[Collection(PowerShellCollection.Name)]
public sealed class ShouldProcessAndPathTests
{
    private static bool Exists(KsctlSession session, string name) =>
        session.RunClean($"Get-KsctlCluster -Name '{name}*'").Output.Count == 1;

    [Fact]
    public void Force_DoesNotBypass_WhatIfPreference_NorTheWhatIfOfAnAdvancedFunction()
    {
        using var session = new KsctlSession();
        session.RunClean("New-KsctlCluster demo -Provider Local");

        var preference = session.RunClean("& { $WhatIfPreference = $true; Remove-KsctlCluster demo -Force }");
        Assert.Contains("What if: Deleting cluster demo (Local/Managed, LOCAL).", preference.HostText);
        Assert.True(Exists(session, "demo"), "$WhatIfPreference = $true; Remove-KsctlCluster -Force deleted the cluster");

        var function = session.RunClean("""
            function Invoke-Cleanup { [CmdletBinding(SupportsShouldProcess)] param() Remove-KsctlCluster demo -Force }
            Invoke-Cleanup -WhatIf
            """);
        Assert.Contains("What if: Deleting cluster demo", function.HostText);
        Assert.True(Exists(session, "demo"), "an advanced function run with -WhatIf deleted the cluster through -Force");

        // -WhatIf:$false beats the preference, and -Force then needs no prompt (a non-interactive host would fail to ask).
        session.RunClean("& { $WhatIfPreference = $true; Remove-KsctlCluster demo -Force -WhatIf:$false }");
        Assert.False(Exists(session, "demo"));
    }

    [Fact]
    public void RemoveCredential_Force_HonoursWhatIfPreference()
    {
        using var session = new KsctlSession();
        session.RunClean("Set-KsctlCredential -Provider Civo -Credential ([pscredential]::new('ci', [Net.NetworkCredential]::new('', 'civo-token').SecurePassword))");
        var whatIf = session.RunClean("& { $WhatIfPreference = $true; Remove-KsctlCredential Civo -Force }");
        Assert.Contains("What if:", whatIf.HostText);
        Assert.Single(session.RunClean("Get-KsctlCredential").Output);

        session.RunClean("Remove-KsctlCredential Civo -Force");
        Assert.Empty(session.RunClean("Get-KsctlCredential").Output);
    }

    [Fact]
    public void Remove_Confirmation_ListsTheExactResourcesOfTheDeletePlan()
    {
        using var session = new KsctlSession();
        session.RunClean("New-KsctlCluster demo -Provider Local");
        var resources = session.RunClean("(Get-KsctlPlan -Operation Remove -Name demo).ForEach({ $_.Resources })").Output.Select(o => o.ToString()).ToList();
        Assert.NotEmpty(resources);
        var text = session.RunClean("Remove-KsctlCluster demo -WhatIf").HostText;
        Assert.Contains("Resources deleted:", text);
        foreach (var r in resources) Assert.Contains($"  - {r}", text);
    }

    [Fact]
    public void Force_NoLongerBreaksAStaleLock_BreakStaleLockDoes()
    {
        using var session = new KsctlSession();
        session.RunClean("New-KsctlCluster demo -Provider Local");
        var lockPath = Path.Combine(Path.GetDirectoryName(Assert.Single(session.StateFiles()))!, "lock");
        using (var gone = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!)
        {
            gone.WaitForExit();
            File.WriteAllText(lockPath, JsonSerializer.Serialize(new
            {
                Token = "stale", Pid = gone.Id, Host = Environment.MachineName, Operation = "delete", Since = DateTimeOffset.UtcNow.AddMinutes(-5), ProcessStart = (DateTimeOffset?)null,
            }));
        }

        var forced = session.Run("Remove-KsctlCluster demo -Force");
        Assert.Equal("KsctlClusterLocked", Assert.Single(forced.Errors).FullyQualifiedErrorId.Split(',')[0]);
        Assert.True(Exists(session, "demo"));

        session.RunClean("Remove-KsctlCluster demo -Force -BreakStaleLock");
        Assert.False(Exists(session, "demo"));
        Assert.Empty(session.StateFiles());
    }

    [Fact]
    public void SetConfiguration_WhatIf_WritesOnlyTheWhatIfLine()
    {
        using var session = new KsctlSession();
        Environment.SetEnvironmentVariable("KSCTL_STATE_CONTAINER", "from-env"); // an override: the real run warns about it
        var path = Path.Combine(session.Root, "other-state");
        var result = session.RunClean($"Set-KsctlConfiguration -StatePath '{path}' -PassThru -WhatIf");
        Assert.Contains("What if:", result.HostText);
        Assert.Empty(result.Output);
        Assert.Empty(result.Warnings);
        Assert.False(File.Exists(Path.Combine(session.Home, "config.json")));

        var real = session.RunClean($"Set-KsctlConfiguration -StatePath '{path}' -PassThru");
        Assert.Equal(path, (string)((dynamic)real.Single()).StatePath);
        Assert.NotEmpty(real.Warnings);
    }

    [Fact]
    public void Provider_OffersExactlyTheRegisteredProviders()
    {
        using var session = new KsctlSession();
        var registered = new[] { "Aws", "Azure", "BareMetal", "Civo", "Gcp", "Local" };
        foreach (var input in new[] { "New-KsctlCluster demo -Provider ", "Get-KsctlCluster -Provider ", "Remove-KsctlCluster demo -Provider ", "Get-KsctlPlan demo -Provider " })
            Assert.Equal(registered, CompletionTests.Complete(session, input).Order());
        Assert.Equal(["Aws", "Azure", "Civo", "Gcp"], CompletionTests.Complete(session, "Set-KsctlCredential -Provider ").Order());

        var unknown = session.Run("New-KsctlCluster demo -Provider Nimbus -WhatIf");
        var error = Assert.Single(unknown.Errors);
        Assert.Contains("ParameterArgumentValidationError", error.FullyQualifiedErrorId);
        Assert.Contains("Local, Azure, Civo, Aws, BareMetal, Gcp", error.Exception.Message);
        Assert.Contains("ParameterArgumentValidationError", Assert.Single(session.Run("Get-KsctlCredential -Provider BareMetal").Errors).FullyQualifiedErrorId);
        // Case-insensitive, like ValidateSet.
        Assert.Empty(session.RunClean("Get-KsctlCluster -Provider civo").Output);

        var manifest = File.ReadAllText(Path.Combine(Paths.RepoRoot, "Ksctl.psd1"));
        Assert.Contains("'AWS'", manifest);
        var about = File.ReadAllText(Path.Combine(Paths.RepoRoot, "module", "en-US", "about_Ksctl.help.txt"));
        Assert.Contains("Local (Kind), Azure, Civo, Aws and BareMetal", about);
    }

    [Fact]
    public void Import_BindsFromGetChildItemOutput_FileInfo_AndWildcards()
    {
        using var session = new KsctlSession();
        session.RunClean("New-KsctlCluster one -Provider Local; New-KsctlCluster two -Provider Local");
        var dir = Path.Combine(session.Root, "backups");
        Directory.CreateDirectory(dir);
        var key = Path.Combine(session.Root, "export.key");
        session.RunClean($"Export-KsctlState -Name one -Path '{dir}/one.json' -KeyPath '{key}' -WarningAction SilentlyContinue; Export-KsctlState -Name two -Path '{dir}/two.json' -KeyPath '{key}'");
        session.RunClean("Get-KsctlCluster | Remove-KsctlCluster -Force");

        // What Get-ChildItem writes: objects with a provider-qualified PSPath (and FileInfo's FullName).
        var imported = session.RunClean($"[pscustomobject]@{{ PSPath = 'Microsoft.PowerShell.Core\\FileSystem::{dir}/one.json' }} | Import-KsctlState -KeyPath '{key}' -PassThru");
        Assert.Equal("one", (string)((dynamic)imported.Single()).Name);
        session.RunClean("Remove-KsctlCluster one -Force");

        var fromFileInfo = session.RunClean($"[IO.DirectoryInfo]::new('{dir}').GetFiles('*.json') | Import-KsctlState -KeyPath '{key}' -PassThru");
        Assert.Equal(["one", "two"], fromFileInfo.Output.Select(o => (string)((dynamic)o).Name).Order());
        session.RunClean("Get-KsctlCluster | Remove-KsctlCluster -Force");

        // -Path expands wildcards relative to the PowerShell location; a pattern matching nothing is no error.
        var wildcard = session.RunClean($"$ExecutionContext.SessionState.Path.SetLocation('{dir}') | Out-Null; Import-KsctlState -Path ./*.json -KeyPath '{key}' -PassThru; Import-KsctlState -Path ./*.none -KeyPath '{key}'");
        Assert.Equal(2, wildcard.Output.Count);
        var missing = session.Run($"Import-KsctlState -LiteralPath '{dir}/absent.json' -KeyPath '{key}'");
        Assert.Equal("KsctlImportFileNotFound", Assert.Single(missing.Errors).FullyQualifiedErrorId.Split(',')[0]);
    }

    [Fact]
    public void Export_RefusesToOverwrite_WithoutForce()
    {
        using var session = new KsctlSession();
        session.RunClean("New-KsctlCluster one -Provider Local");
        var file = Path.Combine(session.Root, "backup.json");
        File.WriteAllText(file, "the only backup");
        var key = Path.Combine(session.Root, "export.key");

        var refused = session.Run($"Export-KsctlState -Path '{file}' -KeyPath '{key}'");
        var error = Assert.Single(refused.Errors);
        Assert.Equal("KsctlExportFileExists", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(ErrorCategory.ResourceExists, error.CategoryInfo.Category);
        Assert.Equal("the only backup", File.ReadAllText(file));
        Assert.False(File.Exists(key), "nothing, not even the key file, is written when the export is refused");

        session.RunClean($"Export-KsctlState -Path '{file}' -KeyPath '{key}' -Force -WarningAction SilentlyContinue");
        Assert.Contains("\"clusters\"", File.ReadAllText(file));
    }

    [Fact]
    public void ArtifactSource_RelativeFolder_ResolvesAgainstThePowerShellLocation()
    {
        using var session = new KsctlSession();
        var location = Path.Combine(session.Root, "work");
        Directory.CreateDirectory(Path.Combine(location, "artifacts"));
        File.WriteAllText(Path.Combine(location, "id_key"), "not read by a plan");
        Assert.False(Directory.Exists(Path.Combine(Environment.CurrentDirectory, "artifacts")), "the process directory must not have the folder");
        var machines = string.Join(",", new[] { ("1", "ControlPlane"), ("2", "ControlPlane"), ("3", "ControlPlane"), ("4", "Datastore"), ("5", "Datastore"), ("6", "Datastore"), ("7", "LoadBalancer") }
            .Select(m => $"@{{ Address = '10.0.0.{m.Item1}'; Role = '{m.Item2}'; KeyPath = './id_key' }}"));
        var plan = $"Get-KsctlPlan demo -Provider BareMetal -Type SelfManaged -Distribution K3s -WorkerCount 0 -TrustOnFirstUse -Machine {machines}";
        var found = session.RunClean($"$ExecutionContext.SessionState.Path.SetLocation('{location}') | Out-Null; {plan} -ArtifactSource ./artifacts");
        Assert.NotEmpty(found.Output);

        var missing = session.Run($"{plan} -ArtifactSource ./absent");
        var error = Assert.Single(missing.Errors);
        Assert.Equal("KsctlInvalidSpec", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains($"'{Path.Combine(location, "absent")}'", error.Exception.Message);
    }
}
