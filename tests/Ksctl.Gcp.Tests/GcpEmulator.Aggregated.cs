using System.Text.RegularExpressions;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Ksctl.Gcp.Tests;

/// <summary>
/// instances.aggregatedList (compute-api.json: GET projects/{project}/aggregated/instances; InstanceAggregatedList with
/// items keyed by scope "zones/ZONE" holding {"instances":[…]} or a {"warning":{"code":"NO_RESULTS_ON_PAGE"}} entry;
/// maxResults 0-500, default 500; pageToken/nextPageToken). The filter follows the "filter" parameter's description for
/// the one form this emulator understands, a label comparison 'labels.KEY = "VALUE"' (quotes optional); any other
/// expression is refused 400 rather than silently ignored. Also resources made out of band (<see cref="AddOutOfBand"/>),
/// as when someone creates or deletes an instance with gcloud.
/// </summary>
public sealed partial class GcpEmulator
{
    private static readonly Regex LabelFilter = new("^labels\\.([a-z][a-z0-9_-]{0,62})\\s*=\\s*\"?([a-z0-9_-]{0,63})\"?\\z");
    /// <summary>The most items a list page holds, whatever maxResults asks (tests lower it to see paging).</summary>
    public int MaxPageSize { get; set; } = 500;

    /// <summary>Puts a resource into the project as if made outside Ksctl (Compute fills id, selfLink…; instances are RUNNING).</summary>
    public void AddOutOfBand(string kind, string path, JsonObject body)
    {
        lock (_gate)
        {
            body["name"] = path[(path.LastIndexOf('/') + 1)..];
            body["id"] = Random.Shared.NextInt64(1_000_000_000_000, 9_000_000_000_000).ToString();
            body["kind"] = "compute#" + kind.TrimEnd('s');
            if (kind == "instances") body["status"] ??= "RUNNING";
            _resources[path] = new Resource { Kind = kind, Path = path, Body = body };
        }
    }

    /// <summary>Removes a resource as if deleted outside Ksctl.</summary>
    public void RemoveOutOfBand(string path)
    {
        lock (_gate) _resources.Remove(path);
    }

    private async Task AggregatedInstancesAsync(HttpContext ctx, string project)
    {
        var filter = ctx.Request.Query["filter"].ToString();
        (string Key, string Value)? label = null;
        if (filter.Length > 0)
        {
            var m = LabelFilter.Match(filter.Trim());
            if (!m.Success) { await Error(ctx, 400, "invalid", "INVALID_ARGUMENT", $"Invalid value for field 'filter': '{filter}'. Invalid list filter expression."); return; }
            label = (m.Groups[1].Value, m.Groups[2].Value);
        }
        var max = 500;
        if (ctx.Request.Query["maxResults"].ToString() is { Length: > 0 } mr && (!int.TryParse(mr, out max) || max is < 0 or > 500))
        {
            await Error(ctx, 400, "invalid", "INVALID_ARGUMENT", $"Invalid value for field 'maxResults': '{mr}'. Must be less than or equal to 500");
            return;
        }
        if (max == 0) max = 500;
        var size = Math.Min(max, MaxPageSize);
        var start = ctx.Request.Query["pageToken"].ToString() is { Length: > 0 } pt ? int.Parse(pt[5..]) : 0;
        List<Resource> matching;
        lock (_gate)
            matching = _resources.Values
                .Where(r => r.Kind == "instances" && r.Path.StartsWith($"projects/{project}/zones/", StringComparison.Ordinal))
                .Where(r => label is not { } l || r.Label(l.Key) == l.Value)
                .OrderBy(r => r.Path, StringComparer.Ordinal).ToList();
        var page = matching.Skip(start).Take(size).ToList();
        var items = new JsonObject();
        foreach (var zone in Zones.Values.SelectMany(z => z))
        {
            var here = page.Where(r => r.Path.Contains($"/zones/{zone}/", StringComparison.Ordinal)).Select(r => (JsonNode)Present(r)).ToArray();
            items[$"zones/{zone}"] = here.Length > 0
                ? new JsonObject { ["instances"] = new JsonArray(here) }
                : new JsonObject { ["warning"] = new JsonObject { ["code"] = "NO_RESULTS_ON_PAGE", ["message"] = "There are no results for scope 'zones/" + zone + "' on this page." } };
        }
        var answer = new JsonObject { ["kind"] = "compute#instanceAggregatedList", ["id"] = $"projects/{project}/aggregated/instances", ["items"] = items };
        if (start + size < matching.Count) answer["nextPageToken"] = $"page-{start + size}";
        await Json(ctx, 200, answer);
    }
}
