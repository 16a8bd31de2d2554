using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;

namespace Ksctl.SelfManaged.Tests.SharedClusters;

/// <summary>
/// One HA cluster (1 LB, 3 etcd, 3 control planes, 2 workers on the HA machines) created once for the tests of one
/// class, instead of once per test: creating one costs tens of seconds, and the tests that only read it do not need
/// their own. The class's last tests resize and remove it (<see cref="ByOrderAttribute"/>); whatever a failed test
/// left is removed when the class is done, so the next class gets clean machines.
/// </summary>
public abstract class SharedClusterFixture(HaMachinesFixture machines) : IAsyncLifetime
{
    public static readonly OperationOptions Options = new() { ConnectDeadline = TimeSpan.FromSeconds(20) };

    public HaMachinesFixture Machines { get; } = machines;
    public string Home { get; } = Directory.CreateTempSubdirectory("ksctl-shared-cluster-").FullName;
    /// <summary>When the create began (Unix seconds, minus one): files on the machines newer than this are the cluster's.</summary>
    public long Started { get; private set; }
    public ClusterState Created { get; private set; } = null!;
    /// <summary>Why the create failed, for every test of the class to report (instead of a fixture error without context).</summary>
    public Exception? CreateError { get; private set; }

    protected abstract ClusterSpec Spec();

    /// <summary>Clears the stand-ins' records of earlier tests on these machines before the create.</summary>
    protected virtual Task BeforeCreateAsync() => Task.CompletedTask;

    public ClusterManager NewManager(IProgress<Ksctl.Core.Diagnostics.KsctlEvent>? events = null) => new(KsctlSettings.Load(Home), events);

    public ClusterSpec TheSpec => Spec();

    /// <summary>The created cluster, or the create's failure as this test's failure.</summary>
    public ClusterState Cluster => CreateError is null ? Created : throw new InvalidOperationException("The shared cluster was not created: " + CreateError.Message, CreateError);

    public async Task InitializeAsync()
    {
        await BeforeCreateAsync();
        Started = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 1;
        try
        {
            using var manager = NewManager();
            Created = await manager.CreateAsync(Spec(), Options, CancellationToken.None);
        }
        catch (Exception ex)
        {
            CreateError = ex;
        }
    }

    /// <summary>Whatever is left of the cluster (a failed test) goes, so the next class starts on clean machines.</summary>
    public Task DisposeAsync()
    {
        using (var manager = NewManager())
        {
            foreach (var cluster in manager.ListAsync(Ksctl.Core.Storage.ClusterQuery.All, CancellationToken.None).ToBlockingEnumerable().ToList())
            {
                try { manager.DeleteAsync(cluster.Id, Options with { BreakStaleLock = true }, CancellationToken.None).GetAwaiter().GetResult(); }
                catch (KsctlException) { /* a test already failed; the next fixture start resets the machines */ }
            }
        }
        try { Directory.Delete(Home, true); } catch (IOException) { }
        return Task.CompletedTask;
    }
}
