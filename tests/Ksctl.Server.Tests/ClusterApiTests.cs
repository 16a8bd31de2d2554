using System.Text.Json.Nodes;
using Ksctl.Server.Security;
using Ksctl.Server.Tests.Harness;
using Xunit;

namespace Ksctl.Server.Tests;

/// <summary>The /api/v1 cluster life cycle on a Local cluster (the kind stand-in), every response checked against the served OpenAPI document.</summary>
[Collection(ServerCollection.Name)]
public sealed class ClusterApiTests
{
    [Fact]
    public async Task Local_cluster_is_created_followed_over_SSE_and_deleted_through_the_API()
    {
        await using var server = await TestServer.StartAsync();
        using var api = await server.ApiAsync(ApiRole.Operator);

        var created = await api.PostAsync("/api/v1/clusters", """{"name":"web","provider":"Local","nodeCount":2}""");
        Assert.Equal(202, created.Status);
        var operationId = created.Json["id"]!.GetValue<string>();
        Assert.Equal($"/api/v1/operations/{operationId}", created.Location);
        Assert.Equal("create", created.Json["kind"]!.GetValue<string>());
        Assert.Equal("operator", created.Json["requestedBy"]!.GetValue<string>());

        var events = await Sse.ReadAllAsync(api.Http, $"/api/v1/operations/{operationId}/events");
        Assert.Equal("End", events[^1].Event);
        Assert.Equal("Succeeded", events[^1].Data["status"]!.GetValue<string>());
        Assert.Contains(events, e => e.Event == "StepStarted" && e.Data["step"]!.GetValue<string>() == "kind:cluster");
        Assert.Contains(events, e => e.Event == "StepCompleted" && e.Data["step"]!.GetValue<string>() == "kubeconfig");

        var operation = await api.GetAsync($"/api/v1/operations/{operationId}");
        Assert.Equal("Succeeded", operation.Json["status"]!.GetValue<string>());
        var steps = operation.Json["steps"]!.AsArray();
        Assert.Equal(["kind:cluster", "kubeconfig"], steps.Select(s => s!["name"]!.GetValue<string>()));
        Assert.All(steps, s =>
        {
            Assert.Equal("Done", s!["status"]!.GetValue<string>());
            Assert.True(s["startedAt"]!.GetValue<DateTimeOffset>() <= s["finishedAt"]!.GetValue<DateTimeOffset>());
        });

        var cluster = await api.GetAsync("/api/v1/clusters/web");
        Assert.Equal(200, cluster.Status);
        Assert.Equal("Running", cluster.Json["status"]!.GetValue<string>());
        Assert.Equal(2, cluster.Json["nodes"]!.AsArray().Count);
        Assert.Contains(server.KindCalls(), c => c.StartsWith("create cluster --name web", StringComparison.Ordinal));

        var list = await api.GetAsync("/api/v1/clusters?provider=local");
        Assert.Equal(["web"], list.Json.AsArray().Select(c => c!["name"]!.GetValue<string>()));
        Assert.Empty((await api.GetAsync("/api/v1/clusters?provider=Azure")).Json.AsArray());
        Assert.Single((await api.GetAsync("/api/v1/clusters/web/operations")).Json.AsArray());

        var deleted = await api.DeleteAsync("/api/v1/clusters/web");
        Assert.Equal(202, deleted.Status);
        var deleteEvents = await Sse.ReadAllAsync(api.Http, deleted.Location + "/events");
        Assert.Equal("Succeeded", deleteEvents[^1].Data["status"]!.GetValue<string>());
        var deleteOperation = await api.GetAsync(deleted.Location!);
        Assert.Equal("Succeeded", deleteOperation.Json["status"]!.GetValue<string>());
        Assert.Contains(server.KindCalls(), c => c.StartsWith("delete cluster --name web", StringComparison.Ordinal));

        var gone = await api.GetAsync("/api/v1/clusters/web");
        Assert.Equal(404, gone.Status);
        Assert.Equal("KsctlClusterNotFound", gone.ErrorId);
        Assert.Equal("application/problem+json", gone.ContentType?.Split(';')[0]);
        Assert.Empty(Directory.GetFiles(Path.Combine(server.Home, "state"), "state.json", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Dry_run_answers_the_plan_as_data_from_a_YAML_spec_and_changes_nothing()
    {
        await using var server = await TestServer.StartAsync();
        using var api = await server.ApiAsync(ApiRole.Operator);
        var plan = await api.PostAsync("/api/v1/clusters?dryRun=true", "name: dry\nprovider: Local\n", "application/yaml");
        Assert.Equal(200, plan.Status);
        Assert.Equal("create", plan.Json["operation"]!.GetValue<string>());
        Assert.Equal("dry", plan.Json["cluster"]!["name"]!.GetValue<string>());
        Assert.Equal(["kind:cluster", "kubeconfig"], plan.Json["steps"]!.AsArray().Select(s => s!["name"]!.GetValue<string>()));
        Assert.Equal(["kind:cluster"], plan.Json["steps"]![1]!["dependsOn"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Empty(server.KindCalls());
        Assert.False(Directory.Exists(Path.Combine(server.Home, "state", "local")));
        Assert.Empty((await api.GetAsync("/api/v1/operations")).Json.AsArray());
    }

    [Theory]
    [InlineData("""{"name":"Bad_Name","provider":"Local"}""", "Name")]
    [InlineData("""{"name":"ok","provider":"Moon"}""", "Provider")]
    [InlineData("""{"name":"ok","provider":"Local","type":"SelfManaged"}""", "Type")]
    [InlineData("name: [unclosed", "SpecPath")]
    public async Task Invalid_spec_is_a_400_problem_naming_the_field_and_nothing_is_created(string body, string field)
    {
        await using var server = await TestServer.StartAsync();
        using var api = await server.ApiAsync(ApiRole.Operator);
        var response = await api.PostAsync("/api/v1/clusters", body);
        Assert.Equal(400, response.Status);
        Assert.Equal("KsctlInvalidSpec", response.ErrorId);
        Assert.Equal("urn:ksctl:error:KsctlInvalidSpec", response.Json["type"]!.GetValue<string>());
        Assert.Equal(field, response.Json["target"]!.GetValue<string>());
        Assert.Contains($"-{field}", response.Json["detail"]!.GetValue<string>());
        Assert.Empty(server.KindCalls());
        Assert.Empty((await api.GetAsync("/api/v1/operations")).Json.AsArray());
    }

    [Fact]
    public async Task Oversized_spec_is_refused_with_413()
    {
        await using var server = await TestServer.StartAsync();
        using var api = await server.ApiAsync(ApiRole.Operator);
        var big = "name: big\nprovider: Local\n# " + new string('x', 70 * 1024) + "\n";
        var response = await api.PostAsync("/api/v1/clusters", big, "application/yaml");
        Assert.Equal(413, response.Status);
        Assert.Equal("KsctlRequestTooLarge", response.ErrorId);
        Assert.Empty(server.KindCalls());
    }

    [Fact]
    public async Task Resize_of_a_managed_cluster_is_refused_with_the_status_machine_error_and_unknown_operation_is_404()
    {
        await using var server = await TestServer.StartAsync();
        using var api = await server.ApiAsync(ApiRole.Operator);
        var created = await api.PostAsync("/api/v1/clusters", """{"name":"small","provider":"Local"}""");
        await Sse.ReadAllAsync(api.Http, created.Location + "/events");
        var resize = await api.PostAsync("/api/v1/clusters/small/resize", """{"workerCount":3}""");
        Assert.Equal(409, resize.Status);
        Assert.Equal("KsctlOperationNotAllowed", resize.ErrorId);
        var missing = await api.GetAsync("/api/v1/operations/op-nope");
        Assert.Equal(404, missing.Status);
        Assert.Equal("KsctlOperationNotFound", missing.ErrorId);
        var filter = await api.GetAsync("/api/v1/clusters?type=Weird");
        Assert.Equal(400, filter.Status);
        Assert.Equal("type", filter.Json["target"]!.GetValue<string>());
    }

    [Fact]
    public async Task Failed_create_reports_the_Ksctl_error_id_and_its_step()
    {
        await using var server = await TestServer.StartAsync();
        Environment.SetEnvironmentVariable("KIND_STANDIN_FAIL_CREATE", "always");
        using var api = await server.ApiAsync(ApiRole.Operator);
        var created = await api.PostAsync("/api/v1/clusters", """{"name":"broken","provider":"Local"}""");
        var events = await Sse.ReadAllAsync(api.Http, created.Location + "/events");
        Assert.Equal("Failed", events[^1].Data["status"]!.GetValue<string>());
        var operation = (await api.GetAsync(created.Location!)).Json;
        Assert.Equal("Failed", operation["status"]!.GetValue<string>());
        Assert.Equal("KsctlCreationFailed", operation["errors"]![0]!["errorId"]!.GetValue<string>());
        Assert.Equal("Failed", operation["steps"]![0]!["status"]!.GetValue<string>());
        Assert.Equal("CreationFailed", (await api.GetAsync("/api/v1/clusters/broken")).Json["status"]!.GetValue<string>());
    }
}
