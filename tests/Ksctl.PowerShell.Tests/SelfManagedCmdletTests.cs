using System.Management.Automation;
using Xunit;

namespace Ksctl.PowerShell.Tests;

/// <summary>The self-managed surface of the cmdlets: a BareMetal inventory from hashtables, its plan, and resize rules.</summary>
[Collection(PowerShellCollection.Name)]
public sealed class SelfManagedCmdletTests
{
    private static string Inventory(string keyPath, int workers = 2)
    {
        var roles = new List<string> { "LoadBalancer", "Datastore", "Datastore", "Datastore", "ControlPlane", "ControlPlane", "ControlPlane" };
        roles.AddRange(Enumerable.Repeat("Worker", workers));
        return "@(" + string.Join(", ", roles.Select((r, i) =>
            $"@{{ Address = '192.0.2.{10 + i}'; Role = '{r}'; KeyPath = '{keyPath}'; HostKey = 'SHA256:abc{i}' }}")) + ")";
    }

    [Fact]
    public void BareMetal_WhatIf_shows_the_HA_plan_in_order_and_touches_nothing()
    {
        using var session = new KsctlSession();
        var key = Path.Combine(session.Root, "id_ed25519");
        File.WriteAllText(key, "not used under -WhatIf");
        var result = session.RunClean($"New-KsctlCluster -Name lab -Provider BareMetal -Type SelfManaged -Distribution Kubeadm -Machine {Inventory(key)} -WhatIf");
        Assert.Empty(result.Output);
        var text = result.HostText;
        foreach (var step in new[] { "machine:lb", "machine:db-2", "lb:haproxy", "etcd:pki", "etcd:db-0", "etcd:health", "kubeadm-prepare:wp-1", "kubeadm:cp-0", "kubeadm:cp-2", "kubeadm:wp-1", "kubeconfig" })
            Assert.Contains(step, text);
        Assert.True(text.IndexOf("etcd:health", StringComparison.Ordinal) < text.IndexOf("kubeadm:cp-0", StringComparison.Ordinal));
        Assert.Contains("lab-vm-cp-0 = 192.0.2.14", text);
        Assert.Contains("context lab-baremetal-selfmanaged-baremetal-ksctl", text);
        Assert.Empty(session.StateFiles());
    }

    [Theory]
    [InlineData("LoadBalancer", "Datastore", "exactly 1")]
    [InlineData("Worker", "Datastore", "even")]
    public void BareMetal_topology_is_validated_before_any_machine_is_touched(string from, string to, string rule)
    {
        using var session = new KsctlSession();
        var key = Path.Combine(session.Root, "id_ed25519");
        File.WriteAllText(key, "x");
        var inventory = Inventory(key);
        var index = inventory.IndexOf($"Role = '{from}'", StringComparison.Ordinal);
        inventory = inventory[..index] + $"Role = '{to}'" + inventory[(index + $"Role = '{from}'".Length)..];
        var result = session.Run($"New-KsctlCluster -Name lab -Provider BareMetal -Type SelfManaged -Machine {inventory}");
        var error = Assert.Single(result.Errors);
        Assert.Equal("KsctlInvalidSpec", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("-Machine", error.Exception.Message);
        Assert.Contains(rule, error.Exception.Message);
        Assert.Empty(session.StateFiles());
    }

    [Fact]
    public void A_machine_without_a_host_key_needs_TrustOnFirstUse()
    {
        using var session = new KsctlSession();
        var key = Path.Combine(session.Root, "id_ed25519");
        File.WriteAllText(key, "x");
        var inventory = Inventory(key).Replace("; HostKey = 'SHA256:abc0'", "");
        var refused = session.Run($"New-KsctlCluster -Name lab -Provider BareMetal -Type SelfManaged -Machine {inventory} -WhatIf");
        Assert.Contains("-TrustOnFirstUse", Assert.Single(refused.Errors).Exception.Message);
        var allowed = session.RunClean($"New-KsctlCluster -Name lab -Provider BareMetal -Type SelfManaged -Machine {inventory} -TrustOnFirstUse -WhatIf");
        Assert.Contains("first-seen host key", allowed.HostText);
    }

    [Fact]
    public void Resize_of_a_managed_cluster_is_not_allowed_and_changes_nothing()
    {
        using var session = new KsctlSession();
        session.RunClean("New-KsctlCluster -Name demo -Provider Local");
        var before = File.ReadAllText(Assert.Single(session.StateFiles(), f => f.EndsWith("state.json")));
        var result = session.Run("Get-KsctlCluster -Name demo | Resize-KsctlCluster -WorkerCount 3");
        var error = Assert.Single(result.Errors);
        Assert.Equal("KsctlOperationNotAllowed", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(ErrorCategory.InvalidOperation, error.CategoryInfo.Category);
        Assert.Equal(before, File.ReadAllText(Assert.Single(session.StateFiles(), f => f.EndsWith("state.json"))));
        session.RunClean("Remove-KsctlCluster -Name demo -Force");
    }
}
