using System.Text;
using System.Text.Json.Nodes;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Storage;
using Ksctl.Core.Storage.AzureBlob;
using Ksctl.Core.Storage.Protection;
using Ksctl.Storage.Tests.Harness;
using Xunit;

namespace Ksctl.Storage.Tests;

/// <summary>
/// Issue #12 item 2 (and 8) in the shared store: whoever can write the container but lacks the state key cannot change
/// what Ksctl acts on; a document is valid only in its own place; plaintext secrets and null collections are refused;
/// one bad document does not hide the others; a write whose answer was lost is confirmed by reading back.
/// </summary>
[Collection("azurite")]
public sealed class AzureBlobIntegrityTests(AzuriteFixture fixture)
{
    private readonly AzuriteInstance _azurite = fixture.Azurite;
    private readonly ISecretProtector _key = StateKey.FromBase64(StateKey.Generate());
    private readonly string _container = TestStates.NewContainer();

    private AzureBlobStateStore NewStore(ISecretProtector? key = null) => TestStates.Store(_azurite, _container, key ?? _key);
    private BlobContainerClient Raw => TestStates.RawContainer(_azurite, _container);

    private async Task<JsonObject> RawJson(ClusterId id) =>
        JsonNode.Parse((await Raw.GetBlobClient(AzureBlobStateStore.DocumentBlobName(id)).DownloadContentAsync()).Value.Content.ToString())!.AsObject();

    private Task PutRaw(ClusterId id, JsonObject doc) =>
        Raw.GetBlobClient(AzureBlobStateStore.DocumentBlobName(id)).UploadAsync(BinaryData.FromString(doc.ToJsonString()), overwrite: true);

    [Fact]
    public async Task A_document_changed_without_the_state_key_is_KsctlStateInvalid_naming_the_cluster()
    {
        var store = NewStore();
        var state = TestStates.State();
        await store.WriteAsync(state, default);
        var doc = await RawJson(state.Id);
        Assert.StartsWith("ksctl-hmac:v1:", (string)doc["integrity"]!);

        // A writer of the container points a recorded id elsewhere (what Remove-KsctlCluster would delete).
        doc["resources"]!["network"] = "/subscriptions/s/resourceGroups/someone-elses-rg";
        await PutRaw(state.Id, doc);

        var ex = await Assert.ThrowsAsync<StateInvalidException>(() => NewStore().ReadAsync(state.Id, default));
        Assert.Equal("KsctlStateInvalid", ex.ErrorId);
        Assert.Contains("demo (Azure/SelfManaged, eastus)", ex.Message);
        Assert.Contains("integrity tag does not match", ex.Message);

        // Removing the tag does not help.
        doc.Remove("integrity");
        await PutRaw(state.Id, doc);
        Assert.Contains("no integrity tag", (await Assert.ThrowsAsync<StateInvalidException>(() => NewStore().ReadAsync(state.Id, default))).Message);
    }

    [Fact]
    public async Task A_document_is_valid_only_where_it_was_written()
    {
        var store = NewStore();
        var victim = TestStates.Id("victim");
        var other = TestStates.State(TestStates.Id("other"));
        await store.WriteAsync(other, default);
        await Raw.GetBlobClient(AzureBlobStateStore.DocumentBlobName(victim)).UploadAsync(
            (await Raw.GetBlobClient(AzureBlobStateStore.DocumentBlobName(other.Id)).DownloadContentAsync()).Value.Content);

        var ex = await Assert.ThrowsAsync<StateInvalidException>(() => NewStore().ReadAsync(victim, default));
        Assert.Contains("victim (Azure/SelfManaged, eastus)", ex.Message);
        Assert.Contains("found where", ex.Message);
    }

    [Fact]
    public void An_encrypted_secret_is_bound_to_its_cluster_as_well_as_its_name()
    {
        var a = TestStates.Id("alpha");
        var b = TestStates.Id("beta");
        var sealedForA = _key.Protect(TestStates.K3sToken, ProtectedSecrets.Purpose(a, "k3s-token"));
        Assert.Equal(TestStates.K3sToken, ProtectedSecrets.Reveal(sealedForA, a, "k3s-token", () => _key, "test"));
        Assert.Throws<StateKeyInvalidException>(() => ProtectedSecrets.Reveal(sealedForA, b, "k3s-token", () => _key, "test"));
        Assert.Throws<StateKeyInvalidException>(() => ProtectedSecrets.Reveal(sealedForA, a, "kubeconfig", () => _key, "test"));
    }

    [Fact]
    public async Task A_plaintext_secret_in_the_shared_store_is_refused()
    {
        var id = TestStates.Id("planted");
        var doc = JsonNode.Parse(StateSerializer.Serialize(TestStates.State(id, secrets: false)))!.AsObject();
        doc["secrets"] = new JsonObject { ["kubeconfig"] = "apiVersion: v1\nusers: [{name: x, user: {exec: {command: /bin/evil}}}]" };
        await NewStore(key: null).EnsureContainerReadyAsync(default);
        await PutRaw(id, doc);

        var keyless = (AzureBlobStateStore)AzureBlobStateStore.FromConnectionString(_azurite.ConnectionString, _container,
            new AzureBlobStateStoreOptions { SecretProtector = null, StateKeyPath = null });
        using var env = new KeyEnvironmentCleared();
        var ex = await Assert.ThrowsAsync<StateInvalidException>(() => keyless.ReadAsync(id, default));
        Assert.Contains("plaintext", ex.Message);
        Assert.Contains("planted", ex.Message);
    }

    [Theory]
    [InlineData("nodes")]
    [InlineData("resources")]
    [InlineData("secrets")]
    [InlineData("steps")]
    [InlineData("lastErrors")]
    [InlineData("spec")]
    public async Task A_null_collection_is_KsctlStateInvalid_not_a_NullReferenceException(string member)
    {
        var id = TestStates.Id("nulls");
        var doc = JsonNode.Parse(StateSerializer.Serialize(TestStates.State(id, secrets: false)))!.AsObject();
        doc[member] = null;
        await NewStore().EnsureContainerReadyAsync(default);
        await PutRaw(id, doc);
        using var env = new KeyEnvironmentCleared();
        var keyless = (AzureBlobStateStore)AzureBlobStateStore.FromConnectionString(_azurite.ConnectionString, _container,
            new AzureBlobStateStoreOptions { SecretProtector = null, StateKeyPath = null });

        var ex = await Assert.ThrowsAsync<StateInvalidException>(() => keyless.ReadAsync(id, default));
        Assert.Contains("nulls (Azure/SelfManaged, eastus)", ex.Message);
    }

    [Fact]
    public async Task Listing_skips_a_tampered_document_with_its_error_and_lists_the_others()
    {
        var store = NewStore();
        foreach (var name in new[] { "one", "two", "three" }) await store.WriteAsync(TestStates.State(TestStates.Id(name)), default);
        var doc = await RawJson(TestStates.Id("two"));
        doc["endpoint"] = "https://attacker.example:6443";
        await PutRaw(TestStates.Id("two"), doc);

        var listing = await NewStore().ListAllAsync(ClusterQuery.All, default, summaries: true);
        Assert.Equal(["one", "three"], listing.Clusters.Select(c => c.Id.Name).Order().ToArray());
        var error = Assert.IsType<StateInvalidException>(Assert.Single(listing.Errors));
        Assert.Contains("two (Azure/SelfManaged, eastus)", error.Message);
    }

    [Fact]
    public async Task A_write_that_reached_the_store_but_lost_its_answer_is_confirmed_and_later_checkpoints_go_on()
    {
        var fault = new LoseAnswerOfNextStatePut();
        var store = (AzureBlobStateStore)AzureBlobStateStore.FromConnectionString(_azurite.ConnectionString, _container, new AzureBlobStateStoreOptions
        {
            SecretProtector = _key,
            NetworkTimeout = TimeSpan.FromSeconds(3),
            MaxRetries = 1,
            TestPolicy = fault,
        });
        var state = TestStates.State(TestStates.Id("flaky"));
        await store.WriteAsync(state, default);

        // The server applies this write; the client never hears back, and the SDK's retry meets a changed ETag (412).
        fault.Armed = true;
        state.Status = ClusterStatus.Running;
        await store.WriteAsync(state, default);
        Assert.Equal(1, fault.Lost);
        Assert.Equal(ClusterStatus.Running, (await NewStore().ReadAsync(state.Id, default))!.Status);

        // The next checkpoint works from the confirmed ETag instead of failing with 412 forever.
        state.Resources["after"] = "yes";
        await store.WriteAsync(state, default);
        Assert.Equal("yes", (await NewStore().ReadAsync(state.Id, default))!.Resources["after"]);

        // A real conflict is still one: another writer changed the document meanwhile.
        var other = NewStore();
        var theirs = (await other.ReadAsync(state.Id, default))!;
        theirs.Resources["by"] = "other";
        await other.WriteAsync(theirs, default);
        state.Resources["by"] = "me";
        await Assert.ThrowsAsync<StateConflictException>(() => store.WriteAsync(state, default));
    }

    /// <summary>Lets the next state.json upload reach the server, then loses its answer (as a client timeout would).</summary>
    private sealed class LoseAnswerOfNextStatePut : HttpPipelinePolicy
    {
        public volatile bool Armed;
        public int Lost;

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            ProcessNext(message, pipeline);
            LoseIfArmed(message);
        }

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            await ProcessNextAsync(message, pipeline);
            LoseIfArmed(message);
        }

        private void LoseIfArmed(HttpMessage message)
        {
            if (!Armed || message.Request.Method != RequestMethod.Put || !message.Request.Uri.Path.EndsWith("/state.json", StringComparison.Ordinal)) return;
            if (message.Response.Status is < 200 or >= 300) return;
            Armed = false;
            Interlocked.Increment(ref Lost);
            throw new IOException("simulated: the connection dropped before the answer arrived");
        }
    }

    /// <summary>No state key from the environment for the scope.</summary>
    private sealed class KeyEnvironmentCleared : IDisposable
    {
        private readonly string? _key = Environment.GetEnvironmentVariable(StateKey.EnvironmentVariable);
        private readonly string? _file = Environment.GetEnvironmentVariable(StateKey.FileEnvironmentVariable);

        public KeyEnvironmentCleared()
        {
            Environment.SetEnvironmentVariable(StateKey.EnvironmentVariable, null);
            Environment.SetEnvironmentVariable(StateKey.FileEnvironmentVariable, null);
        }

        public void Dispose()
        {
            Environment.SetEnvironmentVariable(StateKey.EnvironmentVariable, _key);
            Environment.SetEnvironmentVariable(StateKey.FileEnvironmentVariable, _file);
        }
    }
}
