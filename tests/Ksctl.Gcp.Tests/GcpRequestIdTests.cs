using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Ksctl.Core.Providers;
using Ksctl.Core.Providers.Gcp;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ksctl.Gcp.Tests;

/// <summary>
/// Compute's requestId memory (compute-api.json requestId: "The server will guarantee that for at least 60 minutes after
/// the first request"): a retried insert inside the window answers the first operation and creates nothing; after it the
/// same requestId is a new request (the name then exists: 409 alreadyExists, which Ksctl's insert counts as done). The
/// emulator's clock is moved, not waited for.
/// </summary>
[Collection(GcpEnvironmentCollection.Name)]
public sealed class GcpRequestIdTests : IAsyncLifetime
{
    private GcpTestBed _bed = null!;

    public async Task InitializeAsync() => _bed = await GcpTestBed.StartAsync();
    public async Task DisposeAsync() => await _bed.DisposeAsync();

    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _now = start;
        public override DateTimeOffset GetUtcNow() => _now;
        public void Advance(TimeSpan by) => _now += by;
    }

    [Fact]
    public async Task A_retried_insert_is_the_first_request_for_60_minutes_and_a_new_one_after()
    {
        var gcp = _bed.Gcp;
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        gcp.Clock = clock;
        var signIn = await GcpCredentials.ResolveAsync(new ProviderCredential { CredentialPath = _bed.KeyFile }, null, _bed.Endpoints, CancellationToken.None);
        var token = await signIn.Token(CancellationToken.None);
        var networks = new Uri(gcp.ComputeUrl, $"projects/{GcpEmulator.Project}/global/networks");
        var path = $"projects/{GcpEmulator.Project}/global/networks/rid-net";
        var requestId = Guid.NewGuid().ToString();
        using var http = new HttpClient();

        async Task<(HttpStatusCode Status, JsonObject Body)> Insert()
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"{networks}?requestId={requestId}")
            {
                Content = new StringContent("""{"name":"rid-net","autoCreateSubnetworks":false}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await http.SendAsync(request);
            return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
        }

        var (status, first) = await Insert();
        Assert.Equal(HttpStatusCode.OK, status);

        // 59 minutes later: the same operation, nothing created again.
        clock.Advance(TimeSpan.FromMinutes(59));
        var (again, repeated) = await Insert();
        Assert.Equal(HttpStatusCode.OK, again);
        Assert.Equal(first["name"]!.GetValue<string>(), repeated["name"]!.GetValue<string>());
        Assert.Equal(1, gcp.RepeatedRequestIds);
        Assert.Equal(1, gcp.Creates[path]);

        // Past 60 minutes: a new request, refused because the name exists.
        clock.Advance(TimeSpan.FromMinutes(1));
        var (late, refused) = await Insert();
        Assert.Equal(HttpStatusCode.Conflict, late);
        Assert.Equal("alreadyExists", refused["error"]!["errors"]![0]!["reason"]!.GetValue<string>());
        Assert.Equal(1, gcp.RepeatedRequestIds);

        // Ksctl's insert retried that late counts the existing network as done (and creates nothing).
        var client = new GcpRestClient(signIn, _bed.Endpoints, NullLogger.Instance, TimeProvider.System);
        Assert.Null(await client.InsertAsync(networks, new JsonObject { ["name"] = "rid-net", ["autoCreateSubnetworks"] = false }, requestId, "network rid-net", TimeSpan.FromSeconds(30), CancellationToken.None));
        Assert.Equal(1, gcp.Creates[path]);

        // Once the network is gone, the forgotten requestId creates it again: a second resource, a new operation.
        Assert.True(await client.DeleteAsync(new Uri(gcp.ComputeUrl, path), Guid.NewGuid().ToString(), "network rid-net", TimeSpan.FromSeconds(30), CancellationToken.None));
        var (recreated, second) = await Insert();
        Assert.Equal(HttpStatusCode.OK, recreated);
        Assert.NotEqual(first["name"]!.GetValue<string>(), second["name"]!.GetValue<string>());
        Assert.Equal(2, gcp.Creates[path]);
    }
}
