using System.Net.ServerSentEvents;
using Ksctl.Server.Operations;
using Ksctl.Server.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Ksctl.Server.Api;

/// <summary>/api/v1/operations: the operations of every replica on the store (OperationStore), one by id, and the Server-Sent Events stream of its progress.</summary>
internal static class OperationEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var ops = api.MapGroup("/operations").WithTags("Operations").RequireAuthorization(Policies.Reader);
        ops.MapGet("/", async (OperationRegistry registry, CancellationToken ct) => TypedResults.Ok((await registry.ListAsync(null, ct)).ToList()))
            .WithName("ListOperations").WithSummary("The operations of every replica on the store, newest first.");
        ops.MapGet("/{id}", async Task<Results<Ok<OperationDocument>, ProblemHttpResult>> (OperationRegistry registry, string id, CancellationToken ct) =>
                await registry.GetAsync(id, ct) is { } op ? TypedResults.Ok(op) : NotFound(id))
            .WithName("GetOperation").WithSummary("An operation: status, steps with times, errors with Ksctl ids.");
        ops.MapGet("/{id}/events", async Task<IResult> (OperationRegistry registry, string id, CancellationToken ct) =>
                await registry.FollowAsync(id, ct) is { } events
                    ? TypedResults.ServerSentEvents(Stream(events, ct))
                    : NotFound(id))
            .WithName("FollowOperation").WithSummary("Server-Sent Events: every event of the operation so far, then live ones until it ends (event 'End').")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream");
    }

    private static async IAsyncEnumerable<SseItem<OperationEvent>> Stream(IAsyncEnumerable<OperationEvent> events, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var e in events.WithCancellation(ct))
            yield return new SseItem<OperationEvent>(e, e.Kind) { EventId = e.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture) };
    }

    private static ProblemHttpResult NotFound(string id) =>
        TypedResults.Problem(Problems.Create(StatusCodes.Status404NotFound, "KsctlOperationNotFound", $"No operation '{id}' on this server or in its state store."));
}
