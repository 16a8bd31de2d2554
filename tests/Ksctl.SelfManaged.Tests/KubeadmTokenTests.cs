using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Ksctl.Core.Distributions;
using Ksctl.Core.Distributions.Kubeadm;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Remote;
using Ksctl.Core.Storage;

namespace Ksctl.SelfManaged.Tests;

/// <summary>
/// The bootstrap token's expiry is ours (made at creation time + TTL, by our clock). A join that would outlive it
/// first makes a fresh token on control plane 0 and uploads the control-plane certificates again; a join well
/// within it does not.
/// </summary>
public sealed class KubeadmTokenTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_join_near_the_tokens_expiry_refreshes_it_first_and_records_the_new_expiry()
    {
        var (shells, state) = await JoinWorkerAsync(tokenExpiry: Now.AddMinutes(5));

        var scripts = shells.Calls.ToList();
        var refresh = scripts.FindIndex(c => c is { Machine: "cp-0", Name: "kubeadm:refresh-token" });
        var join = scripts.FindIndex(c => c is { Machine: "wp-0", Name: "kubeadm:join-wp-0" });
        Assert.True(refresh >= 0 && join > refresh, string.Join(", ", scripts));
        var token = state.Secrets[KubeadmDistribution.TokenSecret];
        Assert.NotEqual("old123.0123456789abcdef", token);
        Assert.Matches("^[a-z0-9]{6}\\.[a-z0-9]{16}$", token);
        Assert.Equal(Now.AddHours(KubeadmDistribution.TokenTtlHours), DateTimeOffset.Parse(state.Resources[KubeadmDistribution.TokenExpiryResource]));
        // The worker joined with the new token (through its JoinConfiguration file, never the command line).
        Assert.Contains(shells.Uploads, u => u.Machine == "wp-0" && u.Path == KubeadmScripts.JoinConfig && u.Content.Contains(token));
        Assert.DoesNotContain(scripts, c => c.Content.Contains(token));
    }

    [Fact]
    public async Task A_join_well_within_the_tokens_life_does_not_refresh_it()
    {
        var (shells, state) = await JoinWorkerAsync(tokenExpiry: Now.AddMinutes(90));

        Assert.DoesNotContain(shells.Calls, c => c.Name == "kubeadm:refresh-token");
        Assert.Contains(shells.Calls, c => c is { Machine: "wp-0", Name: "kubeadm:join-wp-0" });
        Assert.Equal("old123.0123456789abcdef", state.Secrets[KubeadmDistribution.TokenSecret]);
    }

    private static async Task<(FakeShells Shells, ClusterState State)> JoinWorkerAsync(DateTimeOffset tokenExpiry)
    {
        var spec = new ClusterSpec
        {
            Id = new ClusterId(CloudProvider.BareMetal, ClusterType.SelfManaged, "tok", "lab"),
            KubernetesVersion = "1.33.1", Distribution = DistributionKind.Kubeadm,
            EtcdCount = 3, ControlPlaneCount = 3, WorkerCount = 1,
        };
        var state = new ClusterState
        {
            Id = spec.Id, Spec = spec, Status = ClusterStatus.Configuring,
            Nodes =
            [
                new NodeState { Key = "lb", Name = "tok-vm-lb", Role = NodeRole.LoadBalancer, PublicIP = "10.0.0.1", PrivateIP = "10.0.0.1" },
                new NodeState { Key = "db-0", Name = "tok-vm-db-0", Role = NodeRole.Datastore, PublicIP = "10.0.0.2", PrivateIP = "10.0.0.2" },
                new NodeState { Key = "db-1", Name = "tok-vm-db-1", Role = NodeRole.Datastore, Index = 1, PublicIP = "10.0.0.3", PrivateIP = "10.0.0.3" },
                new NodeState { Key = "db-2", Name = "tok-vm-db-2", Role = NodeRole.Datastore, Index = 2, PublicIP = "10.0.0.4", PrivateIP = "10.0.0.4" },
                new NodeState { Key = "cp-0", Name = "tok-vm-cp-0", Role = NodeRole.ControlPlane, PublicIP = "10.0.0.5", PrivateIP = "10.0.0.5" },
                new NodeState { Key = "wp-0", Name = "tok-vm-wp-0", Role = NodeRole.Worker, PublicIP = "10.0.0.7", PrivateIP = "10.0.0.7" },
            ],
            Secrets =
            {
                [KubeadmDistribution.TokenSecret] = "old123.0123456789abcdef",
                [KubeadmDistribution.CertificateKeySecret] = new string('a', 64),
                [KubeadmDistribution.CaHashSecret] = new string('b', 64),
            },
            Resources = { [KubeadmDistribution.TokenExpiryResource] = tokenExpiry.ToString("O") },
        };
        var shells = new FakeShells();
        await using var access = new MachineAccess(shells, (_, node) => new RemoteMachine { Name = node.Key, Address = node.PublicIP! });
        var distribution = new KubeadmDistribution(new FixedTime(Now));
        var worker = SelfManagedTopology.From(spec).Workers[0];
        var steps = distribution.JoinWorkerSteps(spec, [worker], access)
            .Select(s => new PlanStep(s.Name, s.Run) { DependsOn = s.DependsOn.Where(d => !d.StartsWith("machine:", StringComparison.Ordinal)).ToArray() });
        var result = await new PlanExecutor().ExecuteAsync(new Plan("resize", spec.Id, steps), new StateSession(state, new NullStore()), null, CancellationToken.None);
        Assert.True(result.Succeeded, string.Join("; ", result.Failed));
        return (shells, state);
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private sealed record Call(string Machine, string Name, string Content)
    {
        public override string ToString() => $"{Machine}:{Name}";
    }

    private sealed record Upload(string Machine, string Path, string Content);

    /// <summary>Shells that succeed at everything and record what they were asked to do, in order.</summary>
    private sealed class FakeShells : IRemoteShellFactory
    {
        public ConcurrentQueue<Call> Calls { get; } = new();
        public ConcurrentQueue<Upload> Uploads { get; } = new();

        public Task<IRemoteShell> ConnectAsync(RemoteMachine machine, CancellationToken cancellationToken = default) =>
            Task.FromResult<IRemoteShell>(new Shell(this, machine.DisplayName));

        private sealed class Shell(FakeShells owner, string machine) : IRemoteShell
        {
            public string Machine => machine;
            public string HostKeyFingerprint => "SHA256:fake";
            public bool HostKeyLearned => false;

            public Task<RemoteCommandResult> RunAsync(RemoteScript script, CancellationToken cancellationToken = default)
            {
                owner.Calls.Enqueue(new Call(machine, script.Name, script.Content));
                return Task.FromResult(new RemoteCommandResult { Machine = machine, ScriptName = script.Name });
            }

            public Task UploadAsync(ReadOnlyMemory<byte> content, string remotePath, UnixFileMode mode, CancellationToken cancellationToken = default)
            {
                owner.Uploads.Enqueue(new Upload(machine, remotePath, System.Text.Encoding.UTF8.GetString(content.Span)));
                return Task.CompletedTask;
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }

    private sealed class NullStore : IStateStore
    {
        public string Description => "none";
        public Task<ClusterState?> ReadAsync(ClusterId id, CancellationToken cancellationToken) => Task.FromResult<ClusterState?>(null);
        public Task WriteAsync(ClusterState state, CancellationToken cancellationToken) => Task.CompletedTask;
        public Task DeleteAsync(ClusterId id, CancellationToken cancellationToken) => Task.CompletedTask;
        public async IAsyncEnumerable<ClusterState> ListAsync(ClusterQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.CompletedTask;
            yield break;
        }
        public Task<IClusterLock> AcquireLockAsync(ClusterId id, string operation, bool breakStale, CancellationToken cancellationToken) =>
            throw new NotSupportedException();
    }
}
