using System.Net.Http.Headers;
using System.Security.Cryptography;
using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Model;
using Ksctl.Core.Storage.Protection;
using Ksctl.Server.Security;
using Ksctl.Server.Tests.Harness;
using Ksctl.Storage.Tests.Harness;
using Xunit;

namespace Ksctl.Server.Tests;

/// <summary>
/// Three server processes on one AzureBlob store (Azurite): the clusters that opted in are reconciled by whichever
/// replica takes their lease; a replica killed in the middle of a create leaves a lease that lapses (60 s, the store's
/// lease), after which one other replica finishes the create, once.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed partial class ScaleOutTests
{
    [Fact]
    public async Task Three_replicas_share_one_Azurite_store_and_a_killed_replicas_create_is_finished_once_by_another()
    {
        using var azurite = AzuriteInstance.Start();
        var root = Directory.CreateTempSubdirectory("ksctl-scaleout-").FullName;
        var saved = new Dictionary<string, string?>();
        var environment = new Dictionary<string, string?>
        {
            ["KSCTL_STATE_STORE"] = "AzureBlob",
            ["KSCTL_STATE_CONNECTION_STRING"] = azurite.ConnectionString,
            ["KSCTL_STATE_CONTAINER"] = "ksctl-scaleout",
            ["KSCTL_STATE_KEY"] = StateKey.Generate(),
            ["KSCTL_STATE_KEY_FILE"] = null,
            ["KSCTL_STATE_ACCOUNT_URI"] = null,
            ["PATH"] = TestServer.Standins + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH"),
            ["KIND_STANDIN_STATE"] = Path.Combine(root, "kind"),
            ["KIND_STANDIN_LOG"] = Path.Combine(root, "kind.log"),
            ["KIND_STANDIN_CREATE_GATE"] = null,
            ["KIND_STANDIN_FAIL_CREATE"] = null,
            ["KUBECONFIG"] = Path.Combine(root, "kube", "config"),
            ["KSCTL_HOME"] = Path.Combine(root, "test-home"),
        };
        var replicas = new List<ReplicaProcess>();
        try
        {
            foreach (var (k, v) in environment) { saved[k] = Environment.GetEnvironmentVariable(k); Environment.SetEnvironmentVariable(k, v); }
            // Clusters that opted in, created as a cmdlet would (the same store, from this process).
            using var manager = new ClusterManager(KsctlSettings.Load(environment["KSCTL_HOME"]));
            foreach (var name in new[] { "shared-a", "shared-b", "shared-c" })
                await manager.CreateAsync(new ClusterSpec { Id = Local(name), Reconcile = true }, OperationOptions.Default, CancellationToken.None);

            var key = new ApiKeyStore(ApiKeyStore.DefaultPath(Path.Combine(root, "r0")), TimeProvider.System).Create("ci", ApiRole.Operator).Key;
            // Every replica knows the key (as the Deployment mounts one key file into each): any of them can be asked.
            foreach (var other in new[] { "r1", "r2" })
            {
                Directory.CreateDirectory(Path.GetDirectoryName(ApiKeyStore.DefaultPath(Path.Combine(root, other)))!);
                File.Copy(ApiKeyStore.DefaultPath(Path.Combine(root, "r0")), ApiKeyStore.DefaultPath(Path.Combine(root, other)));
            }
            for (var i = 0; i < 3; i++)
            {
                var env = new Dictionary<string, string?>(environment) { ["KSCTL_HOME"] = Path.Combine(root, $"r{i}") };
                // Replica 0's kind never gets past "Creating cluster": it is killed there.
                if (i == 0) env["KIND_STANDIN_CREATE_GATE"] = Path.Combine(root, "gate-never-opened");
                replicas.Add(new ReplicaProcess($"r{i}", env, "--Ksctl:Server:Address=127.0.0.1", "--Ksctl:Server:Port=0", "--Ksctl:Server:ReconcileIntervalSeconds=1"));
            }
            var addresses = await Task.WhenAll(replicas.Select(r => r.ListeningAsync()));

            // Every opted-in cluster gets reconciled (by some replica) and stays healthy and untouched: in each round that
            // the replicas ran (three rounds at least), each cluster was reconciled exactly once, by one of the three.
            await Eventually(async () => (await States(manager, "shared-a", "shared-b", "shared-c")).All(s => s.Reconcile?.LastRoundAt is not null));
            await Eventually(() => Task.FromResult(Rounds(replicas).GroupBy(r => r.Cluster).Count(g => g.Select(r => r.Round).Distinct().Count() >= 3) == 3));
            var rounds = Rounds(replicas);
            Assert.All(rounds.GroupBy(r => (r.Cluster, r.Round)), g => Assert.Single(g));
            Assert.Equal(["shared-a", "shared-b", "shared-c"], rounds.Select(r => r.Cluster).Distinct().Order());
            Assert.DoesNotContain(File.ReadAllLines(environment["KIND_STANDIN_LOG"]!), l => l.StartsWith("delete", StringComparison.Ordinal));

            using var client = Client(addresses[0], replicas[0], key);
            var created = await client.PostAsync("/api/v1/clusters", new StringContent("name: moved\nprovider: Local\nreconcile: true\n", null, "application/yaml"));
            Assert.Equal(System.Net.HttpStatusCode.Accepted, created.StatusCode);
            await Eventually(() => Task.FromResult(File.ReadAllLines(environment["KIND_STANDIN_LOG"]!).Any(l => l.StartsWith("create cluster --name moved", StringComparison.Ordinal))));
            Assert.Equal(ClusterStatus.Creating, (await manager.GetAsync(Local("moved"), CancellationToken.None)).Status);
            // The operation replica 0 runs is answered by the others, from the shared store.
            var operationId = System.Text.Json.Nodes.JsonNode.Parse(await created.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
            using (var other = Client(addresses[1], replicas[1], key))
            {
                var elsewhere = System.Text.Json.Nodes.JsonNode.Parse(await other.GetStringAsync($"/api/v1/operations/{operationId}"))!;
                Assert.Equal(("create", "Running", "moved"), (elsewhere["kind"]!.GetValue<string>(), elsewhere["status"]!.GetValue<string>(), elsewhere["cluster"]!["name"]!.GetValue<string>()));
            }
            replicas[0].Kill();

            // After the lease lapses one of the others resumes the create and finishes it.
            await Eventually(async () => (await manager.Store.ReadAsync(Local("moved"), CancellationToken.None))?.Status == ClusterStatus.Running, TimeSpan.FromMinutes(4));
            var moved = await manager.GetAsync(Local("moved"), CancellationToken.None);
            Assert.Equal(StepOutcome.Done, moved.Steps["create/kind:cluster"].Outcome);
            Assert.Contains(moved.Reconcile!.Log, l => l.Contains("resuming CreationFailed (interrupted Creating)", StringComparison.Ordinal));
            var creates = File.ReadAllLines(environment["KIND_STANDIN_LOG"]!).Count(l => l.StartsWith("create cluster --name moved", StringComparison.Ordinal));
            Assert.Equal(2, creates); // the killed attempt and the one that finished
            Assert.Single(Directory.GetFileSystemEntries(Path.Combine(root, "kind", "clusters")), e => Path.GetFileName(e).StartsWith("moved", StringComparison.Ordinal));
            // The replica that resumed it logs the outcome once its round records it (just after the state turns Running).
            bool ResumedIt(ReplicaProcess r) => r.Output.Contains("Reconcile moved (Local/Managed, LOCAL): ResumeCreate -> Done", StringComparison.Ordinal);
            await Eventually(() => Task.FromResult(replicas.Skip(1).Any(ResumedIt)));
            Assert.Single(replicas.Skip(1), ResumedIt);

            // The resume is an operation of the reconciler's, recorded once; the replica that did not run it lists it and
            // streams its events (replayed from the store) to the end.
            var resumer = replicas.IndexOf(replicas.Skip(1).Single(ResumedIt));
            var follower = resumer == 1 ? 2 : 1;
            using var followerClient = Client(addresses[follower], replicas[follower], key);
            var listed = System.Text.Json.Nodes.JsonNode.Parse(await followerClient.GetStringAsync("/api/v1/clusters/moved/operations"))!.AsArray();
            var byReconciler = listed.Where(o => o!["requestedBy"]!.GetValue<string>() == "reconciler").ToList();
            var resumed = Assert.Single(byReconciler, o => o!["status"]!.GetValue<string>() == "Succeeded")!;
            Assert.Equal("create", resumed["kind"]!.GetValue<string>());
            // Another replica may have decided the same resume in a later round while this one's create held the lock:
            // its operation found the lock taken and did nothing (the kind log above counts the creates).
            Assert.All(byReconciler.Where(o => o != resumed), o => Assert.Equal("KsctlClusterLocked", o!["errors"]![0]!["errorId"]!.GetValue<string>()));
            var events = await Sse.ReadAllAsync(followerClient, $"/api/v1/operations/{resumed["id"]!.GetValue<string>()}/events");
            Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Data["sequence"]!.GetValue<long>()));
            Assert.Equal(("End", "Succeeded"), (events[^1].Event, events[^1].Data["status"]!.GetValue<string>()));
            Assert.Contains(events, e => e.Event == "StepCompleted" && e.Data["step"]!.GetValue<string>() == "kind:cluster");
        }
        finally
        {
            foreach (var r in replicas) r.Dispose();
            foreach (var (k, v) in saved) Environment.SetEnvironmentVariable(k, v);
            try { Directory.Delete(root, true); } catch (IOException) { }
        }
    }

    private static ClusterId Local(string name) => new(CloudProvider.Local, ClusterType.Managed, name, "LOCAL");

    /// <summary>
    /// Every reconciliation of the shared clusters the replicas logged: which cluster, in which round. A replica that
    /// found the cluster's lock held by another ("Locked": someone else has it) did not reconcile it.
    /// </summary>
    private static List<(string Cluster, long Round)> Rounds(IEnumerable<ReplicaProcess> replicas) =>
        replicas.SelectMany(r => RoundLine().Matches(r.Output)).Where(m => m.Groups[2].Value != "Locked")
            .Select(m => (m.Groups[1].Value, long.Parse(m.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture))).ToList();

    [System.Text.RegularExpressions.GeneratedRegex(@"Reconcile (shared-[abc]) \(Local/Managed, LOCAL\): \w+ -> (\w+) \(.*?\) in round (\d+)")]
    private static partial System.Text.RegularExpressions.Regex RoundLine();

    private static async Task<List<ClusterState>> States(ClusterManager manager, params string[] names)
    {
        var states = new List<ClusterState>();
        foreach (var n in names) states.Add((await manager.Store.ReadAsync(Local(n), CancellationToken.None))!);
        return states;
    }

    private static HttpClient Client(Uri address, ReplicaProcess replica, string key)
    {
        var printed = replica.Output.Split('\n').First(l => l.StartsWith("TLS certificate SHA-256 fingerprint: ", StringComparison.Ordinal)).Split(": ")[1].Trim();
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, cert, _, _) =>
                cert is not null && string.Join(':', cert.GetCertHash(HashAlgorithmName.SHA256).Select(b => b.ToString("X2"))) == printed,
        };
        var client = new HttpClient(handler) { BaseAddress = address };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    /// <summary>Re-checks after each short pause until true; fails at the deadline (generous: the machine is shared).</summary>
    private static async Task Eventually(Func<Task<bool>> condition, TimeSpan? deadline = null)
    {
        var until = DateTime.UtcNow + (deadline ?? TimeSpan.FromMinutes(2));
        while (!await condition())
        {
            if (DateTime.UtcNow > until) throw new TimeoutException("The condition did not become true before the deadline.");
            await Task.Delay(200);
        }
    }
}
