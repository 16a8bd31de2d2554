using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Providers;
using Ksctl.Core.Reconcile;
using Ksctl.Server.Security;
using Ksctl.Server.Tests.Harness;
using Xunit;

namespace Ksctl.Server.Tests;

/// <summary>Core's reconciler (ClusterReconciler) on a real file store with the kind stand-in, time moved by hand.</summary>
[Collection(ServerCollection.Name)]
public sealed class ReconcilerTests
{
    private static readonly ClusterId Id = new(CloudProvider.Local, ClusterType.Managed, "rec", "LOCAL");
    private static readonly ReconcilePolicy Policy = new() { FirstBackoff = TimeSpan.FromMinutes(1), MaxBackoff = TimeSpan.FromMinutes(4), MaxAttempts = 3 };

    private static int Creates(TestServer server) => server.KindCalls().Count(c => c.StartsWith("create cluster --name rec", StringComparison.Ordinal));

    [Fact]
    public async Task Failed_create_is_resumed_with_doubling_backoff_then_given_up_and_resumed_again_when_turned_back_on()
    {
        await using var server = await TestServer.StartAsync();
        Environment.SetEnvironmentVariable("KIND_STANDIN_FAIL_CREATE", "always");
        using var manager = new ClusterManager(KsctlSettings.Load(server.Home));
        await Assert.ThrowsAsync<PlanFailedException>(() => manager.CreateAsync(new ClusterSpec { Id = Id, Reconcile = true }, OperationOptions.Default, CancellationToken.None));
        var clock = new ManualClock(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var reconciler = new ClusterReconciler(manager, clock, Policy);

        async Task<ReconcileOutcome> Round() => Assert.Single(await reconciler.RunRoundAsync(CancellationToken.None));
        async Task<ClusterState> State() => (await manager.Store.ReadAsync(Id, CancellationToken.None))!;

        var first = await Round();
        Assert.Equal((ReconcileAction.ResumeCreate, "Failed"), (first.Action, first.Result));
        Assert.Equal(2, Creates(server));
        Assert.Equal(1, (await State()).Reconcile!.Attempts);
        Assert.Equal(clock.GetUtcNow().AddMinutes(1), (await State()).Reconcile!.NextAttemptAt);

        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal("Waiting", (await Round()).Result);
        Assert.Equal(2, Creates(server));

        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal("Failed", (await Round()).Result);
        var afterSecond = (await State()).Reconcile!;
        Assert.Equal(clock.GetUtcNow().AddMinutes(2), afterSecond.NextAttemptAt);

        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal("Failed", (await Round()).Result);
        Assert.Equal(clock.GetUtcNow().AddMinutes(4), (await State()).Reconcile!.NextAttemptAt);
        Assert.Equal(4, Creates(server));

        clock.Advance(TimeSpan.FromMinutes(4));
        var gaveUp = await Round();
        Assert.Equal((ReconcileAction.GiveUp, "GaveUp"), (gaveUp.Action, gaveUp.Result));
        var state = await State();
        Assert.Equal(ClusterStatus.CreationFailed, state.Status);
        Assert.Equal("GaveUp", state.Reconcile!.State);
        Assert.Contains(state.LastErrors, e => e.Contains("gave up after 3 failed attempt(s)", StringComparison.Ordinal));
        Assert.Contains(state.Reconcile.Log, l => l.Contains("gave up", StringComparison.Ordinal));

        clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal("Nothing", (await Round()).Result);
        Assert.Equal(4, Creates(server));

        // The cause is fixed and reconciliation turned on again (as PUT .../reconcile does): it resumes at once.
        Environment.SetEnvironmentVariable("KIND_STANDIN_FAIL_CREATE", null);
        await manager.SetReconcileAsync(Id, true, CancellationToken.None);
        Assert.Equal("Done", (await Round()).Result);
        state = await State();
        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Equal(0, state.Reconcile!.Attempts);
        Assert.Equal(5, Creates(server));
    }

    [Fact]
    public async Task Running_cluster_is_health_checked_Degraded_with_reasons_and_a_locked_one_is_left_to_its_holder()
    {
        await using var server = await TestServer.StartAsync();
        using var manager = new ClusterManager(KsctlSettings.Load(server.Home));
        await manager.CreateAsync(new ClusterSpec { Id = Id, Reconcile = true }, OperationOptions.Default, CancellationToken.None);
        var clock = new ManualClock(DateTimeOffset.UnixEpoch.AddYears(56));
        var healthy = true;
        var probe = new DelegateHealthProbe((s, _) => Task.FromResult<IReadOnlyList<HealthFinding>>(
            [new HealthFinding("api", true), new HealthFinding("nodes", healthy, healthy ? null : "rec-worker is NotReady")]));
        var reconciler = new ClusterReconciler(manager, clock, Policy, probe);

        var outcome = await reconciler.ReconcileAsync(Id, CancellationToken.None);
        Assert.Equal((ReconcileAction.CheckHealth, "Healthy"), (outcome.Action, outcome.Result));
        healthy = false;
        outcome = await reconciler.ReconcileAsync(Id, CancellationToken.None);
        Assert.Equal("Degraded", outcome.Result);
        var state = (await manager.Store.ReadAsync(Id, CancellationToken.None))!;
        Assert.Equal(["nodes: rec-worker is NotReady"], state.Reconcile!.HealthReasons);

        using var api = await server.ApiAsync(ApiRole.Reader);
        var summary = (await api.GetAsync("/api/v1/clusters/rec")).Json;
        Assert.Equal("Degraded", summary["health"]!.GetValue<string>());
        Assert.Equal("nodes: rec-worker is NotReady", summary["healthReasons"]![0]!.GetValue<string>());

        await using (await manager.Store.AcquireLockAsync(Id, "delete", false, CancellationToken.None))
        {
            var locked = await reconciler.ReconcileAsync(Id, CancellationToken.None);
            Assert.Equal("Locked", locked.Result);
            Assert.Contains("delete", locked.Detail);
        }
    }

    [Fact]
    public void Decisions_resume_interrupted_operations_and_resize_a_self_managed_cluster_to_its_desired_workers()
    {
        var id = new ClusterId(CloudProvider.BareMetal, ClusterType.SelfManaged, "sm", "lab");
        var state = new ClusterState { Id = id, Spec = new ClusterSpec { Id = id, WorkerCount = 3, Reconcile = true }, Status = ClusterStatus.Running };
        state.Nodes.Add(new NodeState { Name = "w0", Key = "worker-0", Role = NodeRole.Worker, Index = 0 });
        var now = DateTimeOffset.UnixEpoch;
        var decision = ReconcileDecision.Decide(state, now, Policy);
        Assert.Equal((ReconcileAction.ResizeToDesired, 3), (decision.Action, decision.WorkerCount));
        Assert.Equal(["workers: 1 recorded, 3 desired"], ReconcileDecision.Drift(state));

        state.Status = ClusterStatus.Creating; // left by a killed process: nobody holds the lock
        Assert.Equal(ReconcileAction.ResumeCreate, ReconcileDecision.Decide(state, now, Policy).Action);
        state.Status = ClusterStatus.Deleting;
        Assert.Equal(ReconcileAction.ResumeDelete, ReconcileDecision.Decide(state, now, Policy).Action);
        state.Status = ClusterStatus.ConfiguringFailed;
        Assert.Equal((ReconcileAction.ResumeResize, 3), (ReconcileDecision.Decide(state, now, Policy).Action, ReconcileDecision.Decide(state, now, Policy).WorkerCount));

        Assert.Equal([1, 2, 4, 4, 4], Enumerable.Range(1, 5).Select(a => (int)Policy.BackoffAfter(a).TotalMinutes));
    }

    [Fact]
    public void Repair_replaces_only_lost_workers_resumes_a_failed_replacement_and_believes_no_inventory_without_the_control_planes()
    {
        var id = new ClusterId(CloudProvider.Civo, ClusterType.SelfManaged, "sm", "LON1");
        var state = new ClusterState { Id = id, Spec = new ClusterSpec { Id = id, WorkerCount = 2, Reconcile = true, Repair = true }, Status = ClusterStatus.Running };
        foreach (var (role, key) in new[] { (NodeRole.LoadBalancer, "lb"), (NodeRole.ControlPlane, "cp-0"), (NodeRole.Worker, "wp-0"), (NodeRole.Worker, "wp-1") })
            state.Nodes.Add(new NodeState { Name = $"sm-vm-{key}", Key = key, Role = role, Index = key.EndsWith('1') ? 1 : 0, ResourceId = $"id-{key}" });
        LiveMachine Live(string key) => new($"sm-vm-{key}", $"id-{key}", "ACTIVE");
        var now = DateTimeOffset.UnixEpoch;

        // Matched by id or name; a stopped machine is not lost.
        Assert.Empty(LostWorkers.Find(state, [Live("lb"), Live("cp-0"), Live("wp-0"), Live("wp-1") with { State = "SHUTOFF" }]).Keys);
        var lost = LostWorkers.Find(state, [Live("lb"), Live("cp-0"), Live("wp-1")]);
        Assert.Equal(["wp-0"], lost.Keys);
        var decision = ReconcileDecision.Decide(state, now, Policy, lost.Keys);
        Assert.Equal(ReconcileAction.ReplaceWorkers, decision.Action);
        Assert.Equal(["wp-0"], decision.Workers!);
        // Without the opt-in the same loss is only reported.
        state.Spec = state.Spec with { Repair = false };
        Assert.Equal(ReconcileAction.CheckHealth, ReconcileDecision.Decide(state, now, Policy, lost.Keys).Action);
        state.Spec = state.Spec with { Repair = true };

        // An inventory without the load balancer or a control plane (the wrong account, an outage) replaces nothing.
        var withheld = LostWorkers.Find(state, [Live("wp-1")]);
        Assert.Empty(withheld.Keys);
        Assert.Contains("lb, cp-0", withheld.Withheld);

        // A failed replacement is resumed for the same workers, with backoff, and given up like any resume.
        state.Status = ClusterStatus.ConfiguringFailed;
        state.Reconcile = new ReconcileStatus { Replacing = ["wp-0"] };
        var resume = ReconcileDecision.Decide(state, now, Policy);
        Assert.Equal(ReconcileAction.ResumeReplace, resume.Action);
        Assert.Equal(["wp-0"], resume.Workers!);
        state.Reconcile.Attempts = 1;
        state.Reconcile.NextAttemptAt = now.AddMinutes(1);
        Assert.Equal(ReconcileAction.Wait, ReconcileDecision.Decide(state, now, Policy).Action);
        state.Reconcile.Attempts = Policy.MaxAttempts;
        Assert.Equal(ReconcileAction.GiveUp, ReconcileDecision.Decide(state, now.AddHours(1), Policy).Action);
    }

    [Fact]
    public async Task Repair_is_refused_where_no_cloud_makes_the_machines_and_without_reconcile_naming_Repair()
    {
        Assert.Equal("Repair", Assert.Throws<InvalidSpecException>(() => SpecFile.Parse("name: a\nprovider: Local\nreconcile: true\nrepair: true\n", "test").ToClusterSpec(_ => "LOCAL")).Parameter);
        Assert.Equal("Repair", Assert.Throws<InvalidSpecException>(() => SpecFile.Parse("name: a\nprovider: Civo\ntype: SelfManaged\nrepair: true\n", "test").ToClusterSpec(_ => "LON1")).Parameter);
        Assert.True(SpecFile.Parse("name: a\nprovider: Civo\ntype: SelfManaged\nreconcile: true\nrepair: true\n", "test").ToClusterSpec(_ => "LON1").Repair);

        await using var server = await TestServer.StartAsync();
        using var op = await server.ApiAsync(ApiRole.Operator);
        var refused = await op.PostAsync("/api/v1/clusters", "name: rep\nprovider: Local\nreconcile: true\nrepair: true\n", "application/yaml");
        Assert.Equal(400, refused.Status);
        Assert.Equal("KsctlInvalidSpec", refused.Json["errorId"]!.GetValue<string>());
        Assert.Contains("repair", refused.Json["detail"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
        Assert.Null(await new ClusterManager(KsctlSettings.Load(server.Home)).Store.ReadAsync(new ClusterId(CloudProvider.Local, ClusterType.Managed, "rep", "LOCAL"), CancellationToken.None));
    }

    [Fact]
    public async Task Reconcile_is_turned_on_through_the_API_by_an_operator_only()
    {
        await using var server = await TestServer.StartAsync();
        using var op = await server.ApiAsync(ApiRole.Operator);
        using var reader = await server.ApiAsync(ApiRole.Reader);
        var created = await op.PostAsync("/api/v1/clusters", "name: rec\nprovider: Local\nreconcile: false\n", "application/yaml");
        await Sse.ReadAllAsync(op.Http, created.Location + "/events");
        Assert.False((await reader.GetAsync("/api/v1/clusters/rec")).Json["reconcile"]!.GetValue<bool>());
        Assert.Equal(403, (await reader.SendAsync(HttpMethod.Put, "/api/v1/clusters/rec/reconcile", Json("""{"enabled":true}"""))).Status);
        var set = await op.SendAsync(HttpMethod.Put, "/api/v1/clusters/rec/reconcile", Json("""{"enabled":true}"""));
        Assert.Equal(200, set.Status);
        Assert.True(set.Json["reconcile"]!.GetValue<bool>());
        Assert.True((await reader.GetAsync("/api/v1/clusters/rec")).Json["reconcile"]!.GetValue<bool>());
    }

    private static StringContent Json(string body) => new(body, System.Text.Encoding.UTF8, "application/json");
}
