using System.Security;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Ksctl.Aws.Tests;

/// <summary>
/// Answers in each protocol's shape. Query (STS, IAM): <c>&lt;{Action}Response xmlns&gt;&lt;{Action}Result&gt;…&lt;/…&gt;
/// &lt;ResponseMetadata&gt;&lt;RequestId&gt;</c>, errors <c>&lt;ErrorResponse&gt;&lt;Error&gt;&lt;Type&gt;Sender&lt;/Type&gt;&lt;Code&gt;
/// &lt;Message&gt;&lt;/Error&gt;&lt;RequestId&gt;</c>. EC2: <c>&lt;{Action}Response xmlns&gt;&lt;requestId&gt;…</c> (no Result
/// wrapper), errors <c>&lt;Response&gt;&lt;Errors&gt;&lt;Error&gt;&lt;Code&gt;&lt;Message&gt;&lt;/Error&gt;&lt;/Errors&gt;&lt;RequestID&gt;</c>.
/// JSON 1.1: <c>{"__type":code,"message"}</c> with x-amzn-ErrorType; REST-JSON: <c>{"message"}</c> with x-amzn-ErrorType.
/// Every answer carries x-amzn-RequestId (EC2's in the body). Sources: the AWS SDK's unmarshallers for each protocol
/// (aws-sdk-net sdk/src/Core/Amazon.Runtime/Internal/Transform: ErrorResponseUnmarshaller, JsonErrorResponseUnmarshaller;
/// EC2's Ec2ErrorResponseUnmarshaller) and botocore's parsers.py (QueryParser, EC2QueryParser, JSONParser, RestJSONParser).
/// </summary>
public sealed partial class AwsEmulator
{
    /// <summary>A query-protocol or EC2 answer: <paramref name="inner"/> is the XML inside the Result (query) or the Response (EC2).</summary>
    public Task Xml(AwsCall call, string inner)
    {
        var action = call.Action!;
        var ns = call.Info.XmlNamespace;
        var body = call.Info.Protocol == AwsProtocol.Ec2Query
            ? $"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{action}Response xmlns=\"{ns}\"><requestId>{call.RequestId}</requestId>{inner}</{action}Response>"
            : $"<{action}Response xmlns=\"{ns}\"><{action}Result>{inner}</{action}Result><ResponseMetadata><RequestId>{call.RequestId}</RequestId></ResponseMetadata></{action}Response>";
        call.Http.Response.StatusCode = 200;
        call.Http.Response.ContentType = "text/xml";
        call.Http.Response.Headers["x-amzn-RequestId"] = call.RequestId;
        return call.Http.Response.WriteAsync(body);
    }

    /// <summary>A JSON answer (JSON 1.1 or REST-JSON).</summary>
    public Task Json(AwsCall call, JsonNode body, int status = 200)
    {
        call.Http.Response.StatusCode = status;
        call.Http.Response.ContentType = call.Info.Protocol == AwsProtocol.Json ? "application/x-amz-json-1.1" : "application/json";
        call.Http.Response.Headers["x-amzn-RequestId"] = call.RequestId;
        return call.Http.Response.WriteAsync(body.ToJsonString());
    }

    /// <summary>A service error in the call's protocol.</summary>
    public Task Fail(AwsCall call, int status, string code, string message) => WriteErrorAsync(call.Http, call.Info, status, code, message, call.RequestId);

    /// <summary>XML-escaped text for answers.</summary>
    public static string X(string? value) => SecurityElement.Escape(value ?? "") ?? "";

    private static Task WriteErrorAsync(HttpContext ctx, AwsServiceAttribute info, int status, string code, string message, string requestId)
    {
        ctx.Items["error"] = code;
        ctx.Response.StatusCode = status;
        ctx.Response.Headers["x-amzn-RequestId"] = requestId;
        string body;
        switch (info.Protocol)
        {
            case AwsProtocol.Ec2Query:
                ctx.Response.ContentType = "text/xml;charset=UTF-8";
                body = $"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{X(code)}</Code><Message>{X(message)}</Message></Error></Errors><RequestID>{requestId}</RequestID></Response>";
                break;
            case AwsProtocol.Query:
                ctx.Response.ContentType = "text/xml";
                var type = status >= 500 ? "Receiver" : "Sender";
                body = $"<ErrorResponse xmlns=\"{info.XmlNamespace}\"><Error><Type>{type}</Type><Code>{X(code)}</Code><Message>{X(message)}</Message></Error><RequestId>{requestId}</RequestId></ErrorResponse>";
                break;
            case AwsProtocol.Json:
                ctx.Response.ContentType = "application/x-amz-json-1.1";
                ctx.Response.Headers["x-amzn-ErrorType"] = code;
                body = new JsonObject { ["__type"] = code, ["message"] = message }.ToJsonString();
                break;
            default:
                ctx.Response.ContentType = "application/json";
                ctx.Response.Headers["x-amzn-ErrorType"] = code;
                body = new JsonObject { ["message"] = message }.ToJsonString();
                break;
        }
        return ctx.Response.WriteAsync(body, Encoding.UTF8);
    }

    /// <summary>
    /// The query protocols' envelope: Action and Version are required and Version must be the service's API version
    /// (an unknown action is InvalidAction, a missing or other version NoSuchVersion, as the query services answer).
    /// Returns false when refused (answer written).
    /// </summary>
    public async Task<bool> QueryEnvelopeAsync(AwsCall call, IReadOnlySet<string> actions)
    {
        call.Action = call.Param("Action");
        if (call.Action is null || !actions.Contains(call.Action))
        {
            await Fail(call, 400, "InvalidAction", $"The action {call.Action ?? "(none)"} is not valid for this web service.");
            return false;
        }
        if (call.Param("Version") != call.Info.ApiVersion)
        {
            await Fail(call, 400, "NoSuchVersion", $"The requested version ({call.Param("Version") ?? "(none)"}) of service {call.Service} does not exist.");
            return false;
        }
        return true;
    }

    /// <summary>
    /// JSON 1.1's envelope: POST /, Content-Type application/x-amz-json-1.1 and X-Amz-Target "{targetPrefix}.{Operation}"
    /// (an unknown one is UnknownOperationException). Returns false when refused.
    /// </summary>
    public async Task<bool> JsonEnvelopeAsync(AwsCall call, IReadOnlySet<string> operations)
    {
        var target = call.Http.Request.Headers["X-Amz-Target"].ToString();
        var prefix = call.Info.TargetPrefix + ".";
        call.Action = target.StartsWith(prefix, StringComparison.Ordinal) ? target[prefix.Length..] : null;
        if (call.Method != "POST" || call.Action is null || !operations.Contains(call.Action))
        {
            await Fail(call, 400, "UnknownOperationException", "");
            return false;
        }
        if (!(call.Http.Request.ContentType ?? "").StartsWith("application/x-amz-json-1.1", StringComparison.Ordinal))
        {
            await Fail(call, 400, "SerializationException", $"Content-Type must be application/x-amz-json-1.1, not '{call.Http.Request.ContentType}'.");
            return false;
        }
        return true;
    }
}
