using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;
using Xunit;

namespace Ksctl.Server.Tests.Harness;

/// <summary>
/// Checks a response against the OpenAPI document the server serves at /openapi/v1.json (OpenAPI 3.1, whose schemas
/// are JSON Schema 2020-12): the path and method must be documented, the status among the operation's responses, the
/// content type among that response's, and a JSON body must validate against its schema (components referenced
/// through $defs).
/// </summary>
public sealed class OpenApiConformance
{
    private readonly JsonObject _document;
    private readonly List<(Regex Pattern, string Template)> _paths;
    private readonly Dictionary<string, JsonSchema> _schemas = new(StringComparer.Ordinal);

    private OpenApiConformance(JsonObject document)
    {
        _document = document;
        _paths = document["paths"]!.AsObject().Select(p => (new Regex("^" + Regex.Replace(Regex.Escape(p.Key), @"\\\{[^}]+}", "[^/]+") + "$"), p.Key)).ToList();
    }

    public JsonObject Document => _document;

    public static async Task<OpenApiConformance> LoadAsync(HttpClient client)
    {
        var text = await client.GetStringAsync("/openapi/v1.json");
        return new OpenApiConformance(JsonNode.Parse(text)!.AsObject());
    }

    public void Check(HttpMethod method, string path, int status, string? contentType, string body)
    {
        var template = _paths.FirstOrDefault(p => p.Pattern.IsMatch(path)).Template;
        Assert.True(template is not null, $"{method} {path} is not in the OpenAPI document.");
        var operation = _document["paths"]![template]![method.Method.ToLowerInvariant()];
        Assert.True(operation is not null, $"{method} {template} is not in the OpenAPI document.");
        var response = operation!["responses"]?[status.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        Assert.True(response is not null, $"{method} {template} answered {status}, which the OpenAPI document does not list ({string.Join(", ", operation["responses"]!.AsObject().Select(r => r.Key))}).");
        var content = response!["content"]?.AsObject();
        if (content is null || content.Count == 0)
        {
            Assert.True(body.Length == 0, $"{method} {template} {status} has a body but the document declares none.");
            return;
        }
        var mediaType = contentType?.Split(';')[0].Trim();
        Assert.True(mediaType is not null && content.ContainsKey(mediaType),
            $"{method} {template} {status} answered '{mediaType}'; the document declares {string.Join(", ", content.Select(c => c.Key))}.");
        if (!mediaType!.EndsWith("json", StringComparison.Ordinal)) return;
        var schemaNode = content[mediaType]!["schema"];
        Assert.True(schemaNode is not null, $"{method} {template} {status} {mediaType} has no schema.");
        var schema = SchemaFor(schemaNode!);
        var result = schema.Evaluate(JsonDocument.Parse(body).RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, $"{method} {path} {status}: the body does not match the OpenAPI schema:{Environment.NewLine}" +
            string.Join(Environment.NewLine, (result.Details ?? []).Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"  {d.InstanceLocation}: {e.Key}: {e.Value}")))
            + Environment.NewLine + body[..Math.Min(body.Length, 2000)]);
    }

    private JsonSchema SchemaFor(JsonNode schemaNode)
    {
        var key = schemaNode.ToJsonString();
        if (_schemas.TryGetValue(key, out var cached)) return cached;
        var root = JsonNode.Parse(key)!.AsObject();
        root["$schema"] = "https://json-schema.org/draft/2020-12/schema";
        root["$defs"] = JsonNode.Parse(_document["components"]?["schemas"]?.ToJsonString() ?? "{}");
        var text = root.ToJsonString().Replace("#/components/schemas/", "#/$defs/", StringComparison.Ordinal);
        var schema = JsonSchema.FromText(text, new BuildOptions { SchemaRegistry = new SchemaRegistry() }, new Uri($"https://ksctl.test/schemas/{Guid.NewGuid():N}"));
        _schemas[key] = schema;
        return schema;
    }
}

/// <summary>An HttpClient wrapper: every response it returns has passed <see cref="OpenApiConformance.Check"/>.</summary>
public sealed class ApiClient(HttpClient http, OpenApiConformance conformance) : IDisposable
{
    public HttpClient Http => http;

    public async Task<ApiResponse> SendAsync(HttpMethod method, string path, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        var contentType = response.Content.Headers.ContentType?.ToString();
        conformance.Check(method, path.Split('?')[0], (int)response.StatusCode, contentType, body);
        return new ApiResponse((int)response.StatusCode, contentType, body, response.Headers.Location?.ToString(),
            response.Headers.TryGetValues("Retry-After", out var retry) ? retry.First() : null);
    }

    public Task<ApiResponse> GetAsync(string path) => SendAsync(HttpMethod.Get, path);
    public Task<ApiResponse> DeleteAsync(string path) => SendAsync(HttpMethod.Delete, path);
    public Task<ApiResponse> PostAsync(string path, string body, string contentType = "application/json") =>
        SendAsync(HttpMethod.Post, path, new StringContent(body, System.Text.Encoding.UTF8, contentType));

    public void Dispose() => http.Dispose();
}

public sealed record ApiResponse(int Status, string? ContentType, string Body, string? Location, string? RetryAfter)
{
    public JsonNode Json => JsonNode.Parse(Body)!;
    public string? ErrorId => Json["errorId"]?.GetValue<string>();
}
