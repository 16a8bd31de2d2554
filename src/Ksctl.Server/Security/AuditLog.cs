using System.Text.Json;
using Ksctl.Server.Security;

namespace Ksctl.Server.Security;

/// <summary>One audit entry: who (the API key's name), what (method and route, or an operation's outcome), which cluster.</summary>
public sealed record AuditEntry(DateTimeOffset Time, string Who, string? Role, string What, string? Cluster, int? Status, string? Detail = null);

/// <summary>
/// Appends one JSON line per entry to <c>$KSCTL_HOME/logs/audit.log</c> (0600). Every /api request is recorded once it
/// is answered (refusals included), and every operation's end. Never a secret: no key, no body.
/// </summary>
public sealed class AuditLog
{
    private readonly object _gate = new();
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public AuditLog(string path)
    {
        Path = path;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
    }

    public string Path { get; }

    public void Write(AuditEntry entry)
    {
        var line = JsonSerializer.Serialize(entry, Json) + "\n";
        lock (_gate)
        {
            var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.ReadWrite };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using var stream = new FileStream(Path, options);
            stream.Write(System.Text.Encoding.UTF8.GetBytes(line));
        }
    }

    public IReadOnlyList<AuditEntry> Read()
    {
        lock (_gate)
        {
            if (!File.Exists(Path)) return [];
            return File.ReadAllLines(Path).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<AuditEntry>(l, Json)!).ToList();
        }
    }
}

/// <summary>Records every /api request after it is answered: the key's name (or "anonymous"), method, route, cluster, status.</summary>
internal sealed class AuditMiddleware(RequestDelegate next, AuditLog audit, TimeProvider time)
{
    /// <summary>An endpoint that learns the cluster from the body (create) puts its canonical id here for the audit entry.</summary>
    public const string ClusterItem = "ksctl:audit-cluster";

    public async Task InvokeAsync(HttpContext context)
    {
        if (!context.Request.Path.StartsWithSegments("/api"))
        {
            await next(context);
            return;
        }
        try { await next(context); }
        finally
        {
            var cluster = context.Items[ClusterItem] as string ?? context.GetRouteValue("name") as string;
            audit.Write(new AuditEntry(time.GetUtcNow(), context.User.Identity?.Name ?? "anonymous", RoleRequirements.RoleOf(context.User)?.ToString(),
                $"{context.Request.Method} {context.Request.Path}", cluster, context.Response.StatusCode));
        }
    }
}
