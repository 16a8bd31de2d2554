using System.Management.Automation;
using Xunit;

namespace Ksctl.PowerShell.Tests;

[Collection(PowerShellCollection.Name)]
public sealed class NewClusterTests
{
    [Fact]
    public void WhatIf_PrintsThePlan_AndCreatesNothing()
    {
        using var session = new KsctlSession();
        var result = session.RunClean("New-KsctlCluster -Name demo -Provider Local -NodeCount 3 -WhatIf");
        Assert.Empty(result.Output);
        Assert.Contains("What if: Creating cluster demo (Local/Managed, LOCAL).", result.HostText);
        Assert.Contains("kind:cluster", result.HostText);
        Assert.Contains("kubeconfig", result.HostText);
        Assert.Contains("2 worker(s)", result.HostText);
        Assert.Contains("container demo-worker2", result.HostText);
        Assert.Empty(session.StateFiles());
        Assert.False(File.Exists(session.KindLog), "-WhatIf must not call kind");
    }

    [Theory]
    [InlineData("-Name 'Bad_Name' -Provider Local", "-Name")]
    [InlineData("-Name demo -Provider Local -NodeCount 0", "-NodeCount")]
    [InlineData("-Name demo -Provider Local -Type SelfManaged", "-Type")]
    [InlineData("-Name demo -Provider Local -Region mars", "-Region")]
    [InlineData("-Name demo -Provider Local -KubernetesVersion latest", "-KubernetesVersion")]
    [InlineData("-Name demo -Provider Local -WorkerCount 3", "-WorkerCount")]
    public void BadInput_IsKsctlInvalidSpec_NamingTheParameter_EvenUnderWhatIf(string arguments, string parameter)
    {
        using var session = new KsctlSession();
        foreach (var whatIf in new[] { "", " -WhatIf" })
        {
            var result = session.Run($"New-KsctlCluster {arguments}{whatIf}");
            var error = Assert.Single(result.Errors);
            Assert.Equal("KsctlInvalidSpec", error.FullyQualifiedErrorId.Split(',')[0]);
            Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
            Assert.Contains(parameter, error.Exception.Message);
            Assert.Empty(result.Output);
            Assert.DoesNotContain("What if", result.HostText);
        }
        Assert.Empty(session.StateFiles());
        Assert.False(File.Exists(session.KindLog));
    }

    [Fact]
    public void Create_WithStandins_ReturnsRunningCluster_WritesProgressAndVerbose()
    {
        using var session = new KsctlSession();
        var result = session.RunClean("New-KsctlCluster -Name demo -Provider Local -Verbose");
        dynamic cluster = result.Single();
        Assert.Equal("demo", (string)cluster.Name);
        Assert.Equal("Local", (string)cluster.Provider);
        Assert.Equal("Managed", (string)cluster.Type);
        Assert.Equal("LOCAL", (string)cluster.Region);
        Assert.Equal("Running", (string)cluster.Status);
        Assert.Equal("Kind", (string)cluster.Distribution);
        Assert.Equal("1.33.1", (string)cluster.KubernetesVersion);
        Assert.Equal("kind-demo", (string)cluster.ContextName);
        Assert.StartsWith("https://127.0.0.1:", (string)cluster.Endpoint);
        Assert.Equal(2, ((Array)cluster.Nodes).Length);
        Assert.Equal("ControlPlane", (string)cluster.Nodes[0].Role);
        Assert.Equal("Worker", (string)cluster.Nodes[1].Role);

        Assert.Contains(result.Progress, p => p.Activity == "Creating cluster demo" && p.StatusDescription.Contains("kind:cluster"));
        Assert.Contains(result.Progress, p => p.Activity == "Creating cluster demo" && p.RecordType == ProgressRecordType.Completed);
        Assert.Contains(result.Verbose, v => v.Contains("kind:cluster"));
        Assert.Contains(result.Verbose, v => v.Contains("kubeconfig"));
        Assert.Single(session.StateFiles(), f => f.EndsWith("state.json"));
        Assert.Contains("create cluster --name demo", File.ReadAllText(session.KindLog));

        // The output carries no secret.
        var props = session.RunClean("(Get-KsctlCluster demo).PSObject.Properties.Name").Output.Select(o => o.ToString()).ToList();
        Assert.DoesNotContain(props, p => p.Contains("Secret") || p.Contains("Kubeconfig"));
    }

    [Fact]
    public void Create_WithoutKind_IsPrerequisiteMissing_AndWritesNoState()
    {
        using var session = new KsctlSession(standinsOnPath: false);
        var result = session.Run("New-KsctlCluster -Name demo -Provider Local");
        var error = Assert.Single(result.Errors);
        Assert.Equal("KsctlPrerequisiteMissing", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(ErrorCategory.NotInstalled, error.CategoryInfo.Category);
        Assert.Contains("kind", error.Exception.Message);
        Assert.False(string.IsNullOrEmpty(error.ErrorDetails?.RecommendedAction));
        Assert.Empty(result.Output);
        Assert.Empty(session.StateFiles());
    }

    [Fact]
    public void Create_FailingKind_IsCreationFailed_ThenResumes()
    {
        using var session = new KsctlSession();
        Environment.SetEnvironmentVariable("KIND_STANDIN_FAIL_CREATE", "always");
        var failed = session.Run("New-KsctlCluster -Name demo -Provider Local");
        var error = Assert.Single(failed.Errors);
        Assert.Equal("KsctlCreationFailed", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal("CreationFailed", (string)((dynamic)session.RunClean("Get-KsctlCluster demo").Single()).Status);

        Environment.SetEnvironmentVariable("KIND_STANDIN_FAIL_CREATE", null);
        var resumed = session.RunClean("New-KsctlCluster -Name demo -Provider Local");
        Assert.Equal("Running", (string)((dynamic)resumed.Single()).Status);
    }

    [Fact]
    public void Stop_CancelsTheCoreOperation_AndLeavesTheClusterResumable()
    {
        using var session = new KsctlSession();
        var slow = Path.Combine(session.Root, "slowbin");
        Directory.CreateDirectory(slow);
        var marker = Path.Combine(session.Root, "create-started");
        var script = Path.Combine(slow, "kind");
        // `kind create` records its pid and then never ends on its own (exec: the pid is the sleeper itself). So the stop
        // returning at all, and that pid being gone, prove kind was killed rather than waited for, with no clock involved.
        File.WriteAllText(script, $"#!/usr/bin/env bash\nif [[ \"$1\" == create ]]; then echo $$ > '{marker}.tmp'; mv '{marker}.tmp' '{marker}'; exec sleep infinity; fi\nexec '{Path.Combine(Paths.Standins, "kind")}' \"$@\"\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var path = Environment.GetEnvironmentVariable("PATH");
        Environment.SetEnvironmentVariable("PATH", slow + Path.PathSeparator + path);

        using var ps = System.Management.Automation.PowerShell.Create(session.Runspace);
        ps.AddScript("New-KsctlCluster demo -Provider Local");
        var pending = ps.BeginInvoke();
        // Wait for the event (kind create started), not for a time; an invocation that ended without getting there fails
        // here with its errors. The budget only turns a hang into a failure.
        Eventually.True(() => File.Exists(marker) || pending.IsCompleted, TimeSpan.FromMinutes(3), "kind create to start");
        if (!File.Exists(marker))
        {
            // Only now read the streams: enumerating one of a running invocation waits for its end.
            try { ps.EndInvoke(pending); } catch (RuntimeException) { }
            Assert.Fail("kind create never started: " + string.Join("; ", ps.Streams.Error));
        }
        var kindPid = int.Parse(File.ReadAllText(marker).Trim());

        // Ctrl+C. The stop is awaited with a budget: kind sleeps forever, so a stop that waited for it never returns.
        var stop = Task.Run(ps.Stop);
        if (!stop.Wait(TimeSpan.FromMinutes(2)))
        {
            // Unblock the pipeline ourselves so the failure is reported instead of hanging the run.
            var invocation = ps.InvocationStateInfo.State;
            try { using var kind = System.Diagnostics.Process.GetProcessById(kindPid); kind.Kill(); } catch (ArgumentException) { }
            stop.Wait();
            Assert.Fail($"Stop() did not return (invocation {invocation}, kind pid {kindPid}): kind was waited for, not killed. " + string.Join("; ", ps.Streams.Error));
        }
        Assert.Throws<PipelineStoppedException>(() => ps.EndInvoke(pending));
        Assert.True(ProcessEnded(kindPid), $"kind (pid {kindPid}) still runs after Stop() returned");

        // Stop() returns only once the operation has recorded its status and released its lock: read at once, no waiting.
        var document = Assert.Single(session.StateFiles(), f => f.EndsWith("state.json"));
        dynamic cluster = session.RunClean("Get-KsctlCluster demo").Single();
        Assert.True((string)cluster.Status == "CreationFailed", $"status {(string)cluster.Status} right after Stop(); the document: {File.ReadAllText(document)}");
        Assert.Contains("cancelled", string.Join(" ", (string[])cluster.LastErrors));
        Assert.DoesNotContain(session.StateFiles(), f => Path.GetFileName(f) == "lock");

        // ...and resumable: the same command, with a kind that works, completes the cluster.
        Environment.SetEnvironmentVariable("PATH", path);
        var resumed = session.RunClean("New-KsctlCluster demo -Provider Local");
        Assert.Equal("Running", (string)((dynamic)resumed.Single()).Status);
    }

    /// <summary>True once the process is gone (a zombie not yet reaped counts as gone: it runs no more).</summary>
    private static bool ProcessEnded(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return process.WaitForExit(TimeSpan.FromMinutes(1));
        }
        catch (ArgumentException) { return true; } // no such process
    }

    [Fact]
    public void SpecPath_IsOverriddenByParameters()
    {
        using var session = new KsctlSession();
        var spec = Path.Combine(session.Root, "cluster.yaml");
        File.WriteAllText(spec, "name: from-file\nprovider: Local\nnodeCount: 2\n");
        var result = session.RunClean($"New-KsctlCluster -SpecPath '{spec}' -NodeCount 4 -WhatIf");
        Assert.Contains("Creating cluster from-file (Local/Managed, LOCAL)", result.HostText);
        Assert.Contains("3 worker(s)", result.HostText);

        var renamed = session.RunClean($"New-KsctlCluster -SpecPath '{spec}' -Name other -WhatIf");
        Assert.Contains("Creating cluster other (Local/Managed, LOCAL)", renamed.HostText);
        Assert.Contains("1 worker(s)", renamed.HostText);

        File.WriteAllText(spec, "name: x\nprovider: Local\nnodeCount: [oops\n");
        var bad = session.Run($"New-KsctlCluster -SpecPath '{spec}' -WhatIf");
        var error = Assert.Single(bad.Errors);
        Assert.Equal("KsctlInvalidSpec", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("-SpecPath", error.Exception.Message);
    }

    [Fact]
    public void Machine_AcceptsHashtables_AndIsValidatedByTheProvider()
    {
        using var session = new KsctlSession();
        var result = session.Run("New-KsctlCluster -Name demo -Provider Local -Machine @{ Address = '10.0.0.1'; Role = 'Worker' } -WhatIf");
        var error = Assert.Single(result.Errors);
        Assert.Equal("KsctlInvalidSpec", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("-Machine", error.Exception.Message);

        var noRole = session.Run("New-KsctlCluster -Name demo -Provider Local -Machine ([pscustomobject]@{ Address = '10.0.0.1' }) -WhatIf");
        Assert.Contains("has no Role", Assert.Single(noRole.Errors).Exception.Message);
    }

    [Fact]
    public void ThrottleLimit_IsValidated()
    {
        using var session = new KsctlSession();
        var result = session.Run("New-KsctlCluster -Name demo -Provider Local -ThrottleLimit 0 -WhatIf");
        Assert.Contains("ParameterArgumentValidationError", Assert.Single(result.Errors).FullyQualifiedErrorId);
    }
}
