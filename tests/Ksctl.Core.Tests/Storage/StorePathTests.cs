using System.Text;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Storage;
using Ksctl.Core.Storage.Transfer;

namespace Ksctl.Core.Tests.Storage;

/// <summary>
/// Issue #12 item 7: no name or region makes the file store read, write or delete outside its root. The identity is
/// checked inside the store (not only by the cmdlets), and the normalised full path must lie under the root.
/// </summary>
public sealed class StorePathTests : IDisposable
{
    private readonly TempDir _dir = new("ksctl-paths");
    private readonly FileStateStore _store;

    public StorePathTests()
    {
        _store = new FileStateStore(_dir.Combine("home", "state"));
        // Bait outside the root, where an escaping path would land.
        Directory.CreateDirectory(_dir.Combine("home", "victim"));
        File.WriteAllText(_dir.Combine("home", "victim", "state.json"), "{\"keep\":true}");
    }

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string, string, string> Hostile => new()
    {
        { "../../victim", "LOCAL", "Name" },
        { "x", "../../../victim", "Region" },
        { "demo", "LOCAL/../../../../victim", "Region" },
        { "/etc", "LOCAL", "Name" },
        { "demo", "/tmp", "Region" },
        { "a\\..\\..", "LOCAL", "Name" },
        { "demo", "LOCAL\0x", "Region" },
        { "de\0mo", "LOCAL", "Name" },
        { "..", "..", "Name" },
        { "demo", ".", "Region" },
        { "demo", "", "Region" },
        { "demo", "LO CAL", "Region" },
        { "dÉmo", "LOCAL", "Name" },
        { "demo", "LOCAL\n", "Region" },
    };

    private string[] Snapshot() =>
        Directory.EnumerateFileSystemEntries(_dir.Path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();

    [Theory]
    [MemberData(nameof(Hostile))]
    public async Task A_hostile_identity_is_refused_by_every_store_operation_and_nothing_outside_the_root_is_touched(string name, string region, string parameter)
    {
        var id = new ClusterId(CloudProvider.Local, ClusterType.Managed, name, region);
        var before = Snapshot();
        var state = Samples.State(id);

        foreach (var operation in new Func<Task>[]
        {
            () => _store.WriteAsync(state, default),
            () => _store.ReadAsync(id, default),
            () => _store.DeleteAsync(id, default),
            () => _store.AcquireLockAsync(id, "create", breakStale: true, default),
            () => _store.LockHolderAsync(id, default),
        })
        {
            var ex = await Assert.ThrowsAsync<InvalidSpecException>(operation);
            Assert.Equal("KsctlInvalidSpec", ex.ErrorId);
            Assert.Equal(parameter, ex.Parameter);
        }
        Assert.Equal(before, Snapshot());
        Assert.Equal("{\"keep\":true}", File.ReadAllText(_dir.Combine("home", "victim", "state.json")));
    }

    [Fact]
    public void Every_path_the_store_builds_is_under_its_root()
    {
        var id = new ClusterId(CloudProvider.BareMetal, ClusterType.SelfManaged, "lab", "dc-1");
        var dir = _store.ClusterDirectory(id);
        Assert.StartsWith(_store.Root + Path.DirectorySeparatorChar, dir);
        Assert.Equal(Path.GetFullPath(dir), dir);
    }

    [Fact]
    public async Task Import_refuses_an_archive_whose_cluster_id_would_leave_the_store()
    {
        var archive = _dir.Combine("evil.json");
        var doc = Encoding.UTF8.GetString(StateSerializer.Serialize(Samples.State(Samples.LocalId("placeholder"))))
            .Replace("\"placeholder\"", "\"../../victim\"");
        File.WriteAllText(archive, $$"""{"format":"ksctl-state-export","version":1,"clusters":[{{doc}}]}""");
        var before = Snapshot();

        var ex = Assert.Throws<StateInvalidException>(() => StateArchive.Read(archive, keyPath: null));
        Assert.Equal("KsctlStateInvalid", ex.ErrorId);
        Assert.Contains("name", ex.Message);
        // And the store itself refuses such an id even if a caller skipped the archive's checks.
        var state = Samples.State(new ClusterId(CloudProvider.Local, ClusterType.Managed, "../../victim", "LOCAL"));
        await Assert.ThrowsAsync<InvalidSpecException>(() => StateArchive.ImportAsync(_store, state, force: true, default));
        Assert.Equal(before, Snapshot());
    }

    [Fact]
    public async Task A_folder_no_valid_identity_maps_to_is_never_read_through()
    {
        // Made by hand (or by an older tool) inside the root: it is not listed, so no path is built from it.
        Directory.CreateDirectory(Path.Combine(_store.Root, "local", "managed", "x ..", "inner"));
        await _store.WriteAsync(Samples.State(Samples.LocalId("good")), default);
        var listed = await _store.ListAllAsync(ClusterQuery.All, default);
        Assert.Equal(["good"], listed.Clusters.Select(c => c.Id.Name));
        Assert.Empty(listed.Errors);
    }
}
