using System.Management.Automation;
using System.Text.Json;
using Xunit;

namespace Ksctl.PowerShell.Tests;

/// <summary>
/// Issue #13 items 5, 12 and 13: Get-KsctlPlan returns the plan as data, progress is a parent record with a child per
/// running step, and Ctrl+C returns only once the operation has recorded its status and released its lock.
/// </summary>
[Collection(PowerShellCollection.Name)]
public sealed class PlanAndProgressTests
{
    /// <summary>A "kind" in front of the stand-in: <paramref name="body"/> runs first (bash), then the stand-in.</summary>
    internal static void WrapKind(KsctlSession session, string body)
    {
        var bin = Path.Combine(session.Root, "wrapbin");
        Directory.CreateDirectory(bin);
        var script = Path.Combine(bin, "kind");
        File.WriteAllText(script, $"#!/usr/bin/env bash\n{body}\nexec '{Path.Combine(Paths.Standins, "kind")}' \"$@\"\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Environment.SetEnvironmentVariable("PATH", bin + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH"));
    }

    [Fact]
    public void GetPlan_ReturnsTheStepsAsData_AndWhatIfStillPrintsThem()
    {
        using var session = new KsctlSession();
        var steps = session.RunClean("Get-KsctlPlan demo -Provider Local -NodeCount 3").Output.Select(o => (dynamic)o.BaseObject).ToList();
        Assert.Equal(["kind:cluster", "kubeconfig"], steps.Select(s => (string)s.Name));
        Assert.Equal(["kind:cluster"], (string[])steps[1].DependsOn);
        Assert.Empty((string[])steps[0].DependsOn);
        Assert.Contains("2 worker(s)", (string)steps[0].Description);
        Assert.Contains("container demo-worker2", (string[])steps[0].Resources);
        Assert.All(steps, s => Assert.False((bool)s.AlreadyDone));
        Assert.All(steps, s => Assert.Equal("New", (string)s.Operation));
        Assert.Empty(session.StateFiles());

        var whatIf = session.RunClean("New-KsctlCluster demo -Provider Local -NodeCount 3 -WhatIf").HostText;
        foreach (var s in steps) Assert.Contains((string)s.Name, whatIf);

        var table = session.RunClean("Get-KsctlPlan demo -Provider Local | Out-Default").HostText;
        Assert.Matches(@"Step\s+Done\s+After\s+Resources\s+Description", table);
        Assert.Matches(@"kubeconfig\s+False\s+kind:cluster", table);

        var bad = session.Run("Get-KsctlPlan 'Not A Name' -Provider Local");
        Assert.Equal("KsctlInvalidSpec", Assert.Single(bad.Errors).FullyQualifiedErrorId.Split(',')[0]);
    }

    [Fact]
    public void GetPlan_MarksTheStepsAFailedRunFinished_AsAlreadyDone()
    {
        using var session = new KsctlSession();
        var fail = Path.Combine(session.Root, "fail-kubeconfig");
        File.WriteAllText(fail, "");
        WrapKind(session, $"if [[ \"$1 $2\" == 'get kubeconfig' && -e '{fail}' ]]; then echo 'no kubeconfig' >&2; exit 1; fi");
        Assert.Equal("KsctlCreationFailed", Assert.Single(session.Run("New-KsctlCluster demo -Provider Local").Errors).FullyQualifiedErrorId.Split(',')[0]);

        var steps = session.RunClean("Get-KsctlPlan demo -Provider Local").Output.Select(o => (dynamic)o.BaseObject).ToList();
        Assert.Equal([true, false], steps.Select(s => (bool)s.AlreadyDone));
        File.Delete(fail);
        Assert.Equal("Running", (string)((dynamic)session.RunClean("New-KsctlCluster demo -Provider Local").Single()).Status);
    }

    [Fact]
    public void GetPlan_ForRemoveAndResize_TakesTheExistingCluster()
    {
        using var session = new KsctlSession();
        session.RunClean("New-KsctlCluster demo -Provider Local");
        var remove = session.RunClean("Get-KsctlCluster demo | Get-KsctlPlan -Operation Remove").Output.Select(o => (dynamic)o.BaseObject).ToList();
        Assert.NotEmpty(remove);
        Assert.All(remove, s => Assert.Equal("Remove", (string)s.Operation));
        Assert.Contains(remove, s => ((string[])s.Resources).Length > 0);
        Assert.Equal(remove.Count, session.RunClean("Get-KsctlPlan -Operation Remove -Name demo").Output.Count);

        var extra = session.Run("Get-KsctlPlan -Operation Remove -Name demo -NodeCount 4");
        var error = Assert.Single(extra.Errors);
        Assert.Equal("KsctlInvalidSpec", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("-NodeCount", error.Exception.Message);

        // A managed cluster is not resized by Ksctl: the same refusal Resize-KsctlCluster gives.
        var resize = session.Run("Get-KsctlPlan -Operation Resize -Name demo -WorkerCount 2");
        Assert.Equal("KsctlOperationNotAllowed", Assert.Single(resize.Errors).FullyQualifiedErrorId.Split(',')[0]);
        Assert.Single(session.RunClean("Get-KsctlCluster").Output);
    }

    [Fact]
    public void Progress_IsAParentRecordWithAChildPerRunningStep()
    {
        using var session = new KsctlSession();
        var progress = session.RunClean("New-KsctlCluster demo -Provider Local").Progress;
        var parents = progress.Where(p => p.ParentActivityId < 0).ToList();
        Assert.NotEmpty(parents);
        var parentId = Assert.Single(parents.Select(p => p.ActivityId).Distinct());
        Assert.All(parents, p => Assert.Equal("Creating cluster demo", p.Activity));
        Assert.Equal(ProgressRecordType.Completed, parents[^1].RecordType);
        Assert.Same(parents[^1], progress[^1]);

        var children = progress.Where(p => p.ParentActivityId == parentId).GroupBy(p => p.ActivityId).ToList();
        Assert.Equal(["kind:cluster", "kubeconfig"], children.Select(c => c.First().Activity));
        foreach (var child in children)
        {
            Assert.Equal(ProgressRecordType.Processing, child.First().RecordType);
            Assert.Equal(ProgressRecordType.Completed, child.Last().RecordType);
        }
        Assert.NotEqual(children[0].Key, children[1].Key);
    }

    [Fact]
    public void Stop_DuringHeavyProgress_ReturnsOnlyOnceTheStatusIsRecordedAndTheLockReleased()
    {
        using var session = new KsctlSession();
        var started = Path.Combine(session.Root, "create-started");
        // A create that blocks until cancelled. Everything Core reports after Ctrl+C (the cancellation warning, the
        // checkpoint's log lines, at Verbose and Debug) arrives while the pipeline is stopping: a Write* then throws,
        // and the old pump returned on the first one, before Core had recorded the status and released the lock.
        WrapKind(session, $"if [[ \"$1\" == create ]]; then touch '{started}'; sleep 60; fi");

        using var ps = System.Management.Automation.PowerShell.Create(session.Runspace);
        ps.AddScript("$VerbosePreference = 'Continue'; $DebugPreference = 'Continue'; New-KsctlCluster demo -Provider Local");
        var pending = ps.BeginInvoke();
        Eventually.True(() => File.Exists(started) || pending.IsCompleted, TimeSpan.FromMinutes(3), "kind create to start");
        Assert.True(File.Exists(started), "kind create never started");
        ps.Stop();
        Assert.Throws<PipelineStoppedException>(() => ps.EndInvoke(pending));

        // Read the store directly, at once: not through Get-KsctlCluster, which shows an abandoned Creating as failed.
        var document = Assert.Single(session.StateFiles(), f => Path.GetFileName(f) != "lock");
        Assert.DoesNotContain(session.StateFiles(), f => Path.GetFileName(f) == "lock");
        using var json = JsonDocument.Parse(File.ReadAllBytes(document));
        var status = json.RootElement.EnumerateObject().First(p => p.Name.Equals("status", StringComparison.OrdinalIgnoreCase)).Value.ToString();
        Assert.Equal("CreationFailed", status);
        Assert.Contains("cancelled", json.RootElement.ToString());
    }
}
