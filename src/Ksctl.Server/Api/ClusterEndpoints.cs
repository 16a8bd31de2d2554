using System.Security.Claims;
using Ksctl.Core.Clusters;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Storage;
using Ksctl.Server.Hosting;
using Ksctl.Server.Operations;
using Ksctl.Server.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Ksctl.Server.Api;

/// <summary>
/// /api/v1/clusters: list, get, create (JSON or YAML spec, the -SpecPath schema; ?dryRun=true answers the plan),
/// delete, resize, kubeconfig. A cluster is named by its name, with provider/type/region as query filters where the
/// name alone is ambiguous (the cmdlets' -Name/-Provider/-Type/-Region resolution). Every change is validated and
/// checked against the status machine and the cluster's lock before it is accepted (so a bad spec or a cluster a
/// cmdlet holds is refused at once, not as a failed operation), then runs as an operation: 202 + Location.
/// </summary>
internal static class ClusterEndpoints
{
    /// <summary>A spec is a few kilobytes; this is far more than any real one.</summary>
    public const int MaxSpecBytes = 64 * 1024;

    public static void Map(RouteGroupBuilder api)
    {
        var clusters = api.MapGroup("/clusters").WithTags("Clusters");
        clusters.MapGet("/", ListAsync).RequireAuthorization(Policies.Reader)
            .WithName("ListClusters").WithSummary("Lists clusters, filtered by provider, type and region.");
        clusters.MapGet("/{name}", GetAsync).RequireAuthorization(Policies.Reader)
            .WithName("GetCluster").WithSummary("One cluster (no secrets).");
        clusters.MapPost("/", CreateAsync).RequireAuthorization(Policies.Operator)
            .WithName("CreateCluster").WithSummary("Creates (or resumes) a cluster from a spec in JSON or YAML; ?dryRun=true returns the plan.")
            .Accepts<SpecFile>("application/json", "application/yaml", "text/yaml")
            .Produces<OperationDocument>(StatusCodes.Status202Accepted).Produces<PlanDocument>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        clusters.MapDelete("/{name}", DeleteAsync).RequireAuthorization(Policies.Operator)
            .WithName("DeleteCluster").WithSummary("Deletes a cluster; ?dryRun=true returns the plan.")
            .Produces<OperationDocument>(StatusCodes.Status202Accepted).Produces<PlanDocument>(StatusCodes.Status200OK);
        clusters.MapPost("/{name}/resize", ResizeAsync).RequireAuthorization(Policies.Operator)
            .WithName("ResizeCluster").WithSummary("Sets the number of workers of a self-managed cluster; ?dryRun=true returns the plan.")
            .Produces<OperationDocument>(StatusCodes.Status202Accepted).Produces<PlanDocument>(StatusCodes.Status200OK);
        clusters.MapPut("/{name}/reconcile", SetReconcileAsync).RequireAuthorization(Policies.Operator)
            .WithName("SetReconcile").WithSummary("Turns the reconciler on or off for the cluster (on again clears a give-up).");
        clusters.MapGet("/{name}/operations", ListOperations).RequireAuthorization(Policies.Reader)
            .WithName("ListClusterOperations").WithSummary("This server's operations on the cluster, newest first.");
        clusters.MapGet("/{name}/kubeconfig", KubeconfigAsync).RequireAuthorization(Policies.Admin)
            .WithName("GetKubeconfig").WithSummary("The cluster's kubeconfig (admin only: it holds credentials).")
            .Produces<string>(StatusCodes.Status200OK, "application/yaml");
    }

    private static async Task<Results<Ok<List<ClusterSummary>>, ProblemHttpResult>> ListAsync(
        ServerContext server, string? provider, string? type, string? region, CancellationToken ct)
    {
        var query = new ClusterQuery
        {
            Provider = provider is null ? null : ParseEnum<CloudProvider>(provider, "provider"),
            Type = type is null ? null : ParseEnum<ClusterType>(type, "type"),
            Region = region,
        };
        var listing = await server.Manager.ListSummariesAsync(query, ct);
        return TypedResults.Ok(listing.Clusters.OrderBy(c => c.Id.Name, StringComparer.Ordinal).ThenBy(c => c.Id.Canonical, StringComparer.Ordinal)
            .Select(ClusterSummary.Of).ToList());
    }

    private static async Task<Ok<ClusterSummary>> GetAsync(ServerContext server, string name, string? provider, string? type, string? region, CancellationToken ct)
    {
        var id = await server.ResolveAsync(name, provider, type, region, ct);
        var listing = await server.Manager.ListSummariesAsync(new ClusterQuery { Provider = id.Provider, Type = id.Type, Region = id.Region, NameMatches = n => n == id.Name }, ct);
        var state = listing.Clusters.FirstOrDefault() ?? throw new ClusterNotFoundException(id.ToString());
        return TypedResults.Ok(ClusterSummary.Of(state));
    }

    private static async Task<IResult> CreateAsync(HttpRequest request, ServerContext server, OperationRegistry operations, ClaimsPrincipal user, bool? dryRun, CancellationToken ct)
    {
        var text = await ReadBodyAsync(request, ct);
        if (text is null) return Problems.Result(StatusCodes.Status413PayloadTooLarge, "KsctlRequestTooLarge", $"A spec is at most {MaxSpecBytes} bytes.");
        var file = SpecFile.Parse(text, "request body");
        var defaults = server.Manager.Providers.ToDictionary(d => d.Provider, d => d.DefaultRegion);
        var spec = file.ToClusterSpec(p => defaults.TryGetValue(p, out var r) ? r : "");
        request.HttpContext.Items[AuditMiddleware.ClusterItem] = spec.Id.Name;
        var (plan, _) = await server.Manager.PlanCreateAsync(spec, ct);
        if (dryRun == true) return TypedResults.Ok(PlanDocument.Of(plan));
        await server.EnsureUnlockedAsync(plan.Cluster, ct);
        var operation = operations.Start("create", plan.Cluster, user.Identity!.Name!, (m, token) => m.CreateAsync(spec, OperationOptions.Default, token));
        return Accepted(operation);
    }

    private static async Task<IResult> DeleteAsync(ServerContext server, OperationRegistry operations, ClaimsPrincipal user,
        string name, string? provider, string? type, string? region, bool? dryRun, CancellationToken ct)
    {
        var id = await server.ResolveAsync(name, provider, type, region, ct);
        var plan = await server.Manager.PlanDeleteAsync(id, ct);
        if (dryRun == true) return TypedResults.Ok(PlanDocument.Of(plan));
        await server.EnsureUnlockedAsync(id, ct);
        // The server has no kubeconfig of its user to tidy: merged entries are the cmdlets' business.
        var options = OperationOptions.Default with { KeepKubeconfigEntries = true };
        return Accepted(operations.Start("delete", id, user.Identity!.Name!, (m, token) => m.DeleteAsync(id, options, token)));
    }

    private static async Task<IResult> ResizeAsync(ServerContext server, OperationRegistry operations, ClaimsPrincipal user,
        string name, [FromBody] ResizeRequest body, string? provider, string? type, string? region, bool? dryRun, CancellationToken ct)
    {
        var id = await server.ResolveAsync(name, provider, type, region, ct);
        var plan = await server.Manager.PlanResizeAsync(id, body.WorkerCount, ct);
        if (dryRun == true) return TypedResults.Ok(PlanDocument.Of(plan));
        await server.EnsureUnlockedAsync(id, ct);
        return Accepted(operations.Start("resize", id, user.Identity!.Name!, (m, token) => m.ResizeAsync(id, body.WorkerCount, OperationOptions.Default, token)));
    }

    private static async Task<Ok<ClusterSummary>> SetReconcileAsync(ServerContext server, string name, [FromBody] ReconcileRequest body,
        string? provider, string? type, string? region, CancellationToken ct)
    {
        var id = await server.ResolveAsync(name, provider, type, region, ct);
        return TypedResults.Ok(ClusterSummary.Of(await server.Manager.SetReconcileAsync(id, body.Enabled, ct)));
    }

    private static async Task<Ok<List<OperationDocument>>> ListOperations(ServerContext server, OperationRegistry operations,
        string name, string? provider, string? type, string? region, CancellationToken ct)
    {
        var id = await server.ResolveAsync(name, provider, type, region, ct);
        return TypedResults.Ok((await operations.ListAsync(id, ct)).ToList());
    }

    private static async Task<IResult> KubeconfigAsync(ServerContext server, string name, string? provider, string? type, string? region, CancellationToken ct)
    {
        var id = await server.ResolveAsync(name, provider, type, region, ct);
        var yaml = await server.Manager.GetKubeconfigAsync(id, null, ct);
        return TypedResults.Text(yaml, "application/yaml", System.Text.Encoding.UTF8, StatusCodes.Status200OK);
    }

    private static IResult Accepted(ServerOperation operation) =>
        TypedResults.Accepted($"/api/v1/operations/{operation.Id}", operation.ToDocument());

    /// <summary>The body as text, or null when it is larger than <see cref="MaxSpecBytes"/>.</summary>
    private static async Task<string?> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > MaxSpecBytes) return null;
        var buffer = new char[MaxSpecBytes + 1];
        using var reader = new StreamReader(request.Body, System.Text.Encoding.UTF8);
        var total = 0;
        int read;
        while (total < buffer.Length && (read = await reader.ReadAsync(buffer.AsMemory(total), ct)) > 0) total += read;
        return total > MaxSpecBytes ? null : new string(buffer, 0, total);
    }

    private static string Printable(string value) =>
        new string(value.Take(40).Select(c => char.IsControl(c) ? '?' : c).ToArray());

    internal static T ParseEnum<T>(string value, string parameter) where T : struct, Enum =>
        Enum.GetNames<T>().FirstOrDefault(n => string.Equals(n, value, StringComparison.OrdinalIgnoreCase)) is { } found
            ? Enum.Parse<T>(found)
            : throw new InvalidSpecException(parameter, $"'{Printable(value)}' is not one of {string.Join(", ", Enum.GetNames<T>())}.");
}
