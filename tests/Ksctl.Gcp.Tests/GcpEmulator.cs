using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ksctl.Gcp.Tests;

/// <summary>
/// An in-process Google Cloud on 127.0.0.1 (plain http on loopback, as GcpEndpoints allows only there): Google's OAuth 2.0
/// token endpoint for service accounts (GcpEmulator.OAuth.cs), the Compute Engine API v1 (GcpEmulator.Compute*.cs) and
/// the GKE API v1 (GcpEmulator.Container.cs). Every API request needs a bearer token this emulator issued, for a
/// project the service account belongs to. Faults on demand: a fraction of requests answered 429 or 503, an insert
/// applied whose answer is lost (the connection is dropped), operations that end DONE with QUOTA_EXCEEDED.
/// <para>Upstream sources of the rules (each partial file names its own in detail):</para>
/// <list type="bullet">
/// <item>Error bodies <c>{"error":{"code","message","errors":[{"message","domain","reason"}],"status"}}</c> and the
///   401 UNAUTHENTICATED / 403 PERMISSION_DENIED / 429 RESOURCE_EXHAUSTED / 503 UNAVAILABLE answers:
///   cloud.google.com/apis/design/errors, googleapis google/rpc/code.proto and error_details.proto (ErrorInfo reason
///   RATE_LIMIT_EXCEEDED), cloud.google.com/compute/docs/api/how-tos/api-rate-limits (rateLimitExceeded, retry with backoff).</item>
/// <item>Compute resources, operations and requestId: the Compute Engine API v1 discovery document
///   (googleapis/google-api-go-client compute/v1/compute-api.json: Network, Subnetwork, Firewall, Instance, Image,
///   Region, Zone, MachineType, Operation; requestId "must be a valid UUID with the exception that zero UUID is not
///   supported"; images.getFromFamily).</item>
/// <item>GKE: container/v1/container-api.json (Cluster, NodePool, Operation, setSize) and googleapis google/container/v1/cluster_service.proto.</item>
/// <item>ADC's other token sources (user refresh tokens, workload identity federation's STS, the metadata server): GcpEmulator.Adc.cs.</item>
/// <item>OAuth: developers.google.com/identity/protocols/oauth2/service-account ("Preparing to make an authorized API call":
///   the JWT header, the claim set iss/scope/aud/exp/iat, "a maximum of 1 hour after the issued time", RS256) and
///   RFC 7523 (urn:ietf:params:oauth:grant-type:jwt-bearer).</item>
/// </list>
/// </summary>
public sealed partial class GcpEmulator : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly object _gate = new();
    private readonly ConcurrentDictionary<string, ServiceAccount> _tokens = new();
    private double _faultCredit;
    private int _faultIndex;
    private double _faultFraction;

    public const string Project = "ksctl-emulator-project";

    /// <summary>A service account with its key pair and the projects it may use.</summary>
    public sealed record ServiceAccount(string Email, string Project, RSA Key, string KeyId, bool Disabled = false)
    {
        /// <summary>The key file as 'gcloud iam service-accounts keys create' writes it.</summary>
        public string KeyFileJson(string tokenUri) => new JsonObject
        {
            ["type"] = "service_account",
            ["project_id"] = Project,
            ["private_key_id"] = KeyId,
            ["private_key"] = Key.ExportPkcs8PrivateKeyPem() + "\n",
            ["client_email"] = Email,
            ["client_id"] = "1" + Math.Abs(Email.GetHashCode()).ToString("D20"),
            ["auth_uri"] = "https://accounts.google.com/o/oauth2/auth",
            ["token_uri"] = tokenUri,
            ["auth_provider_x509_cert_url"] = "https://www.googleapis.com/oauth2/v1/certs",
            ["client_x509_cert_url"] = $"https://www.googleapis.com/robot/v1/metadata/x509/{Uri.EscapeDataString(Email)}",
            ["universe_domain"] = "googleapis.com",
        }.ToJsonString();
    }

    public record Request(string Method, string Path, int Status);

    private GcpEmulator()
    {
        Accounts.Add(NewAccount("ksctl-sa", Project));
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions());
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.Run(async ctx =>
        {
            try { await HandleAsync(ctx); }
            catch (Exception e) when (!ctx.Response.HasStarted && e is not OperationCanceledException)
            {
                await Error(ctx, 500, "backendError", "INTERNAL", "emulator: " + e.Message);
            }
            Requests.Enqueue(new Request(ctx.Request.Method, ctx.Request.Path + ctx.Request.QueryString, ctx.Response.StatusCode));
        });
    }

    public static ServiceAccount NewAccount(string name, string project) =>
        new($"{name}@{project}.iam.gserviceaccount.com", project, RSA.Create(2048), Convert.ToHexString(RandomNumberGenerator.GetBytes(20)).ToLowerInvariant());

    public static async Task<GcpEmulator> StartAsync()
    {
        var emulator = new GcpEmulator();
        await emulator._app.StartAsync();
        var address = emulator._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        emulator.BaseUrl = new Uri(address.TrimEnd('/') + "/");
        return emulator;
    }

    public Uri BaseUrl { get; private set; } = null!;
    public Uri TokenUrl => new(BaseUrl, "token");
    public Uri StsUrl => new(BaseUrl, "sts/v1/token");
    /// <summary>host:port, as GCE_METADATA_HOST names a metadata server.</summary>
    public string MetadataHost => BaseUrl.Authority;
    public Uri ComputeUrl => new(BaseUrl, "compute/v1/");
    public Uri ContainerUrl => new(BaseUrl, "v1/");
    public List<ServiceAccount> Accounts { get; } = [];
    public ServiceAccount Account => Accounts[0];
    public ConcurrentQueue<Request> Requests { get; } = new();
    /// <summary>Token requests and the account each was for (null: refused).</summary>
    public ConcurrentQueue<(string? Email, string? Error)> TokenRequests { get; } = new();
    public int[] FaultStatuses { get; set; } = [429, 503];
    public int RetryAfterSeconds { get; set; }

    public int Count(string method, string pathContains) =>
        Requests.Count(r => r.Method == method && r.Path.Contains(pathContains, StringComparison.Ordinal));

    /// <summary>That fraction of the following API requests fail (evenly spread, deterministic), cycling through <see cref="FaultStatuses"/>.</summary>
    public void FailFraction(double fraction)
    {
        lock (_gate) { _faultFraction = fraction; _faultCredit = 0; }
    }

    private async Task HandleAsync(HttpContext ctx)
    {
        var path = ctx.Request.Path.Value ?? "/";
        if (path == "/token") { await TokenAsync(ctx); return; }
        if (path == "/sts/v1/token") { await StsAsync(ctx); return; }
        if (path.StartsWith("/computeMetadata/", StringComparison.Ordinal)) { await MetadataAsync(ctx, path); return; }
        var auth = ctx.Request.Headers.Authorization.ToString();
        if (!auth.StartsWith("Bearer ", StringComparison.Ordinal) || !_tokens.TryGetValue(auth[7..], out var account))
        {
            await Error(ctx, 401, "authError", "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.");
            return;
        }
        if (TakeFault() is { } fault)
        {
            if (fault == 429)
            {
                if (RetryAfterSeconds > 0) ctx.Response.Headers.RetryAfter = RetryAfterSeconds.ToString();
                await Error(ctx, 429, "rateLimitExceeded", "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute' of service 'compute.googleapis.com'.",
                    new JsonObject { ["@type"] = "type.googleapis.com/google.rpc.ErrorInfo", ["reason"] = "RATE_LIMIT_EXCEEDED", ["domain"] = "googleapis.com" });
            }
            else await Error(ctx, 503, "backendError", "UNAVAILABLE", "The service is currently unavailable.");
            return;
        }
        var segments = path.Trim('/').Split('/');
        if (segments.Length >= 2 && segments[0] == "compute" && segments[1] == "v1") { await ComputeAsync(ctx, account, segments[2..]); return; }
        if (segments.Length >= 1 && segments[0] == "v1") { await ContainerAsync(ctx, account, segments[1..]); return; }
        await Error(ctx, 404, "notFound", "NOT_FOUND", $"The requested URL {path} was not found on this server.");
    }

    private int? TakeFault()
    {
        lock (_gate)
        {
            if (_faultFraction <= 0 || (_faultCredit += _faultFraction) < 1) return null;
            _faultCredit -= 1;
            return FaultStatuses[_faultIndex++ % FaultStatuses.Length];
        }
    }

    /// <summary>A 403 when the account is not in <paramref name="project"/> (Compute's "Required '…' permission for 'projects/…'").</summary>
    private static async Task<bool> ForbiddenAsync(HttpContext ctx, ServiceAccount account, string project, string permission)
    {
        if (account.Project == project) return false;
        await Error(ctx, 403, "forbidden", "PERMISSION_DENIED", $"Required '{permission}' permission for 'projects/{project}'");
        return true;
    }

    internal static Task Json(HttpContext ctx, int status, JsonNode body)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json; charset=UTF-8";
        return ctx.Response.WriteAsync(body.ToJsonString());
    }

    internal static Task Error(HttpContext ctx, int status, string reason, string rpcStatus, string message, JsonObject? detail = null)
    {
        var error = new JsonObject
        {
            ["code"] = status,
            ["message"] = message,
            ["errors"] = new JsonArray(new JsonObject { ["message"] = message, ["domain"] = status == 429 ? "usageLimits" : "global", ["reason"] = reason }),
            ["status"] = rpcStatus,
        };
        if (detail is not null) error["details"] = new JsonArray(detail);
        return Json(ctx, status, new JsonObject { ["error"] = error });
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
