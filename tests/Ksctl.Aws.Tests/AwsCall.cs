using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Ksctl.Aws.Tests;

/// <summary>One verified request, as a service handler sees it.</summary>
public sealed class AwsCall
{
    public required HttpContext Http { get; init; }
    /// <summary>The signing name from the credential scope (ec2, sts, ssm, iam, eks).</summary>
    public required string Service { get; init; }
    /// <summary>The signing region from the credential scope.</summary>
    public required string Region { get; init; }
    public required AwsServiceAttribute Info { get; init; }
    /// <summary>Query protocols: the Action parameter; JSON 1.1: the operation after the X-Amz-Target prefix; REST: null.</summary>
    public string? Action { get; set; }
    /// <summary>Query protocols: every parameter of the form body and the query string (names as sent, values decoded).</summary>
    public required IReadOnlyDictionary<string, string> Parameters { get; init; }
    /// <summary>JSON protocols: the parsed body (null when empty).</summary>
    public JsonNode? JsonBody { get; init; }
    public required byte[] Body { get; init; }
    public required AwsEmulator.Principal Caller { get; init; }
    public required string RequestId { get; init; }
    public string Method => Http.Request.Method;
    /// <summary>The path as sent (percent-encoded).</summary>
    public required string RawPath { get; init; }

    public string? Param(string name) => Parameters.TryGetValue(name, out var v) ? v : null;

    /// <summary>A query-protocol list: Name.1, Name.2... (EC2's flattened lists, e.g. InstanceId.1) in order.</summary>
    public List<string> List(string prefix)
    {
        var values = new List<string>();
        for (var i = 1; Parameters.TryGetValue($"{prefix}.{i}", out var v); i++) values.Add(v);
        return values;
    }

    /// <summary>A query-protocol list of structures: Prefix.1.Field, Prefix.2.Field... as one dictionary per element.</summary>
    public List<Dictionary<string, string>> Structures(string prefix)
    {
        var items = new List<Dictionary<string, string>>();
        for (var i = 1; ; i++)
        {
            var head = $"{prefix}.{i}.";
            var item = Parameters.Where(p => p.Key.StartsWith(head, StringComparison.Ordinal)).ToDictionary(p => p.Key[head.Length..], p => p.Value);
            if (item.Count == 0) return items;
            items.Add(item);
        }
    }
}
