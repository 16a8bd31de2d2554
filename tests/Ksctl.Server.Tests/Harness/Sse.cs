using System.Text.Json.Nodes;

namespace Ksctl.Server.Tests.Harness;

/// <summary>Reads a text/event-stream response to its end: every event's type and JSON data, in order.</summary>
public static class Sse
{
    public static async Task<List<(string Event, JsonNode Data)>> ReadAllAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        if (response.Content.Headers.ContentType?.MediaType != "text/event-stream")
            throw new InvalidOperationException($"{path} answered {response.Content.Headers.ContentType}, not text/event-stream.");
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var events = new List<(string, JsonNode)>();
        string? type = null;
        var data = new System.Text.StringBuilder();
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Length > 0) events.Add((type ?? "message", JsonNode.Parse(data.ToString())!));
                type = null;
                data.Clear();
                continue;
            }
            if (line.StartsWith("event:", StringComparison.Ordinal)) type = line[6..].Trim();
            else if (line.StartsWith("data:", StringComparison.Ordinal)) data.Append(line[5..].TrimStart());
        }
        return events;
    }
}

public static class SseWait
{
    /// <summary>Follows the stream until an event matches (then stops reading); fails if the stream ends first.</summary>
    public static async Task<JsonNode> UntilAsync(HttpClient client, string path, Func<string, JsonNode, bool> match)
    {
        using var response = await client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        string? type = null;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("event:", StringComparison.Ordinal)) type = line[6..].Trim();
            else if (line.StartsWith("data:", StringComparison.Ordinal) && JsonNode.Parse(line[5..]) is { } data && match(type ?? "message", data)) return data;
        }
        throw new InvalidOperationException($"{path} ended without the awaited event.");
    }
}
