using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Ksctl.Addons.Tests;

/// <summary>The fake refuses what kube-apiserver refuses (its header names each rule's source); raw HTTP, no Ksctl code.</summary>
public sealed class FakeKubeApiConventionTests : IAsyncLifetime
{
    private FakeKubeApi _api = null!;
    private HttpClient _http = null!;
    private const string Sa = """{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"a","namespace":"ns1"}}""";

    public async Task InitializeAsync()
    {
        _api = await FakeKubeApi.StartAsync();
        _http = new HttpClient { BaseAddress = _api.Url };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _api.Token);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _api.DisposeAsync();
    }

    private async Task<(HttpStatusCode Code, JsonObject Body)> Patch(string path, string body, string contentType = "application/apply-patch+yaml")
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, path) { Content = new StringContent(body, Encoding.UTF8) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        using var response = await _http.SendAsync(request);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
    }

    private Task<(HttpStatusCode, JsonObject)> Namespace(string name) =>
        Patch($"/api/v1/namespaces/{name}?fieldManager=test", "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"" + name + "\"}}");

    [Fact]
    public async Task Apply_without_fieldManager_is_422_Invalid_on_PatchOptions()
    {
        var (code, body) = await Patch("/api/v1/namespaces/x", """{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"x"}}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, code);
        Assert.Equal("Invalid", (string?)body["reason"]);
        Assert.Equal("Status", (string?)body["kind"]);
        Assert.Equal("PatchOptions", (string?)body["details"]!["kind"]);
        Assert.Contains("fieldManager: Required value: is required for apply patch", (string?)body["message"]);
    }

    [Fact]
    public async Task A_content_type_that_is_no_patch_type_is_415_and_force_on_a_merge_patch_is_422()
    {
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await Patch("/api/v1/namespaces/x?fieldManager=t", "{}", "application/json")).Code);
        var (code, body) = await Patch("/api/v1/namespaces/x?fieldManager=t&force=true", "{}", "application/merge-patch+json");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, code);
        Assert.Contains("force: Forbidden: may not be specified for non-apply patch", (string?)body["message"]);
        var (dry, dryBody) = await Patch("/api/v1/namespaces/x?fieldManager=t&dryRun=Yes", """{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"x"}}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, dry);
        Assert.Contains("dryRun: Unsupported value", (string?)dryBody["message"]);
    }

    [Fact]
    public async Task Paths_follow_the_resource_scope_and_the_body_must_match_the_URL()
    {
        await Namespace("ns1");
        // A namespaced kind outside /namespaces/{ns}, a cluster-scoped kind inside one, an unknown group: 404.
        Assert.Equal(HttpStatusCode.NotFound, (await Patch("/api/v1/serviceaccounts/a?fieldManager=t", Sa)).Code);
        Assert.Equal(HttpStatusCode.NotFound, (await Patch("/apis/rbac.authorization.k8s.io/v1/namespaces/ns1/clusterroles/r?fieldManager=t", "{}")).Code);
        Assert.Equal(HttpStatusCode.NotFound, (await Patch("/apis/extensions/v1beta1/namespaces/ns1/deployments/d?fieldManager=t", "{}")).Code);
        var (code, body) = await Patch("/api/v1/namespaces/ns1/serviceaccounts/b?fieldManager=t", Sa);
        Assert.Equal(HttpStatusCode.BadRequest, code);
        Assert.Contains("does not match the name on the URL", (string?)body["message"]);
        (code, body) = await Patch("/api/v1/namespaces/default/serviceaccounts/a?fieldManager=t", Sa);
        Assert.Equal(HttpStatusCode.BadRequest, code);
        Assert.Contains("namespace of the provided object does not match", (string?)body["message"]);
        Assert.Equal(HttpStatusCode.Created, (await Patch("/api/v1/namespaces/ns1/serviceaccounts/a?fieldManager=t", Sa)).Code);
        Assert.Equal(HttpStatusCode.OK, (await Patch("/api/v1/namespaces/ns1/serviceaccounts/a?fieldManager=t", Sa)).Code);
    }

    [Fact]
    public async Task A_namespaced_object_needs_its_namespace_even_in_a_dry_run()
    {
        var (code, body) = await Patch("/api/v1/namespaces/ns1/serviceaccounts/a?fieldManager=t&dryRun=All", Sa);
        Assert.Equal(HttpStatusCode.NotFound, code);
        Assert.Equal("namespaces \"ns1\" not found", (string?)body["message"]);
        await Namespace("ns1");
        Assert.Equal(HttpStatusCode.Created, (await Patch("/api/v1/namespaces/ns1/serviceaccounts/a?fieldManager=t&dryRun=All", Sa)).Code);
        Assert.False(_api.Objects.ContainsKey("/serviceaccounts/ns1/a"));
    }

    [Fact]
    public async Task A_field_another_manager_owns_is_a_409_conflict_unless_forced()
    {
        await Namespace("ns1");
        _api.Seed("/configmaps/ns1/c", "ConfigMap", JsonNode.Parse("""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"ns1"},"data":{"k":"theirs"}}""")!.AsObject(), "kubectl");
        const string mine = """{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"ns1"},"data":{"k":"mine"}}""";
        var (code, body) = await Patch("/api/v1/namespaces/ns1/configmaps/c?fieldManager=ksctl", mine);
        Assert.Equal(HttpStatusCode.Conflict, code);
        Assert.Equal("Conflict", (string?)body["reason"]);
        Assert.Equal("Apply failed with 1 conflict: conflict with \"kubectl\": .data.k", (string?)body["message"]);
        Assert.Equal(HttpStatusCode.OK, (await Patch("/api/v1/namespaces/ns1/configmaps/c?fieldManager=ksctl&force=true", mine)).Code);
        Assert.Equal("mine", (string?)_api.Objects["/configmaps/ns1/c"].Object["data"]!["k"]);
        Assert.Equal("ksctl", _api.Objects["/configmaps/ns1/c"].Owners[".data.k"]);
    }

    [Fact]
    public async Task Requests_without_the_token_are_401_and_deleting_an_absent_object_is_404_NotFound()
    {
        using var anonymous = new HttpClient { BaseAddress = _api.Url };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.DeleteAsync("/api/v1/namespaces/x")).StatusCode);
        using var response = await _http.DeleteAsync("/apis/apps/v1/namespaces/x/deployments/d");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("deployments.apps \"d\" not found", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["message"]);
    }
}
