using System.Management.Automation;
using Xunit;

namespace Ksctl.PowerShell.Tests;

/// <summary>Issue #13 items 11 and 14: -AsJob, and the desired spec on the output object with its spec-file round trip.</summary>
[Collection(PowerShellCollection.Name)]
public sealed class JobAndSpecTests
{
    [Fact]
    public void AsJob_ReturnsAJobWhoseStreamsCarryTheOperation_AndReceiveJobYieldsTheCluster()
    {
        using var session = new KsctlSession();
        var started = session.RunClean("New-KsctlCluster demo -Provider Local -NodeCount 2 -AsJob");
        Job job = Assert.IsAssignableFrom<Job>(Assert.Single(started.Output).BaseObject);
        Assert.Equal("KsctlJob", job.PSJobTypeName);

        var result = session.RunClean("$j = Get-Job -Id " + job.Id + "; $null = Wait-Job $j; $j.State; Receive-Job $j -Keep");
        Assert.Equal("Completed", result.Output[0].ToString());
        dynamic cluster = result.Output[1];
        Assert.Equal("demo", (string)cluster.Name);
        Assert.Equal("Running", (string)cluster.Status);
        Assert.Contains(job.Verbose, v => v.Message.Contains("Creating demo"));
        var parent = Assert.Single(job.Progress.Where(p => p.ParentActivityId < 0).Select(p => p.ActivityId).Distinct());
        Assert.Contains(job.Progress, p => p.ParentActivityId == parent && p.Activity == "kind:cluster");

        var resize = session.Run("Resize-KsctlCluster demo -WorkerCount 3 -AsJob | Wait-Job | Receive-Job");
        // A managed cluster is not resized: refused while planning, before any job starts (like without -AsJob).
        Assert.Equal("KsctlOperationNotAllowed", Assert.Single(resize.Errors).FullyQualifiedErrorId.Split(',')[0]);

        var removed = session.RunClean("Remove-KsctlCluster demo -Force -PassThru -AsJob | Wait-Job | Receive-Job");
        Assert.Equal("demo", (string)((dynamic)removed.Single()).Name);
        Assert.Empty(session.RunClean("Get-KsctlCluster").Output);
    }

    [Fact]
    public void AsJob_AFailedOperation_FailsTheJob_WithTheErrorRecord()
    {
        using var session = new KsctlSession();
        Environment.SetEnvironmentVariable("KIND_STANDIN_FAIL_CREATE", "always");
        var result = session.Run("$j = New-KsctlCluster demo -Provider Local -AsJob; $null = Wait-Job $j; $j.State; Receive-Job $j");
        Assert.Equal("Failed", result.Output[0].ToString());
        Assert.Equal("KsctlCreationFailed", Assert.Single(result.Errors).FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal("CreationFailed", (string)((dynamic)session.RunClean("Get-KsctlCluster demo").Single()).Status);
    }

    [Fact]
    public void AsJob_StopJob_CancelsTheOperation_WhichRecordsItsStatusAndReleasesItsLock()
    {
        using var session = new KsctlSession();
        var started = Path.Combine(session.Root, "create-started");
        PlanAndProgressTests.WrapKind(session, $"if [[ \"$1\" == create ]]; then touch '{started}'; sleep 60; fi");
        Job job = Assert.IsAssignableFrom<Job>(Assert.Single(session.RunClean("New-KsctlCluster demo -Provider Local -AsJob").Output).BaseObject);
        // 600 x 50 ms was a 30 s clock in disguise; a loaded machine can take longer to reach kind create.
        Eventually.True(() => File.Exists(started) || job.Finished.WaitOne(0), TimeSpan.FromMinutes(3), "kind create to start");
        Assert.True(File.Exists(started), $"kind create never started; the job ended {job.JobStateInfo.State}");

        session.RunClean($"Stop-Job -Id {job.Id}; $null = Wait-Job -Id {job.Id}");
        Assert.Equal(JobState.Stopped, job.JobStateInfo.State);
        Assert.DoesNotContain(session.StateFiles(), f => Path.GetFileName(f) == "lock");
        Assert.Contains("cancelled", File.ReadAllText(Assert.Single(session.StateFiles())));
        Assert.Equal("CreationFailed", (string)((dynamic)session.RunClean("Get-KsctlCluster demo").Single()).Status);
    }

    [Fact]
    public void AsJob_WhatIf_StartsNoJob()
    {
        using var session = new KsctlSession();
        var result = session.RunClean("New-KsctlCluster demo -Provider Local -AsJob -WhatIf");
        Assert.Empty(result.Output);
        Assert.Empty(session.RunClean("Get-Job").Output);
        Assert.Empty(session.StateFiles());
    }

    [Fact]
    public void Output_CarriesTheDesiredSpec_AndItsYamlReCreatesTheCluster()
    {
        using var session = new KsctlSession();
        dynamic created = session.RunClean("New-KsctlCluster demo -Provider Local -NodeCount 3 -KubernetesVersion 1.32.2").Single();
        dynamic spec = created.Spec;
        Assert.Equal(3, (int)spec.NodeCount);
        Assert.Equal("1.32.2", (string)spec.KubernetesVersion);
        Assert.Equal("LOCAL", (string)spec.Region);
        Assert.Equal(3, (int)((dynamic)session.RunClean("Get-KsctlCluster demo").Single()).Spec.NodeCount);

        // The documented round trip (about_Ksctl, SPECS AND ROUND TRIPS): save the spec, delete, re-create from the file.
        var file = Path.Combine(session.Root, "demo.yaml");
        session.RunClean($"[IO.File]::WriteAllText('{file}', (Get-KsctlCluster demo).Spec.ToYaml())");
        var yaml = File.ReadAllText(file);
        Assert.Contains("name: demo", yaml);
        Assert.Contains("nodeCount: 3", yaml);
        session.RunClean("Remove-KsctlCluster demo -Force");

        dynamic again = session.RunClean($"New-KsctlCluster -SpecPath '{file}'").Single();
        Assert.Equal("Running", (string)again.Status);
        Assert.Equal(yaml, (string)again.Spec.ToYaml());
        Assert.Equal(3, ((object[])again.Nodes).Length);
        Assert.Contains("create cluster --name demo", File.ReadAllText(session.KindLog));
    }

    [Fact]
    public void SelfManagedSpec_RoundTripsThroughTheSpecFileSchema()
    {
        using var session = new KsctlSession();
        var key = Path.Combine(session.Root, "id_ed25519");
        File.WriteAllText(key, "not read by a plan");
        var machines = string.Join(",", new[] { ("1", "ControlPlane"), ("2", "ControlPlane"), ("3", "ControlPlane"), ("4", "Datastore"), ("5", "Datastore"), ("6", "Datastore"), ("7", "LoadBalancer"), ("8", "Worker") }
            .Select(m => $"@{{ Address = '10.0.0.{m.Item1}'; Role = '{m.Item2}'; KeyPath = '{key}'; HostKey = 'SHA256:{Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData([byte.Parse(m.Item1)])).TrimEnd('=')}' }}"));
        // The spec object as a cluster carries it, written with ToYaml and read back by -SpecPath through Get-KsctlPlan.
        var file = Path.Combine(session.Root, "bm.yaml");
        var plan = session.RunClean($$"""
            $spec = [Ksctl.PowerShell.Models.KsctlClusterSpec]@{ Name = 'bm'; Provider = 'BareMetal'; Type = 'SelfManaged'; Region = 'baremetal'; Distribution = 'K3s';
                ControlPlaneCount = 3; EtcdCount = 3; WorkerCount = 1; Cni = 'flannel'; Applications = @('argocd');
                Machines = @({{machines}}).ForEach({ [Ksctl.PowerShell.Models.KsctlMachineSpec]$_ }) }
            [IO.File]::WriteAllText('{{file}}', $spec.ToYaml())
            Get-KsctlPlan -SpecPath '{{file}}'
            """);
        var yaml = File.ReadAllText(file);
        foreach (var field in new[] { "provider: BareMetal", "type: SelfManaged", "distribution: K3s", "cni: flannel", "- argocd", "address: 10.0.0.8", "role: Worker", "hostKey: SHA256:" })
            Assert.Contains(field, yaml);
        Assert.Contains(plan.Output, s => (string)((dynamic)s).Name == "k3s:cp-0");
    }
}
