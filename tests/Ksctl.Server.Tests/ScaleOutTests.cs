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
public sealed class ScaleOutTests
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
            for (var i = 0; i < 3; i++)
            {
                var env = new Dictionary<string, string?>(environment) { ["KSCTL_HOME"] = Path.Combine(root, $"r{i}") };
                // Replica 0's kind never gets past "Creating cluster": it is killed there.
                if (i == 0) env["KIND_STANDIN_CREATE_GATE"] = Path.Combine(root, "gate-never-opened");
                replicas.Add(new ReplicaProcess($"r{i}", env, "--Ksctl:Server:Address=127.0.0.1", "--Ksctl:Server:Port=0", "--Ksctl:Server:ReconcileIntervalSeconds=1"));
            }
            var addresses = await Task.WhenAll(replicas.Select(r => r.ListeningAsync()));

            // Every opted-in cluster gets reconciled (by some replica) and stays healthy and untouched.
            await Eventually(async () => (await States(manager, "shared-a", "shared-b", "shared-c")).All(s => s.Reconcile?.LastRoundAt is not null));
            Assert.DoesNotContain(File.ReadAllLines(environment["KIND_STANDIN_LOG"]!), l => l.StartsWith("delete", StringComparison.Ordinal));

            using var client = Client(addresses[0], replicas[0], key);
            var created = await client.PostAsync("/api/v1/clusters", new StringContent("name: moved\nprovider: Local\nreconcile: true\n", null, "application/yaml"));
            Assert.Equal(System.Net.HttpStatusCode.Accepted, created.StatusCode);
            await Eventually(() => Task.FromResult(File.ReadAllLines(environment["KIND_STANDIN_LOG"]!).Any(l => l.StartsWith("create cluster --name moved", StringComparison.Ordinal))));
            Assert.Equal(ClusterStatus.Creating, (await manager.GetAsync(Local("moved"), CancellationToken.None)).Status);
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
        }
        finally
        {
            foreach (var r in replicas) r.Dispose();
            foreach (var (k, v) in saved) Environment.SetEnvironmentVariable(k, v);
            try { Directory.Delete(root, true); } catch (IOException) { }
        }
    }

    private static ClusterId Local(string name) => new(CloudProvider.Local, ClusterType.Managed, name, "LOCAL");

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
