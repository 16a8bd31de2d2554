using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Storage;
using Ksctl.Core.Storage.Protection;
using Xunit;

namespace Ksctl.Storage.Tests;

/// <summary>
/// The file store encrypts secrets when it has a protector: DPAPI on Windows by default (not runnable here), so the
/// same path is checked with the AES-GCM state key, plus the Unix default (no protector: 0600 files).
/// </summary>
public sealed class FileStoreProtectionTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ksctl-filestore-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static ClusterState State(string name) => new()
    {
        Id = new ClusterId(CloudProvider.Local, ClusterType.Managed, name, "LOCAL"),
        Spec = new ClusterSpec { Id = new ClusterId(CloudProvider.Local, ClusterType.Managed, name, "LOCAL") },
        Status = ClusterStatus.Running,
        Secrets = { ["kubeconfig"] = "client-key-data: planted-" + name, ["k3s-token"] = "K10planted" },
    };

    [Fact]
    public async Task With_a_protector_no_secret_is_written_in_plaintext_and_reads_come_back_whole()
    {
        var key = StateKey.FromBase64(StateKey.Generate());
        var store = new FileStateStore(_root, key);
        var state = State("enc");
        await store.WriteAsync(state, default);

        var raw = await File.ReadAllTextAsync(store.DocumentPath(state.Id));
        Assert.DoesNotContain("planted", raw);
        Assert.Contains(AesGcmSecretProtector.Prefix, raw);
        Assert.Equal("client-key-data: planted-enc", state.Secrets["kubeconfig"]); // the live state is untouched
        var read = (await store.ReadAsync(state.Id, default))!;
        Assert.Equal(state.Secrets, read.Secrets);

        // Another key cannot read it, and says so instead of returning garbage.
        var other = new FileStateStore(_root, StateKey.FromBase64(StateKey.Generate()));
        Assert.Equal("KsctlStateKeyInvalid", (await Assert.ThrowsAsync<StateKeyInvalidException>(() => other.ReadAsync(state.Id, default))).ErrorId);
        // Without any protector (the folder copied to a machine without the key) it is a missing key, not plaintext.
        Assert.Equal("KsctlStateKeyMissing", (await Assert.ThrowsAsync<StateKeyMissingException>(() => Unprotected().ReadAsync(state.Id, default))).ErrorId);
    }

    [Fact]
    public async Task A_document_without_an_integrity_tag_is_refused_where_a_state_key_is_configured()
    {
        // Written without the key (by hand, another tool, or a Ksctl older than the tags): whoever wrote it lacked the
        // key, so nothing in it is trusted. It is refused naming the cluster, and left as it was.
        var plainStore = Unprotected();
        var state = State("old");
        await plainStore.WriteAsync(state, default);
        var before = await File.ReadAllBytesAsync(plainStore.DocumentPath(state.Id));

        var store = new FileStateStore(_root, StateKey.FromBase64(StateKey.Generate()));
        var ex = await Assert.ThrowsAsync<StateInvalidException>(() => store.ReadAsync(state.Id, default));
        Assert.Equal("KsctlStateInvalid", ex.ErrorId);
        Assert.Contains("old (Local/Managed, LOCAL)", ex.Message);
        Assert.Contains("no integrity tag", ex.Message);
        Assert.Equal(before, await File.ReadAllBytesAsync(plainStore.DocumentPath(state.Id)));
    }

    [Fact]
    public void The_default_protector_is_DPAPI_on_Windows_and_none_elsewhere()
    {
        var store = new FileStateStore(_root);
        if (OperatingSystem.IsWindows()) Assert.IsType<DpapiSecretProtector>(store.Protector);
        else Assert.Null(store.Protector);
    }

    /// <summary>The Unix default: no encryption (0600 files). These tests run where that is the default.</summary>
    private FileStateStore Unprotected()
    {
        var store = new FileStateStore(_root);
        Assert.Null(store.Protector);
        return store;
    }
}
