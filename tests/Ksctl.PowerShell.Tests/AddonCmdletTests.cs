using System.Management.Automation;
using Xunit;

namespace Ksctl.PowerShell.Tests;

/// <summary>
/// Add-/Get-/Remove-KsctlAddon in the real engine (issue #15, add-ons): the catalogue, -WhatIf that sends nothing,
/// KsctlInvalidSpec naming -Addon, KsctlAddonNotFound, binding validation, Tab completion, and a failure to reach
/// the cluster's API that records nothing. The apply itself is tested against the fake API in Ksctl.Addons.Tests.
/// </summary>
[Collection(PowerShellCollection.Name)]
public sealed class AddonCmdletTests
{
    private static IReadOnlyList<string> Installed(KsctlSession session, string cluster) =>
        session.RunClean($"Get-KsctlAddon -Name {cluster}").Output.Select(o => (string)o.Properties["Name"].Value).ToList();

    private static string Status(KsctlSession session, string cluster) =>
        session.RunClean($"(Get-KsctlCluster -Name {cluster}).Status").Output.Single().ToString()!;

    [Fact]
    public void ListAvailable_returns_the_pinned_catalogue()
    {
        using var session = new KsctlSession();
        var catalogue = session.RunClean("Get-KsctlAddon -ListAvailable").Output;
        Assert.Equal(["metrics-server", "ingress-nginx"], catalogue.Select(o => (string)o.Properties["Name"].Value));
        Assert.All(catalogue, o => Assert.Matches("^[0-9a-f]{64}$", (string)o.Properties["Sha256"].Value));
        Assert.Equal("v0.9.0", session.RunClean("(Get-KsctlAddon -ListAvailable -Addon metrics*).Version").Output.Single().ToString());
        Assert.Empty(session.RunClean("Get-KsctlAddon -ListAvailable -Addon nothing*").Output);
    }

    [Fact]
    public void WhatIf_prints_the_plan_with_version_and_checksum_and_changes_nothing()
    {
        using var session = new KsctlSession();
        session.RunClean("New-KsctlCluster demo -Provider Local");
        var result = session.RunClean("Add-KsctlAddon demo -Addon metrics-server, ingress-nginx -WhatIf");
        Assert.Contains("What if: Adding metrics-server v0.9.0, ingress-nginx v1.15.1 to cluster demo (Local/Managed, LOCAL).", result.HostText);
        Assert.Contains("addon:metrics-server", result.HostText);
        Assert.Contains("sha256 1cec29a52678", result.HostText);
        Assert.Empty(result.Output);
        Assert.Empty(Installed(session, "demo"));
        Assert.Equal("Running", Status(session, "demo"));
    }

    [Fact]
    public void A_name_outside_the_catalogue_is_KsctlInvalidSpec_naming_Addon_and_nothing_changes()
    {
        using var session = new KsctlSession();
        session.RunClean("New-KsctlCluster demo -Provider Local");
        var result = session.Run("Add-KsctlAddon demo -Addon metrics-server, traefik");
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("KsctlInvalidSpec", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
        Assert.Contains("-Addon", error.Exception.Message);
        Assert.Contains("traefik", error.Exception.Message);
        Assert.Equal("Running", Status(session, "demo"));

        // Binding rejects an empty name before the cmdlet runs.
        var empty = session.Run("Add-KsctlAddon demo -Addon ''");
        Assert.Contains("ParameterArgumentValidationError", Assert.Single(empty.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void Removing_an_add_on_that_is_not_installed_is_KsctlAddonNotFound()
    {
        using var session = new KsctlSession();
        session.RunClean("New-KsctlCluster demo -Provider Local");
        var error = Assert.Single(session.Run("Remove-KsctlAddon demo -Addon metrics-server -Force").Errors);
        Assert.StartsWith("KsctlAddonNotFound", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
        Assert.Contains("installed: none", error.Exception.Message);
    }

    [Fact]
    public void An_API_server_Ksctl_cannot_use_fails_the_add_with_KsctlAddonFailed_and_records_nothing()
    {
        using var session = new KsctlSession();
        session.RunClean("New-KsctlCluster demo -Provider Local");
        // The kind stand-in's kubeconfig points at a port nothing listens on, with placeholder certificates.
        var error = Assert.Single(session.Run("Add-KsctlAddon demo -Addon metrics-server").Errors);
        Assert.StartsWith("KsctlAddonFailed", error.FullyQualifiedErrorId);
        Assert.Empty(Installed(session, "demo"));
        Assert.Equal("ConfiguringFailed", Status(session, "demo"));
    }

    [Fact]
    public void Addon_completes_from_the_catalogue()
    {
        using var session = new KsctlSession();
        Assert.Equal(["metrics-server"], CompletionTests.Complete(session, "Add-KsctlAddon demo -Addon met"));
        Assert.Contains("ingress-nginx", CompletionTests.Complete(session, "Get-KsctlAddon -ListAvailable -Addon "));
    }
}

/// <summary>New-KsctlCluster -CloudController (issue #15): refused, naming the parameter, where no controller can run; nothing is created.</summary>
[Collection(PowerShellCollection.Name)]
public sealed class CloudControllerCmdletTests
{
    [Fact]
    public void CloudController_on_a_managed_cluster_is_KsctlInvalidSpec_and_nothing_is_created()
    {
        using var session = new KsctlSession();
        var error = Assert.Single(session.Run("New-KsctlCluster demo -Provider Local -CloudController").Errors);
        Assert.StartsWith("KsctlInvalidSpec", error.FullyQualifiedErrorId);
        Assert.Contains("-CloudController", error.Exception.Message);
        Assert.Contains("self-managed clusters only", error.Exception.Message);
        Assert.Empty(session.StateFiles());
    }

    [Fact]
    public void CloudController_for_a_provider_without_a_controller_is_refused_by_WhatIf_too()
    {
        using var session = new KsctlSession();
        var result = session.Run("""
            $m = @(@{ Address = '127.0.0.1'; Role = 'LoadBalancer' }, @{ Address = '127.0.0.2'; Role = 'Datastore' }, @{ Address = '127.0.0.3'; Role = 'Datastore' },
                   @{ Address = '127.0.0.4'; Role = 'Datastore' }, @{ Address = '127.0.0.5'; Role = 'ControlPlane' }, @{ Address = '127.0.0.6'; Role = 'ControlPlane' },
                   @{ Address = '127.0.0.7'; Role = 'ControlPlane' }, @{ Address = '127.0.0.8'; Role = 'Worker' })
            $key = [System.IO.Path]::GetTempFileName()
            $m.ForEach({ $_.KeyPath = $key })
            New-KsctlCluster lab -Provider BareMetal -Type SelfManaged -Machine $m -TrustOnFirstUse -WorkerCount 1 -CloudController -WhatIf
            [System.IO.File]::Delete($key)
            """);
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("KsctlInvalidSpec", error.FullyQualifiedErrorId);
        Assert.Contains("no cloud controller manager for BareMetal", error.Exception.Message);
        Assert.Empty(session.StateFiles());
    }
}
