using System.Net;
using Ksctl.Server.Hosting;
using Ksctl.Server.Security;
using Ksctl.Server.Tests.Harness;
using Xunit;

namespace Ksctl.Server.Tests;

/// <summary>Keys, roles, audit, TLS, limits: what the server refuses and records.</summary>
[Collection(ServerCollection.Name)]
public sealed class SecurityTests
{
    [Fact]
    public async Task Without_a_key_401_with_a_wrong_or_revoked_key_401_only_health_is_anonymous()
    {
        await using var server = await TestServer.StartAsync();
        using var anonymous = await server.ApiAsync(null);
        var none = await anonymous.GetAsync("/api/v1/clusters");
        Assert.Equal(401, none.Status);
        Assert.Equal("KsctlUnauthorized", none.ErrorId);

        using var raw = server.Client(null);
        Assert.Equal(HttpStatusCode.OK, (await raw.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await raw.GetAsync("/readyz")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await raw.GetAsync("/openapi/v1.json")).StatusCode);

        var reader = server.Keys[ApiRole.Reader];
        var tampered = reader[..^1] + (reader[^1] == 'A' ? 'B' : 'A');
        using var wrong = server.ClientWithKey(tampered);
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("/api/v1/clusters")).StatusCode);

        var store = new ApiKeyStore(ApiKeyStore.DefaultPath(server.Home), TimeProvider.System);
        using var readerClient = server.Client(ApiRole.Reader);
        Assert.Equal(HttpStatusCode.OK, (await readerClient.GetAsync("/api/v1/clusters")).StatusCode);
        Assert.True(store.Revoke("reader"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await readerClient.GetAsync("/api/v1/clusters")).StatusCode);

        // Only hashes are kept: no key appears in the key file.
        var file = await File.ReadAllTextAsync(store.Path);
        Assert.All(server.Keys.Values, k => Assert.DoesNotContain(k, file));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.Path));
    }

    [Fact]
    public async Task Roles_reader_may_read_operator_may_change_only_admin_gets_the_kubeconfig_and_all_is_audited()
    {
        await using var server = await TestServer.StartAsync();
        using var reader = await server.ApiAsync(ApiRole.Reader);
        using var op = await server.ApiAsync(ApiRole.Operator);
        using var admin = await server.ApiAsync(ApiRole.Admin);

        var refused = await reader.PostAsync("/api/v1/clusters", """{"name":"r","provider":"Local"}""");
        Assert.Equal(403, refused.Status);
        Assert.Equal("KsctlForbidden", refused.ErrorId);
        Assert.Empty(server.KindCalls());

        var created = await op.PostAsync("/api/v1/clusters", """{"name":"kc","provider":"Local"}""");
        Assert.Equal(202, created.Status);
        await Sse.ReadAllAsync(op.Http, created.Location + "/events");

        Assert.Equal(403, (await reader.DeleteAsync("/api/v1/clusters/kc")).Status);
        Assert.Equal(403, (await reader.GetAsync("/api/v1/clusters/kc/kubeconfig")).Status);
        Assert.Equal(403, (await op.GetAsync("/api/v1/clusters/kc/kubeconfig")).Status);
        var kubeconfig = await admin.GetAsync("/api/v1/clusters/kc/kubeconfig");
        Assert.Equal(200, kubeconfig.Status);
        Assert.Contains("client-key-data:", kubeconfig.Body);
        Assert.Equal("application/yaml", kubeconfig.ContentType?.Split(';')[0]);

        // No other response carries the secret.
        var keyData = kubeconfig.Body.Split('\n').First(l => l.Contains("client-key-data:")).Split(':', 2)[1].Trim();
        foreach (var path in new[] { "/api/v1/clusters", "/api/v1/clusters/kc", "/api/v1/operations", created.Location! })
            Assert.DoesNotContain(keyData, (await reader.GetAsync(path)).Body);
        var events = await Sse.ReadAllAsync(reader.Http, created.Location + "/events");
        Assert.DoesNotContain(events, e => e.Data.ToJsonString().Contains(keyData));

        Assert.Equal("reader", (await reader.GetAsync("/api/v1/me")).Json["name"]!.GetValue<string>());
        var audit = new AuditLog(Path.Combine(server.Home, "logs", "audit.log")).Read();
        Assert.Contains(audit, a => a.Who == "reader" && a.What == "POST /api/v1/clusters" && a.Status == 403);
        Assert.Contains(audit, a => a.Who == "operator" && a.What == "POST /api/v1/clusters" && a.Cluster == "kc" && a.Status == 202);
        Assert.Contains(audit, a => a.Who == "admin" && a.What == "GET /api/v1/clusters/kc/kubeconfig" && a.Cluster == "kc" && a.Status == 200);
        Assert.Contains(audit, a => a.Who == "operator" && a.What.EndsWith("create Succeeded", StringComparison.Ordinal) && a.Cluster == "local/managed/kc/LOCAL");
        Assert.DoesNotContain(audit, a => server.Keys.Values.Any(k => (a.Detail ?? "").Contains(k) || a.What.Contains(k)));
    }

    [Fact]
    public async Task Rate_limiter_answers_429_with_Retry_After_per_key()
    {
        await using var server = await TestServer.StartAsync(requestsPerMinute: 3);
        using var reader = await server.ApiAsync(ApiRole.Reader);
        for (var i = 0; i < 2; i++) Assert.Equal(200, (await reader.GetAsync("/api/v1/clusters")).Status);
        var limited = await reader.GetAsync("/api/v1/clusters");
        Assert.Equal(429, limited.Status);
        Assert.Equal("KsctlRateLimited", limited.ErrorId);
        Assert.Equal("60", limited.RetryAfter);
        // Another key has its own window.
        using var admin = server.Client(ApiRole.Admin);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/v1/clusters")).StatusCode);
    }

    [Fact]
    public async Task Self_signed_certificate_is_kept_so_its_printed_fingerprint_stays_the_same()
    {
        string first;
        string home;
        await using (var server = await TestServer.StartAsync())
        {
            first = server.Fingerprint;
            home = server.Home;
            Assert.Matches("^([0-9A-F]{2}:){31}[0-9A-F]{2}$", first);
            var again = ServerCertificate.Load(new ServerOptions(), home);
            Assert.Equal(first, ServerCertificate.Fingerprint(again));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(home, "server", "tls.pfx")));
            // A client that does not trust the certificate cannot talk to the server at all (TLS only, no plain port).
            using var untrusting = new HttpClient { BaseAddress = server.BaseAddress };
            await Assert.ThrowsAsync<HttpRequestException>(() => untrusting.GetAsync("/healthz"));
            using var plain = new HttpClient { BaseAddress = new Uri(server.BaseAddress.ToString().Replace("https", "http")) };
            await Assert.ThrowsAnyAsync<Exception>(async () => (await plain.GetAsync("/healthz")).EnsureSuccessStatusCode());
        }
    }

    [Fact]
    public void Api_key_store_verifies_only_live_well_formed_keys()
    {
        var dir = Directory.CreateTempSubdirectory("ksctl-keys-").FullName;
        try
        {
            var store = new ApiKeyStore(Path.Combine(dir, "apikeys.json"), TimeProvider.System);
            var (record, key) = store.Create("ci", ApiRole.Operator);
            Assert.Equal(record, store.Verify(key));
            Assert.Null(store.Verify(key + "x"));
            Assert.Null(store.Verify(key.Replace(record.Id, "0000000000000000")));
            Assert.Null(store.Verify(""));
            Assert.Null(store.Verify(new string('k', 10_000)));
            Assert.Throws<ArgumentException>(() => store.Create("ci", ApiRole.Admin));
            Assert.Throws<ArgumentException>(() => store.Create("Bad Name", ApiRole.Admin));
            Assert.True(store.Revoke("ci"));
            Assert.Null(store.Verify(key));
            Assert.False(store.Revoke("ci"));
            var output = new StringWriter();
            var error = new StringWriter();
            Assert.Equal(0, ApiKeyCommand.Run(["create", "--name", "cmd", "--role", "admin", "--home", dir], output, error));
            Assert.Equal("Admin", new ApiKeyStore(ApiKeyStore.DefaultPath(dir), TimeProvider.System).Verify(output.ToString().Trim())!.Role.ToString());
            Assert.Equal(2, ApiKeyCommand.Run(["create", "--name", "x", "--role", "root", "--home", dir], output, error));
        }
        finally { Directory.Delete(dir, true); }
    }
}
