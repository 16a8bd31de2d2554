using System.Net.ServerSentEvents;
using Ksctl.Server.Operations;
using Ksctl.Server.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Ksctl.Server.Api;

/// <summary>/api/v1/operations: this replica's operations, one by id, and the Server-Sent Events stream of its progress.</summary>
internal static class OperationEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var ops = api.MapGroup("/operations").WithTags("Operations").RequireAuthorization(Policies.Reader);
        ops.MapGet("/", (OperationRegistry registry) => TypedResults.Ok(registry.List().Select(o => o.ToDocument()).ToList()))
            .WithName("ListOperations").WithSummary("This server's operations, newest first.");
        ops.MapGet("/{id}", Results<Ok<OperationDocument>, ProblemHttpResult> (OperationRegistry registry, string id) =>
                registry.Get(id) is { } op ? TypedResults.Ok(op.ToDocument()) : NotFound(id))
            .WithName("GetOperation").WithSummary("An operation: status, steps with times, errors with Ksctl ids.");
        ops.MapGet("/{id}/events", IResult (OperationRegistry registry, string id, CancellationToken ct) =>
                registry.Get(id) is { } op
                    ? TypedResults.ServerSentEvents(Stream(op, ct))
                    : NotFound(id))
            .WithName("FollowOperation").WithSummary("Server-Sent Events: every event of the operation so far, then live ones until it ends (event 'End').")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream");
    }

    private static async IAsyncEnumerable<SseItem<OperationEvent>> Stream(ServerOperation op, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var e in op.FollowAsync(ct))
            yield return new SseItem<OperationEvent>(e, e.Kind) { EventId = e.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture) };
    }

    private static ProblemHttpResult NotFound(string id) =>
        TypedResults.Problem(Problems.Create(StatusCodes.Status404NotFound, "KsctlOperationNotFound", $"No operation '{id}' on this server."));
}
