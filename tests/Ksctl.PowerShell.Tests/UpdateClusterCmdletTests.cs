using System.Management.Automation;
using System.Text.Json;
using Xunit;

namespace Ksctl.PowerShell.Tests;

/// <summary>
/// Update-KsctlCluster at the PowerShell level: -WhatIf prints the rolling order and changes nothing, parameter
/// validation (binding and the version skew rules) refuses with the parameter named and the state untouched, and
/// clusters this version cannot upgrade are refused before anything is locked.
/// </summary>
[Collection(PowerShellCollection.Name)]
public sealed class UpdateClusterCmdletTests
{
    [Fact]
    public void WhatIf_prints_control_planes_one_at_a_time_then_each_worker_drained_upgraded_uncordoned_and_changes_nothing()
    {
        using var session = new KsctlSession();
        ImportBareMetalK3sCluster(session, "lab", workers: 2);
        var before = File.ReadAllBytes(Assert.Single(session.StateFiles()));
        var result = session.RunClean("Get-KsctlCluster -Name lab | Update-KsctlCluster -KubernetesVersion 1.34.1 -WhatIf");
        Assert.Empty(result.Output);
        var text = result.HostText;
        string[] order = ["upgrade:cp-0", "upgrade:cp-1", "upgrade:cp-2", "drain:wp-0", "upgrade:wp-0", "uncordon:wp-0", "drain:wp-1", "upgrade:wp-1", "uncordon:wp-1"];
        var positions = order.Select(step => text.IndexOf($". {step}:", StringComparison.Ordinal)).ToArray();
        Assert.All(positions, p => Assert.True(p >= 0, text));
        Assert.Equal(positions.Order(), positions);
        Assert.Contains("k3s v1.34.1+k3s1", text);
        Assert.Contains("Upgrading cluster", text);
        Assert.Equal(before, File.ReadAllBytes(Assert.Single(session.StateFiles())));

        // -MaxUnavailable 2: both workers of the batch are drained right after the last control plane.
        text = session.RunClean("Update-KsctlCluster lab -KubernetesVersion 1.34.1 -MaxUnavailable 2 -WhatIf").HostText;
        Assert.Contains("drain:wp-1: cordon and drain wp-1 (its pods move to the other workers)  [after upgrade:cp-2]", text);
        Assert.Equal(before, File.ReadAllBytes(Assert.Single(session.StateFiles())));
    }

    [Theory]
    [InlineData("-KubernetesVersion latest", "ParameterArgumentValidationError", "KubernetesVersion")]
    [InlineData("-KubernetesVersion 1.34.1 -MaxUnavailable 0", "ParameterArgumentValidationError", "MaxUnavailable")]
    [InlineData("-KubernetesVersion 1.35.0", "KsctlInvalidSpec", "skips minor versions")]
    [InlineData("-KubernetesVersion 1.32.9", "KsctlInvalidSpec", "downgrades are not supported")]
    [InlineData("-KubernetesVersion 1.34", "KsctlInvalidSpec", "major.minor.patch")]
    public void Bad_input_is_refused_naming_the_parameter_and_nothing_changes(string parameters, string errorId, string says)
    {
        using var session = new KsctlSession();
        ImportBareMetalK3sCluster(session, "lab", workers: 1);
        var before = File.ReadAllBytes(Assert.Single(session.StateFiles()));
        var result = session.Run($"Update-KsctlCluster lab {parameters}");
        var error = Assert.Single(result.Errors);
        Assert.Equal(errorId, error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains(says, error.Exception.Message);
        if (errorId == "KsctlInvalidSpec")
        {
            Assert.Contains("-KubernetesVersion", error.Exception.Message);
            Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
        }
        Assert.Empty(result.Output);
        Assert.Equal(before, File.ReadAllBytes(Assert.Single(session.StateFiles())));
    }

    [Fact]
    public void The_version_the_cluster_runs_is_no_change_and_a_Kind_cluster_is_refused_before_anything()
    {
        using var session = new KsctlSession();
        ImportBareMetalK3sCluster(session, "lab", workers: 1);
        var before = File.ReadAllBytes(Assert.Single(session.StateFiles()));
        var same = session.RunClean("Update-KsctlCluster lab -KubernetesVersion 1.33.1 -Confirm:$false");
        Assert.Equal("1.33.1", (string)((dynamic)same.Single()).KubernetesVersion);
        Assert.Equal("Running", (string)((dynamic)same.Single()).Status);
        Assert.Equal(before, File.ReadAllBytes(Assert.Single(session.StateFiles())));

        session.RunClean("New-KsctlCluster -Name demo -Provider Local");
        var kind = File.ReadAllBytes(Assert.Single(session.StateFiles(), f => f.Contains("local", StringComparison.OrdinalIgnoreCase) && f.EndsWith("state.json")));
        var refused = session.Run("Update-KsctlCluster demo -KubernetesVersion 1.34.0");
        var error = Assert.Single(refused.Errors);
        Assert.Equal("KsctlProviderNotAvailable", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(kind, File.ReadAllBytes(Assert.Single(session.StateFiles(), f => f.Contains("local", StringComparison.OrdinalIgnoreCase) && f.EndsWith("state.json"))));
        session.RunClean("Remove-KsctlCluster -Name demo -Force");
    }

    /// <summary>A Running BareMetal K3s cluster at 1.33.1 in the store, imported as Export-KsctlState writes it (nothing connects).</summary>
    internal static void ImportBareMetalK3sCluster(KsctlSession session, string name, int workers)
    {
        var key = Path.Combine(session.Root, "id_ed25519");
        File.WriteAllText(key, "not read: nothing connects");
        var roles = new List<(string Role, string Key)> { ("LoadBalancer", "lb"), ("Datastore", "db-0"), ("Datastore", "db-1"), ("Datastore", "db-2"),
            ("ControlPlane", "cp-0"), ("ControlPlane", "cp-1"), ("ControlPlane", "cp-2") };
        roles.AddRange(Enumerable.Range(0, workers).Select(i => ("Worker", $"wp-{i}")));
        var id = new { provider = "BareMetal", type = "SelfManaged", name, region = "baremetal" };
        string HostKey(int i) => "SHA256:" + Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData([(byte)i])).TrimEnd('=');
        var machines = roles.Select((r, i) => new { address = $"192.0.2.{10 + i}", port = 22, user = "root", keyPath = key, role = r.Role, hostKey = HostKey(i) }).ToArray();
        var nodes = roles.Select((r, i) => new
        {
            name = $"{name}-vm-{r.Key}", key = r.Key, role = r.Role, index = r.Key == "lb" ? 0 : int.Parse(r.Key[(r.Key.IndexOf('-') + 1)..]),
            publicIP = $"192.0.2.{10 + i}", privateIP = $"192.0.2.{10 + i}", resourceId = $"192.0.2.{10 + i}", hostKey = HostKey(i),
            hostname = $"node{i}", sshUser = "root", sshPort = 22, sshKeyPath = key,
        }).ToArray();
        var now = DateTimeOffset.UtcNow;
        var state = new
        {
            schemaVersion = 1, id,
            spec = new { id, distribution = "K3s", kubernetesVersion = "1.33.1", controlPlaneCount = 3, etcdCount = 3, workerCount = workers, applications = Array.Empty<string>(), machines, trustOnFirstUse = false },
            status = "Running", distribution = "K3s", kubernetesVersion = "1.33.1", createdAt = now, updatedAt = now,
            nodes, resources = new Dictionary<string, string>(), secrets = new Dictionary<string, string>(),
            steps = new Dictionary<string, object>(), lastErrors = Array.Empty<string>(),
        };
        var file = Path.Combine(session.Root, $"{name}.export.json");
        File.WriteAllText(file, JsonSerializer.Serialize(new { format = ExportFormat(session), version = 1, exportedAt = now, clusters = new[] { state } }));
        session.RunClean($"Import-KsctlState -LiteralPath '{file}'");
    }

    private static string ExportFormat(KsctlSession session)
    {
        var probe = Path.Combine(session.Root, "probe.json");
        session.RunClean("New-KsctlCluster probe -Provider Local");
        session.RunClean($"Export-KsctlState -Name probe -Path '{probe}' -KeyPath '{probe}.key' -WarningAction SilentlyContinue");
        session.RunClean("Remove-KsctlCluster probe -Force");
        return JsonDocument.Parse(File.ReadAllText(probe)).RootElement.GetProperty("format").GetString()!;
    }
}
