using System.Net;
using Ksctl.Server.Tests.Harness;
using Xunit;

namespace Ksctl.Server.Tests;

/// <summary>The web client's files are served by the server itself (embedded, no build step), over TLS, without a key (they hold no data).</summary>
[Collection(ServerCollection.Name)]
public sealed class WebClientTests
{
    [Fact]
    public async Task Index_script_and_styles_are_served_and_the_script_talks_only_to_the_API_with_the_key()
    {
        await using var server = await TestServer.StartAsync();
        using var client = server.Client(null);
        var index = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        Assert.Equal("text/html", index.Content.Headers.ContentType?.MediaType);
        var html = await index.Content.ReadAsStringAsync();
        Assert.Contains("id=\"signin-form\"", html);
        Assert.Contains("<script src=\"app.js\">", html);
        var script = await client.GetStringAsync("/app.js");
        Assert.Contains("\"/api/v1\" + path", script);
        Assert.Contains("\"Authorization\": \"Bearer \" + key()", script);
        Assert.Contains("/events", script);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/app.css")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/nope.js")).StatusCode);
    }
}
