using System.Text;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Storage;

namespace Ksctl.Core.Tests.Storage;

public class FileStateStoreTests : IDisposable
{
    private const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode PrivateFolder = PrivateFile | UnixFileMode.UserExecute;
    private readonly TempDir _dir = new("ksctl-store");
    private readonly FileStateStore _store;

    public FileStateStoreTests() => _store = new FileStateStore(_dir.Combine("state"));

    public void Dispose() => _dir.Dispose();

    private static ClusterState Rich(ClusterId id)
    {
        var s = Samples.State(id);
        s.Status = ClusterStatus.Running;
        s.Distribution = "K3s";
        s.KubernetesVersion = "1.33.1";
        s.Endpoint = "https://10.0.0.4:6443";
        s.ContextName = id.DefaultContextName;
        s.Nodes.Add(new NodeState { Name = "cp-0", Role = NodeRole.ControlPlane, PublicIP = "10.0.0.5", ResourceId = "vm-123" });
        s.Resources["network"] = "net-1";
        s.Secrets[ClusterState.KubeconfigSecret] = Samples.K3sKubeconfig;
        s.Steps["create/network"] = new StepRecord { Outcome = StepOutcome.Done, Attempts = 2, Error = "first try: 429" };
        s.LastErrors.Add("earlier");
        return s;
    }

    [Fact]
    public async Task Write_then_read_round_trips_the_whole_document()
    {
        var id = new ClusterId(CloudProvider.Azure, ClusterType.SelfManaged, "prod", "eastus");
        var written = Rich(id);

        await _store.WriteAsync(written, CancellationToken.None);
        var read = await _store.ReadAsync(id, CancellationToken.None);

        Assert.NotNull(read);
        Assert.Equal(Encoding.UTF8.GetString(StateSerializer.Serialize(written)), Encoding.UTF8.GetString(StateSerializer.Serialize(read!)));
        Assert.Equal(id, read!.Id);
        Assert.Equal(ClusterStatus.Running, read.Status);
        Assert.Equal("vm-123", read.Nodes.Single().ResourceId);
        Assert.Equal(2, read.Steps["create/network"].Attempts);
        Assert.Equal(Samples.K3sKubeconfig, read.Secrets[ClusterState.KubeconfigSecret]);
    }

    [Fact]
    public async Task Reading_a_missing_cluster_returns_null()
    {
        Assert.Null(await _store.ReadAsync(Samples.LocalId("nope"), CancellationToken.None));
    }

    [Fact]
    public async Task Documents_live_at_provider_type_name_region_with_private_modes()
    {
        var id = new ClusterId(CloudProvider.Civo, ClusterType.Managed, "web", "LON1");
        await _store.WriteAsync(Rich(id), CancellationToken.None);

        var expected = Path.Combine(_dir.Path, "state", "civo", "managed", "web LON1", "state.json");
        Assert.Equal(expected, _store.DocumentPath(id));
        Assert.True(File.Exists(expected));
        Assert.Equal(["state.json"], Directory.GetFiles(Path.GetDirectoryName(expected)!).Select(Path.GetFileName));
        if (OperatingSystem.IsWindows()) return;
        Assert.Equal(PrivateFile, File.GetUnixFileMode(expected));
        foreach (var folder in new[] { "state", "state/civo", "state/civo/managed", "state/civo/managed/web LON1" })
            Assert.Equal(PrivateFolder, File.GetUnixFileMode(_dir.Combine(folder)));

        var selfManaged = new ClusterId(CloudProvider.Aws, ClusterType.SelfManaged, "ha", "us-east-1");
        await _store.WriteAsync(Rich(selfManaged), CancellationToken.None);
        Assert.True(File.Exists(_dir.Combine("state", "aws", "selfmanaged", "ha us-east-1", "state.json")));
    }

    [Fact]
    public async Task A_newer_schema_is_refused_and_left_untouched()
    {
        var id = Samples.LocalId("future");
        await _store.WriteAsync(Rich(id), CancellationToken.None);
        var path = _store.DocumentPath(id);
        var future = File.ReadAllText(path).Replace("\"schemaVersion\": 1", "\"schemaVersion\": 99");
        Assert.Contains("\"schemaVersion\": 99", future);
        File.WriteAllText(path, future);

        var ex = await Assert.ThrowsAsync<StateSchemaException>(() => _store.ReadAsync(id, CancellationToken.None));
        Assert.Equal("KsctlStateSchemaUnsupported", ex.ErrorId);
        Assert.Contains("99", ex.Message);

        // Listing reports it too rather than skipping it silently, and the file is still the future one.
        await Assert.ThrowsAsync<StateSchemaException>(async () => { await foreach (var _ in _store.ListAsync(ClusterQuery.All, CancellationToken.None)) { } });
        Assert.Equal(future, File.ReadAllText(path));
    }

    [Fact]
    public async Task A_corrupt_document_gives_StateCorruptException_naming_the_file()
    {
        var id = Samples.LocalId("broken");
        await _store.WriteAsync(Rich(id), CancellationToken.None);
        var path = _store.DocumentPath(id);
        File.WriteAllText(path, "{ \"schemaVersion\": 1, \"id\": { \"name\": ");

        var ex = await Assert.ThrowsAsync<StateCorruptException>(() => _store.ReadAsync(id, CancellationToken.None));
        Assert.Equal("KsctlStateCorrupt", ex.ErrorId);
        Assert.Contains(path, ex.Message);

        foreach (var notAnObject in new[] { "[]", "42", "\"text\"", "" })
        {
            File.WriteAllText(path, notAnObject);
            var wrongShape = await Assert.ThrowsAsync<StateCorruptException>(() => _store.ReadAsync(id, CancellationToken.None));
            Assert.Contains(path, wrongShape.Message);
        }

        File.WriteAllText(path, "{ \"id\": {} }");
        var noVersion = await Assert.ThrowsAsync<StateCorruptException>(() => _store.ReadAsync(id, CancellationToken.None));
        Assert.Contains("schemaVersion", noVersion.Message);
    }

    [Fact]
    public async Task List_filters_by_provider_type_region_and_name()
    {
        ClusterId[] ids =
        [
            new(CloudProvider.Local, ClusterType.Managed, "alpha", "LOCAL"),
            new(CloudProvider.Local, ClusterType.Managed, "beta", "LOCAL"),
            new(CloudProvider.Azure, ClusterType.Managed, "alpha", "eastus"),
            new(CloudProvider.Azure, ClusterType.SelfManaged, "gamma", "westeurope"),
            new(CloudProvider.Civo, ClusterType.SelfManaged, "alpha", "LON1"),
        ];
        foreach (var id in ids) await _store.WriteAsync(Rich(id), CancellationToken.None);
        // A folder with only a lock (an operation that never checkpointed) is not a cluster.
        await using (await _store.AcquireLockAsync(Samples.LocalId("locked-only"), "create", false, CancellationToken.None))
        {
            async Task<List<ClusterId>> List(ClusterQuery q)
            {
                var found = new List<ClusterId>();
                await foreach (var s in _store.ListAsync(q, CancellationToken.None)) found.Add(s.Id);
                return found;
            }

            Assert.Equal(ids.ToHashSet(), (await List(ClusterQuery.All)).ToHashSet());
            Assert.Equal(ids.Where(i => i.Provider == CloudProvider.Azure).ToHashSet(), (await List(new ClusterQuery { Provider = CloudProvider.Azure })).ToHashSet());
            Assert.Equal(ids.Where(i => i.Type == ClusterType.SelfManaged).ToHashSet(), (await List(new ClusterQuery { Type = ClusterType.SelfManaged })).ToHashSet());
            Assert.Equal([ids[2]], await List(new ClusterQuery { Region = "EASTUS" }));
            Assert.Equal(ids.Where(i => i.Name == "alpha").ToHashSet(), (await List(new ClusterQuery { NameMatches = n => n == "alpha" })).ToHashSet());
            Assert.Equal([ids[4]], await List(new ClusterQuery { Provider = CloudProvider.Civo, Type = ClusterType.SelfManaged, NameMatches = n => n.StartsWith('a') }));
            Assert.Empty(await List(new ClusterQuery { Provider = CloudProvider.Aws }));
        }
    }

    [Fact]
    public async Task Listing_an_empty_or_missing_root_yields_nothing()
    {
        await foreach (var _ in new FileStateStore(_dir.Combine("does-not-exist")).ListAsync(ClusterQuery.All, CancellationToken.None))
            Assert.Fail("nothing expected");
    }

    [Fact]
    public async Task Delete_removes_the_folder_tree_up_to_but_not_including_the_root()
    {
        var id = new ClusterId(CloudProvider.Azure, ClusterType.Managed, "gone", "eastus");
        var kept = new ClusterId(CloudProvider.Local, ClusterType.Managed, "kept", "LOCAL");
        await _store.WriteAsync(Rich(id), CancellationToken.None);
        await _store.WriteAsync(Rich(kept), CancellationToken.None);

        await _store.DeleteAsync(id, CancellationToken.None);

        Assert.Null(await _store.ReadAsync(id, CancellationToken.None));
        Assert.False(Directory.Exists(_dir.Combine("state", "azure")));
        Assert.True(Directory.Exists(_dir.Combine("state")));
        Assert.NotNull(await _store.ReadAsync(kept, CancellationToken.None));

        await _store.DeleteAsync(kept, CancellationToken.None);
        Assert.True(Directory.Exists(_dir.Combine("state")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir.Combine("state")));

        // Deleting what is not there is not an error, and changes nothing.
        await _store.DeleteAsync(kept, CancellationToken.None);
        Assert.True(Directory.Exists(_dir.Combine("state")));
    }

    [Fact]
    public async Task A_second_lock_on_the_same_cluster_is_refused_and_released_locks_can_be_retaken()
    {
        var id = Samples.LocalId("busy");
        var first = await _store.AcquireLockAsync(id, "create", false, CancellationToken.None);
        Assert.Contains($"pid {Environment.ProcessId}", first.Holder);

        var ex = await Assert.ThrowsAsync<ClusterLockedException>(() => _store.AcquireLockAsync(id, "delete", false, CancellationToken.None));
        Assert.Equal("KsctlClusterLocked", ex.ErrorId);
        Assert.Contains($"pid {Environment.ProcessId}", ex.Holder);
        Assert.Contains("create since", ex.Message);
        // The lock of another cluster is independent.
        await using (await _store.AcquireLockAsync(Samples.LocalId("other"), "create", false, CancellationToken.None)) { }

        await first.DisposeAsync();
        Assert.False(Directory.Exists(_store.ClusterDirectory(id)), "a lock-only folder is removed with the lock");
        await using var again = await _store.AcquireLockAsync(id, "delete", false, CancellationToken.None);
        Assert.Contains("delete since", again.Holder);
    }

    [Fact]
    public async Task An_unreadable_lock_left_by_a_crash_is_reported_as_stale_and_can_be_taken_over()
    {
        // A holder killed between creating the lock file and writing its record leaves an empty file.
        var id = Samples.LocalId("torn-lock");
        var lockPath = Path.Combine(_store.ClusterDirectory(id), "lock");
        Directory.CreateDirectory(Path.GetDirectoryName(lockPath)!);
        File.WriteAllText(lockPath, "");
        File.SetLastWriteTimeUtc(lockPath, DateTime.UtcNow.AddMinutes(-5));

        var ex = await Assert.ThrowsAsync<ClusterLockedException>(() => _store.AcquireLockAsync(id, "create", false, CancellationToken.None));
        Assert.Contains("stale", ex.Message);
        Assert.True(File.Exists(lockPath), "without -Force the lock is left alone");

        await using var taken = await _store.AcquireLockAsync(id, "create", true, CancellationToken.None);
        Assert.Contains($"pid {Environment.ProcessId} ", taken.Holder);
    }

    [Fact]
    public async Task A_writer_killed_mid_write_always_leaves_a_previous_complete_document()
    {
        var root = _dir.Combine("crash");
        var store = new FileStateStore(root);
        var random = new Random(42);
        var lastConfirmed = 0;
        for (var round = 0; round < 10; round++)
        {
            var firstVersion = (round + 1) * 100_000;
            using var child = ChildProcess.Start("writer", root, firstVersion.ToString());
            var firstLine = await child.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(firstVersion.ToString(), firstLine);
            // Keep reading what it confirms while we wait a random moment, then SIGKILL it.
            var confirmed = firstVersion;
            var reader = Task.Run(async () =>
            {
                string? line;
                while ((line = await child.StandardOutput.ReadLineAsync()) is not null)
                    if (int.TryParse(line, out var v)) Volatile.Write(ref confirmed, v);
            });
            await Task.Delay(random.Next(5, 120));
            child.Kill(); // SIGKILL on Unix
            await child.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            await reader.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(confirmed >= firstVersion);

            var document = await store.ReadAsync(ChildProcess.WriterCluster, CancellationToken.None);
            Assert.NotNull(document);
            var version = int.Parse(document!.Resources["version"]);
            // Whatever the writer had confirmed is on disk (or one newer whose confirmation was lost to the kill).
            Assert.InRange(version, Volatile.Read(ref confirmed), Volatile.Read(ref confirmed) + 1);
            Assert.True(version > lastConfirmed);
            Assert.Equal(Encoding.UTF8.GetString(StateSerializer.Serialize(ChildProcess.BigDocument(version))), File.ReadAllText(store.DocumentPath(ChildProcess.WriterCluster)));
            lastConfirmed = version;

            // Leftover temp files (if the kill hit mid-write) never show up as state.
            var listed = new List<ClusterState>();
            await foreach (var s in store.ListAsync(ClusterQuery.All, CancellationToken.None)) listed.Add(s);
            Assert.Equal(ChildProcess.WriterCluster, Assert.Single(listed).Id);
            Assert.All(Directory.GetFiles(store.ClusterDirectory(ChildProcess.WriterCluster)).Select(Path.GetFileName),
                f => Assert.True(f == "state.json" || (f!.StartsWith('.') && f.EndsWith(".tmp")), $"unexpected file {f}"));
        }
    }

    [Fact]
    public async Task Two_processes_contend_for_one_lock_and_a_killed_holder_leaves_a_stale_lock()
    {
        var root = _dir.Combine("locks");
        var store = new FileStateStore(root);
        var id = Samples.LocalId("contended");
        using var child = ChildProcess.Start("lock", root, id.Name);
        var line = await child.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.StartsWith("locked ", line);

        var held = await Assert.ThrowsAsync<ClusterLockedException>(() => store.AcquireLockAsync(id, "delete", false, CancellationToken.None));
        Assert.Contains($"pid {child.Id} ", held.Holder);
        Assert.DoesNotContain("stale", held.Message);
        // Even -Force does not steal a live holder's lock.
        await Assert.ThrowsAsync<ClusterLockedException>(() => store.AcquireLockAsync(id, "delete", true, CancellationToken.None));

        child.Kill();
        await child.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));

        var stale = await Assert.ThrowsAsync<ClusterLockedException>(() => store.AcquireLockAsync(id, "delete", false, CancellationToken.None));
        Assert.Contains("stale", stale.Message);
        Assert.Contains($"pid {child.Id} ", stale.Message);

        await using var taken = await store.AcquireLockAsync(id, "delete", true, CancellationToken.None);
        Assert.Contains($"pid {Environment.ProcessId} ", taken.Holder);
        Assert.Contains(Environment.ProcessId.ToString(), File.ReadAllText(Path.Combine(store.ClusterDirectory(id), "lock")));
    }
}
