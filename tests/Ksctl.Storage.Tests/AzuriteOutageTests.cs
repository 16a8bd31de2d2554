using System.Diagnostics;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Storage;
using Ksctl.Core.Storage.AzureBlob;
using Ksctl.Core.Storage.Protection;
using Ksctl.Storage.Tests.Harness;
using Xunit;

namespace Ksctl.Storage.Tests;

/// <summary>Its own Azurite, persisting to a folder, so it can be stopped and started again with the data kept.</summary>
public sealed class AzuriteOutageTests : IDisposable
{
    private readonly DirectoryInfo _data = Directory.CreateTempSubdirectory("ksctl-azurite-");
    private readonly AzuriteInstance _azurite;

    private readonly Xunit.Abstractions.ITestOutputHelper _log;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public AzuriteOutageTests(Xunit.Abstractions.ITestOutputHelper log)
    {
        _log = log;
        _azurite = AzuriteInstance.Start(_data.FullName);
        Log("started");
    }

    private void Log(string what) => _log.WriteLine($"{_clock.Elapsed.TotalSeconds:0.00}s {what}");

    public void Dispose()
    {
        _azurite.Dispose();
        try { _data.Delete(recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Store_down_mid_operation_fails_fast_with_StateStoreUnavailable_and_works_again_after_restart()
    {
        var key = StateKey.FromBase64(StateKey.Generate());
        var container = TestStates.NewContainer();
        var store = TestStates.Store(_azurite, container, key);
        var id = TestStates.Id();
        var state = TestStates.State(id);

        await using var held = await store.AcquireLockAsync(id, "create", false, default);
        await store.WriteAsync(state, default);
        var written = StateSerializer.Serialize(state);

        Log("written");
        _azurite.Stop();
        Log("stopped");

        state.Status = ClusterStatus.Running;
        var clock = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<StateStoreUnavailableException>(() => store.WriteAsync(state, default));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"took {clock.Elapsed}");
        Assert.Equal("KsctlStateStoreUnavailable", ex.ErrorId);
        Assert.Equal(KsctlErrorCategory.ConnectionError, ex.Category);
        Assert.Contains("cannot be reached", ex.Message);
        Assert.Equal("KsctlStateStoreUnavailable", (await Assert.ThrowsAsync<StateStoreUnavailableException>(() => store.ReadAsync(id, default))).ErrorId);
        await Assert.ThrowsAsync<StateStoreUnavailableException>(async () => await store.ListAsync(ClusterQuery.All, default).ToListAsync());
        await Assert.ThrowsAsync<StateStoreUnavailableException>(() => store.AcquireLockAsync(TestStates.Id("other"), "create", false, default));

        Log("failed fast");
        _azurite.Restart();
        Log("restarted");

        // The stored document is the one written before the outage, and the same store carries on.
        var other = TestStates.Store(_azurite, container, key);
        Assert.Equal(written, StateSerializer.Serialize((await other.ReadAsync(id, default))!));
        await store.WriteAsync(state, default);
        Assert.Equal(ClusterStatus.Running, (await other.ReadAsync(id, default))!.Status);
        Log("done");
    }

    [Fact]
    public async Task A_store_that_stops_answering_times_out_as_StateStoreUnavailable_and_leaves_the_state_unchanged()
    {
        var key = StateKey.FromBase64(StateKey.Generate());
        var container = TestStates.NewContainer();
        var store = (AzureBlobStateStore)AzureBlobStateStore.FromConnectionString(_azurite.ConnectionString, container, new AzureBlobStateStoreOptions
        {
            SecretProtector = key,
            NetworkTimeout = TimeSpan.FromSeconds(1),
            MaxRetries = 1,
        });
        var id = TestStates.Id();
        var state = TestStates.State(id);
        await store.WriteAsync(state, default);
        var written = StateSerializer.Serialize(state);

        _azurite.Pause();
        try
        {
            state.Status = ClusterStatus.Running;
            var clock = Stopwatch.StartNew();
            var ex = await Assert.ThrowsAsync<StateStoreUnavailableException>(() => store.WriteAsync(state, default));
            Log($"timed out after {clock.Elapsed.TotalSeconds:0.0}s: {ex.Message}");
            // Bounded by the store's 1 s network timeout x 2 attempts, not the SDK's 100 s default (or forever): far
            // apart, so a loaded machine cannot make this flake.
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(40), $"took {clock.Elapsed}: the network timeout was not applied");
            Assert.Contains("did not answer within the network timeout", ex.Message);
        }
        finally { _azurite.Resume(); }

        var other = TestStates.Store(_azurite, container, key);
        Assert.Equal(written, StateSerializer.Serialize((await other.ReadAsync(id, default))!));
    }
}
