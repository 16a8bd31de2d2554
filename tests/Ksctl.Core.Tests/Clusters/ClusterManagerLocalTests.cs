using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Kube;
using Ksctl.Core.Model;
using Ksctl.Core.Storage;

namespace Ksctl.Core.Tests.Clusters;

/// <summary>
/// The ClusterManager end to end with the Local provider, driving the kind and docker stand-ins found on PATH.
/// PATH, KSCTL_HOME and the stand-ins' variables are process-wide, hence the non-parallel collection.
/// </summary>
[Collection(ProcessEnvironmentCollection.Name)]
public sealed class ClusterManagerLocalTests : IDisposable
{
    private readonly TempDir _home = new("ksctl-home");
    private readonly TempDir _bin = new("ksctl-bin");
    private readonly EnvironmentScope _env = new();
    private readonly EventSink _events = new();
    private readonly string _kindLog;
    private readonly string _kindState;

    public ClusterManagerLocalTests()
    {
        _kindLog = _home.Combine("kind-invocations.log");
        _kindState = Path.Combine(Path.GetTempPath(), "kind-standin-" + Guid.NewGuid().ToString("N"));
        UseTools("kind", "docker");
        _env.Set(KsctlSettings.HomeVariable, _home.Path)
            .Set("KIND_STANDIN_LOG", _kindLog)
            .Set("KIND_STANDIN_STATE", _kindState)
            .Set("KIND_STANDIN_FAIL_CREATE", null)
            .Set("KIND_STANDIN_CREATE_DELAY", null)
            .Set("DOCKER_STANDIN_DOWN", null);
    }

    public void Dispose()
    {
        _env.Dispose();
        _bin.Dispose();
        _home.Dispose();
        try { Directory.Delete(_kindState, recursive: true); } catch (IOException) { }
    }

    /// <summary>PATH holds only the chosen stand-ins plus the system folders (no /usr/local/bin, where a real docker may live).</summary>
    private void UseTools(params string[] tools)
    {
        foreach (var f in Directory.GetFiles(_bin.Path)) File.Delete(f);
        foreach (var tool in tools) File.CreateSymbolicLink(_bin.Combine(tool), Path.Combine(Samples.StandinsDirectory(), tool));
        _env.Set("PATH", string.Join(Path.PathSeparator, _bin.Path, "/usr/bin", "/bin"));
    }

    private ClusterManager NewManager() => new(KsctlSettings.Load(_home.Path), _events);

    private static ClusterSpec Spec(string name = "demo") => new() { Id = Samples.LocalId(name) };

    private string StateRoot => _home.Combine("state");

    private string[] KindCalls(string prefix) =>
        File.Exists(_kindLog) ? File.ReadAllLines(_kindLog).Where(l => l.StartsWith(prefix, StringComparison.Ordinal)).ToArray() : [];

    [Fact]
    public async Task Create_builds_a_running_two_node_cluster_with_its_kubeconfig_in_state()
    {
        using var manager = NewManager();

        var state = await manager.CreateAsync(Spec(), OperationOptions.Default, CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Equal("Kind", state.Distribution);
        Assert.Equal("1.33.1", state.KubernetesVersion);
        Assert.Equal(["demo-control-plane", "demo-worker"], state.Nodes.Select(n => n.Name));
        Assert.Equal([NodeRole.ControlPlane, NodeRole.Worker], state.Nodes.Select(n => n.Role));
        Assert.Equal("kind-demo", state.ContextName);
        Assert.StartsWith("https://127.0.0.1:", state.Endpoint);
        var kubeconfig = KubeconfigFile.Parse(state.Secrets[ClusterState.KubeconfigSecret], "state");
        Assert.Equal("kind-demo", kubeconfig.CurrentContext);
        Assert.Equal("kind-demo", Assert.Single(kubeconfig.Contexts).Name);
        Assert.Equal(state.Endpoint, Assert.Single(kubeconfig.Clusters).ClusterEndpoint.Server);

        // What is persisted is the same.
        var persisted = await manager.Store.ReadAsync(state.Id, CancellationToken.None);
        Assert.Equal(ClusterStatus.Running, persisted!.Status);
        Assert.Equal(state.Secrets[ClusterState.KubeconfigSecret], persisted.Secrets[ClusterState.KubeconfigSecret]);
        Assert.True(File.Exists(Path.Combine(StateRoot, "local", "managed", "demo LOCAL", "state.json")));

        // What kind was asked for: 1 control plane + 1 worker, the default node image, a private kubeconfig path.
        var create = Assert.Single(KindCalls("create cluster"));
        Assert.Contains("--name demo ", create);
        Assert.Contains("--image kindest/node:v1.33.1 ", create);
        Assert.Contains("--wait 5m", create);
        Assert.Contains($"--kubeconfig {_home.Path}/tmp/", create);
        var config = File.ReadAllLines(Path.Combine(_kindState, "clusters", "demo", "config.yaml"));
        Assert.Contains("kind: Cluster", config);
        Assert.Equal(1, config.Count(l => l.Trim() == "- role: control-plane"));
        Assert.Equal(1, config.Count(l => l.Trim() == "- role: worker"));
        Assert.Equal("kindest/node:v1.33.1", File.ReadAllText(Path.Combine(_kindState, "clusters", "demo", "image")).Trim());
        // kind's working folder (config + kubeconfig with keys) does not outlive the step.
        Assert.Empty(Directory.Exists(_home.Combine("tmp")) ? Directory.GetFileSystemEntries(_home.Combine("tmp")) : []);
    }

    [Fact]
    public async Task Create_logs_step_lines_to_the_log_file_without_secrets_and_reports_progress_events()
    {
        using (var manager = NewManager())
            await manager.CreateAsync(Spec(), OperationOptions.Default, CancellationToken.None);

        var log = Assert.Single(Directory.GetFiles(_home.Combine("logs"), "ksctl-*.log"));
        var text = File.ReadAllText(log);
        Assert.Contains("step=kind:cluster: Step kind:cluster started", text);
        Assert.Contains("step=kubeconfig: Step kubeconfig done", text);
        Assert.Contains("Cluster demo (Local/Managed, LOCAL) is running.", text);
        Assert.DoesNotContain("client-key-data", text);
        Assert.DoesNotContain("ZGVtbyBzdGFuZGluIGtleQ", text); // the stand-in's fake key for "demo"
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(log));

        // A second operation appends to the same file.
        var before = File.ReadAllLines(log).Length;
        using (var manager = NewManager())
            await manager.DeleteAsync(Samples.LocalId(), OperationOptions.Default, CancellationToken.None);
        var after = File.ReadAllLines(log);
        Assert.True(after.Length > before);
        Assert.StartsWith(text.Split('\n')[0], after[0]);

        var events = _events.Events.ToList();
        var started = events.Where(e => e.Kind == KsctlEventKind.StepStarted).Select(e => e.Step).ToList();
        Assert.Contains("kind:cluster", started);
        Assert.Contains("kubeconfig", started);
        var completed = events.Where(e => e.Kind == KsctlEventKind.StepCompleted && e.Message.Contains("done") && e.Percent is not null).ToList();
        Assert.Contains(completed, e => e.Step == "kind:cluster" && e.Percent == 50);
        Assert.Contains(completed, e => e.Step == "kubeconfig" && e.Percent == 100);
        Assert.Contains(events, e => e.Kind == KsctlEventKind.Log && e.Message.Contains("Running kind create cluster demo"));
        Assert.DoesNotContain(events, e => e.Message.Contains("client-key-data"));
    }

    [Fact]
    public async Task A_kind_failure_leaves_CreationFailed_with_kinds_error_and_a_rerun_resumes()
    {
        var failOnce = _home.Combine("fail-once");
        File.WriteAllText(failOnce, "");
        _env.Set("KIND_STANDIN_FAIL_CREATE", failOnce);
        using var manager = NewManager();

        var ex = await Assert.ThrowsAsync<PlanFailedException>(() => manager.CreateAsync(Spec(), OperationOptions.Default, CancellationToken.None));

        Assert.Equal("KsctlCreationFailed", ex.ErrorId);
        Assert.Contains("failed to pull image", ex.Message);
        var failed = await manager.Store.ReadAsync(Samples.LocalId(), CancellationToken.None);
        Assert.Equal(ClusterStatus.CreationFailed, failed!.Status);
        Assert.Contains(failed.LastErrors, e => e.Contains("kind:cluster") && e.Contains("ERROR: failed to create cluster: failed to pull image \"kindest/node:v1.33.1\""));
        Assert.Equal(StepOutcome.Failed, failed.Steps["create/kind:cluster"].Outcome);
        Assert.False(failed.Steps.ContainsKey("create/kubeconfig"));
        Assert.False(failed.Secrets.ContainsKey(ClusterState.KubeconfigSecret));

        var state = await manager.CreateAsync(Spec(), OperationOptions.Default, CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Empty(state.LastErrors);
        Assert.Equal(2, KindCalls("create cluster").Length);
        Assert.Single(KindCalls("get kubeconfig"));
        Assert.Equal(2, state.Steps["create/kind:cluster"].Attempts);
        Assert.Equal(1, state.Steps["create/kubeconfig"].Attempts);
        // Resuming with the very same parameters is not "parameters differ".
        Assert.DoesNotContain(_events.Events, e => e.Level == KsctlLogLevel.Warning && e.Message.Contains("differ"));
    }

    private async Task MakeKindClusterOutsideKsctlAsync()
    {
        var config = _home.Combine("left-over.yaml");
        File.WriteAllText(config, "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n");
        var standin = System.Diagnostics.Process.Start(Path.Combine(Samples.StandinsDirectory(), "kind"), ["create", "cluster", "--name", "demo", "--config", config])!;
        await standin.WaitForExitAsync();
        Assert.Equal(0, standin.ExitCode);
    }

    [Fact]
    public async Task A_kind_cluster_left_by_an_interrupted_attempt_is_adopted_not_recreated()
    {
        // An attempt that died after kind created the cluster but before the step's checkpoint: it had recorded that it started.
        await MakeKindClusterOutsideKsctlAsync();
        using var manager = NewManager();
        var spec = manager.Prepare(Spec());
        await manager.Store.WriteAsync(new ClusterState
        {
            Id = spec.Id, Spec = spec, Status = ClusterStatus.CreationFailed,
            Resources = { ["kind:create-started"] = "demo" },
        }, CancellationToken.None);

        var state = await manager.CreateAsync(Spec(), OperationOptions.Default, CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Single(KindCalls("create cluster")); // only the one made above
        Assert.Single(KindCalls("get kubeconfig"));
        Assert.Equal("kind-demo", state.ContextName);
        Assert.Equal(2, state.Nodes.Count);
        Assert.Contains(_events.Events, e => e.Level == KsctlLogLevel.Warning && e.Message.Contains("adopting"));
    }

    [Fact]
    public async Task A_kind_cluster_Ksctl_did_not_start_is_refused_not_adopted()
    {
        await MakeKindClusterOutsideKsctlAsync();
        using var manager = NewManager();

        var error = await Assert.ThrowsAsync<PlanFailedException>(() => manager.CreateAsync(Spec(), OperationOptions.Default, CancellationToken.None));

        var inner = Assert.IsAssignableFrom<KsctlException>(error.InnerException);
        Assert.Equal("KsctlResourceExists", inner.ErrorId);
        Assert.Contains("not created by Ksctl", inner.Message);
        Assert.Single(KindCalls("create cluster")); // only the user's own
        Assert.Empty(KindCalls("get kubeconfig"));
    }

    [Fact]
    public async Task Cancelling_a_create_kills_kind_leaves_CreationFailed_and_a_rerun_completes()
    {
        // kind create waits at a gate that stays shut: only a kill ends it. So the create returning at all, and no kind
        // process of this test left running, prove kind was killed rather than waited for; no clock is involved.
        var gate = _home.Combine("kind-may-finish");
        _env.Set("KIND_STANDIN_CREATE_GATE", gate);
        using var manager = NewManager();
        using var cts = new CancellationTokenSource();

        var create = manager.CreateAsync(Spec(), OperationOptions.Default, cts.Token);
        await Eventually.TrueAsync(() => KindCalls("create cluster").Length > 0 || create.IsCompleted, "kind create to start");
        Assert.Single(KindCalls("create cluster"));
        var kindProcesses = "KIND_STANDIN_LOG=" + _kindLog;
        Assert.NotEmpty(Eventually.ProcessesWithEnvironment(kindProcesses)); // what the check below sees go away
        cts.Cancel(); // Ctrl+C while kind is busy

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => create.WaitAsync(Eventually.Budget));
        await Eventually.TrueAsync(() => Eventually.ProcessesWithEnvironment(kindProcesses).Count == 0, "the cancelled kind to be killed");
        var stopped = await manager.Store.ReadAsync(Samples.LocalId(), CancellationToken.None);
        Assert.Equal(ClusterStatus.CreationFailed, stopped!.Status);
        Assert.Contains(stopped.LastErrors, e => e.Contains("cancelled"));
        File.WriteAllText(gate, ""); // a kind still alive would now finish; none is
        Assert.False(Directory.Exists(Path.Combine(_kindState, "clusters", "demo")), "the killed kind must not have finished");
        Assert.False(File.Exists(Path.Combine(StateRoot, "local", "managed", "demo LOCAL", "lock")), "the lock is released");

        _env.Set("KIND_STANDIN_CREATE_GATE", null);
        var state = await manager.CreateAsync(Spec(), OperationOptions.Default, CancellationToken.None);
        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Equal(2, KindCalls("create cluster").Length);
    }

    [Fact]
    public async Task WhatIf_planning_validates_and_describes_without_touching_anything()
    {
        using var manager = NewManager();

        var (plan, existing) = await manager.PlanCreateAsync(Spec() with { NodeCount = 3 }, CancellationToken.None);

        Assert.Null(existing);
        Assert.Equal(["kind:cluster", "kubeconfig"], plan.Steps.Select(s => s.Name));
        Assert.Equal(["container demo-control-plane", "container demo-worker", "container demo-worker2"], plan["kind:cluster"].Resources);
        Assert.Contains("1 control plane and 2 worker(s) from kindest/node:v1.33.1", plan.Render());
        Assert.False(Directory.Exists(StateRoot));
        Assert.False(File.Exists(_kindLog));
        await Assert.ThrowsAsync<InvalidSpecException>(() => manager.PlanCreateAsync(Spec() with { NodeCount = 51 }, CancellationToken.None));
    }

    [Fact]
    public async Task Resolve_finds_one_cluster_by_name_and_refuses_an_ambiguous_name()
    {
        using var manager = NewManager();
        var local = Samples.State(Samples.LocalId("shared"));
        var azureId = new ClusterId(CloudProvider.Azure, ClusterType.Managed, "shared", "eastus");
        await manager.Store.WriteAsync(local, CancellationToken.None);
        await manager.Store.WriteAsync(Samples.State(azureId), CancellationToken.None);

        var ex = await Assert.ThrowsAsync<KsctlException>(() => manager.ResolveAsync("shared", null, null, null, CancellationToken.None));
        Assert.Equal("KsctlAmbiguousCluster", ex.ErrorId);
        Assert.Contains("Local", ex.Message);
        Assert.Contains("Azure", ex.Message);
        Assert.Equal(azureId, (await manager.ResolveAsync("shared", CloudProvider.Azure, null, null, CancellationToken.None)).Id);
        Assert.Equal(local.Id, (await manager.ResolveAsync("shared", null, null, "local", CancellationToken.None)).Id);
        await Assert.ThrowsAsync<ClusterNotFoundException>(() => manager.ResolveAsync("shar", null, null, null, CancellationToken.None));
    }

    [Fact]
    public async Task Missing_kind_is_reported_before_any_state_exists()
    {
        UseTools("docker");
        using var manager = NewManager();

        var ex = await Assert.ThrowsAsync<PrerequisiteMissingException>(() => manager.CreateAsync(Spec(), OperationOptions.Default, CancellationToken.None));

        Assert.Equal("KsctlPrerequisiteMissing", ex.ErrorId);
        Assert.Equal("kind", ex.Target);
        Assert.Contains("'kind' CLI is not on PATH", ex.Message);
        Assert.False(Directory.Exists(StateRoot), "no state folder may be created");
        Assert.False(File.Exists(_kindLog));
    }

    [Fact]
    public async Task A_stopped_docker_engine_is_reported_as_such()
    {
        _env.Set("DOCKER_STANDIN_DOWN", "1");
        using var manager = NewManager();

        var ex = await Assert.ThrowsAsync<PrerequisiteMissingException>(() => manager.CreateAsync(Spec(), OperationOptions.Default, CancellationToken.None));

        Assert.Equal("docker", ex.Target);
        Assert.Contains("the Docker engine is not running", ex.Message);
        Assert.Contains("Cannot connect to the Docker daemon", ex.Message);
        Assert.NotNull(ex.RecommendedAction);
        Assert.False(Directory.Exists(StateRoot));
        Assert.Empty(KindCalls("create"));
    }

    public static TheoryData<string, Func<ClusterSpec, ClusterSpec>> InvalidSpecs => new()
    {
        { "Name", s => s with { Id = s.Id with { Name = "Bad_Name" } } },
        { "Name", s => s with { Id = s.Id with { Name = "-starts-with-dash" } } },
        { "NodeCount", s => s with { NodeCount = 0 } },
        { "Region", s => s with { Id = s.Id with { Region = "mars" } } },
        { "Type", s => s with { Id = s.Id with { Type = ClusterType.SelfManaged } } },
        { "NodeSize", s => s with { NodeSize = "g4s.kube.small" } },
        { "KubernetesVersion", s => s with { KubernetesVersion = "1.33" } },
        { "KubernetesVersion", s => s with { KubernetesVersion = "latest" } },
        { "WorkerCount", s => s with { WorkerCount = 3 } },
    };

    [Theory]
    [MemberData(nameof(InvalidSpecs))]
    public async Task Invalid_specs_name_the_parameter_and_write_nothing(string parameter, Func<ClusterSpec, ClusterSpec> breakIt)
    {
        using var manager = NewManager();

        var ex = await Assert.ThrowsAsync<InvalidSpecException>(() => manager.CreateAsync(breakIt(Spec()), OperationOptions.Default, CancellationToken.None));

        Assert.Equal(parameter, ex.Parameter);
        Assert.Equal("KsctlInvalidSpec", ex.ErrorId);
        Assert.StartsWith($"Invalid value for -{parameter}:", ex.Message);
        Assert.False(Directory.Exists(StateRoot));
        Assert.False(File.Exists(_kindLog), "no external command may run for an invalid spec");
    }

    [Fact]
    public async Task Delete_removes_the_kind_cluster_and_then_the_state()
    {
        using var manager = NewManager();
        var state = await manager.CreateAsync(Spec(), OperationOptions.Default, CancellationToken.None);
        Assert.True(Directory.Exists(Path.Combine(_kindState, "clusters", "demo")));

        await manager.DeleteAsync(state.Id, OperationOptions.Default, CancellationToken.None);

        Assert.Null(await manager.Store.ReadAsync(state.Id, CancellationToken.None));
        Assert.False(Directory.Exists(Path.Combine(StateRoot, "local")));
        Assert.Equal(["delete cluster --name demo"], KindCalls("delete"));
        Assert.False(Directory.Exists(Path.Combine(_kindState, "clusters", "demo")));
        await Assert.ThrowsAsync<ClusterNotFoundException>(() => manager.GetAsync(state.Id, CancellationToken.None));
    }

    [Fact]
    public async Task Deleting_an_unknown_cluster_is_ClusterNotFound_and_leaves_nothing_behind()
    {
        using var manager = NewManager();

        var ex = await Assert.ThrowsAsync<ClusterNotFoundException>(() => manager.DeleteAsync(Samples.LocalId("ghost"), OperationOptions.Default, CancellationToken.None));

        Assert.Equal("KsctlClusterNotFound", ex.ErrorId);
        Assert.Contains("ghost", ex.Message);
        Assert.False(Directory.Exists(Path.Combine(StateRoot, "local", "managed", "ghost LOCAL")));
        Assert.Empty(KindCalls("delete"));
    }

    [Fact]
    public async Task Creating_a_running_cluster_again_is_not_allowed()
    {
        using var manager = NewManager();
        await manager.CreateAsync(Spec(), OperationOptions.Default, CancellationToken.None);

        var ex = await Assert.ThrowsAsync<OperationNotAllowedException>(() => manager.CreateAsync(Spec(), OperationOptions.Default, CancellationToken.None));

        Assert.Equal("KsctlOperationNotAllowed", ex.ErrorId);
        Assert.Contains("Running", ex.Message);
        Assert.Single(KindCalls("create cluster"));
        Assert.Equal(ClusterStatus.Running, (await manager.GetAsync(Samples.LocalId(), CancellationToken.None)).Status);
    }

    [Fact]
    public async Task A_cluster_locked_by_another_operation_is_refused_untouched()
    {
        using var manager = NewManager();
        var other = new FileStateStore(StateRoot);
        await using (await other.AcquireLockAsync(Samples.LocalId(), "delete", false, CancellationToken.None))
        {
            var ex = await Assert.ThrowsAsync<ClusterLockedException>(() => manager.CreateAsync(Spec(), OperationOptions.Default, CancellationToken.None));
            Assert.Equal("KsctlClusterLocked", ex.ErrorId);
            Assert.Contains("delete since", ex.Holder);
            Assert.Empty(KindCalls("create"));
            Assert.Null(await manager.Store.ReadAsync(Samples.LocalId(), CancellationToken.None));
        }
        // Once released, the same call goes through.
        var state = await manager.CreateAsync(Spec(), OperationOptions.Default, CancellationToken.None);
        Assert.Equal(ClusterStatus.Running, state.Status);
    }

    [Fact]
    public async Task A_create_killed_midway_is_resumed_and_while_it_runs_others_are_told_who_runs_it()
    {
        using var manager = NewManager();
        // What a SIGKILLed create leaves: the document says Creating, and no live process holds the lock.
        var store = new FileStateStore(StateRoot);
        var prepared = manager.Prepare(Spec());
        await store.WriteAsync(new ClusterState { Id = prepared.Id, Spec = prepared, Status = ClusterStatus.Creating }, CancellationToken.None);

        // While a live process holds the lock, every other operation names it instead of a bare "not allowed".
        await using (await store.AcquireLockAsync(prepared.Id, "create", false, CancellationToken.None))
        {
            Assert.Equal(ClusterStatus.Creating, Assert.Single((await manager.ListSummariesAsync(ClusterQuery.All, CancellationToken.None)).Clusters).Status);
            foreach (var attempt in new Func<Task>[]
            {
                () => manager.PlanCreateAsync(Spec(), CancellationToken.None),
                () => manager.PlanDeleteAsync(prepared.Id, CancellationToken.None),
                () => manager.SwitchContextAsync(prepared.Id, null, CancellationToken.None),
                () => manager.CreateAsync(Spec(), OperationOptions.Default, CancellationToken.None),
            })
                Assert.Contains($"pid {Environment.ProcessId}", (await Assert.ThrowsAsync<ClusterLockedException>(attempt)).Holder);
        }

        // Nobody runs it any more: the listing shows it as the failure it is, and the same call resumes it.
        var shown = Assert.Single((await manager.ListSummariesAsync(ClusterQuery.All, CancellationToken.None)).Clusters);
        Assert.Equal(ClusterStatus.CreationFailed, shown.Status);
        Assert.Contains("The create was interrupted", Assert.Single(shown.LastErrors));
        var (_, existing) = await manager.PlanCreateAsync(Spec(), CancellationToken.None);
        Assert.Equal(ClusterStatus.Creating, existing!.Status);
        var state = await manager.CreateAsync(Spec(), OperationOptions.Default, CancellationToken.None);
        Assert.Equal(ClusterStatus.Running, state.Status);

        // The same for a delete killed midway: it resumes.
        state.Status = ClusterStatus.Deleting;
        await store.WriteAsync(state, CancellationToken.None);
        Assert.Throws<OperationNotAllowedException>(() => manager.SwitchContextAsync(state.Id, null, CancellationToken.None).GetAwaiter().GetResult());
        await manager.DeleteAsync(state.Id, OperationOptions.Default, CancellationToken.None);
        Assert.Null(await store.ReadAsync(state.Id, CancellationToken.None));
    }

    [Fact]
    public async Task Switch_merges_the_kubeconfig_into_the_users_file()
    {
        var kubeconfig = _home.Combine("kube", "config");
        _env.Set("KUBECONFIG", kubeconfig);
        using var manager = NewManager();
        var state = await manager.CreateAsync(Spec(), OperationOptions.Default, CancellationToken.None);

        var result = await manager.SwitchContextAsync(state.Id, null, CancellationToken.None);

        Assert.Equal(kubeconfig, result.Path);
        Assert.Equal("kind-demo", result.ContextName);
        Assert.Equal(state.Endpoint, result.Server);
        Assert.Equal("kind-demo", KubeconfigFile.Parse(File.ReadAllText(kubeconfig), kubeconfig).CurrentContext);
    }
}
