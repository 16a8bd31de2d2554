using Ksctl.Core.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace Ksctl.Server.Api;

/// <summary>
/// RFC 9457 problem details for every API error, carrying the Ksctl error id (the same ids the cmdlets' ErrorRecords
/// carry) as the <c>errorId</c> member and in <c>type</c> (<c>urn:ksctl:error:&lt;id&gt;</c>).
/// </summary>
internal static class Problems
{
    public const string ContentType = "application/problem+json";

    public static ProblemDetails Create(int status, string errorId, string detail, string? target = null)
    {
        var problem = new ProblemDetails
        {
            Type = $"urn:ksctl:error:{errorId}",
            Title = errorId,
            Status = status,
            Detail = detail,
        };
        problem.Extensions["errorId"] = errorId;
        if (target is not null) problem.Extensions["target"] = target;
        return problem;
    }

    public static IResult Result(int status, string errorId, string detail, string? target = null) =>
        TypedResults.Problem(Create(status, errorId, detail, target));

    public static IResult From(KsctlException ex) =>
        Result(StatusFor(ex), ex.ErrorId, ex.Message, ex is InvalidSpecException spec ? spec.Parameter : ex.Target?.ToString());

    public static Task Write(HttpContext context, int status, string errorId, string detail)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(Create(status, errorId, detail), (System.Text.Json.JsonSerializerOptions?)null, ContentType);
    }

    /// <summary>The HTTP status of a Core error: by its category, the way the cmdlets map it to an ErrorCategory.</summary>
    public static int StatusFor(KsctlException ex) => ex.Category switch
    {
        KsctlErrorCategory.InvalidArgument or KsctlErrorCategory.InvalidData when ex is not StateInvalidException and not StateCorruptException => StatusCodes.Status400BadRequest,
        KsctlErrorCategory.ObjectNotFound => StatusCodes.Status404NotFound,
        KsctlErrorCategory.ResourceBusy or KsctlErrorCategory.InvalidOperation or KsctlErrorCategory.ResourceExists => StatusCodes.Status409Conflict,
        KsctlErrorCategory.NotInstalled or KsctlErrorCategory.NotImplemented or KsctlErrorCategory.ResourceUnavailable => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status500InternalServerError,
    };
}

/// <summary>Turns a <see cref="KsctlException"/> thrown by an endpoint into its problem details.</summary>
internal sealed class KsctlProblemFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try { return await next(context); }
        catch (KsctlException ex) { return Problems.From(ex); }
    }
}
