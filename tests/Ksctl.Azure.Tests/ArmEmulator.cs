using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ksctl.Azure.Tests;

/// <summary>
/// An in-process Azure Resource Manager and Entra token endpoint on HTTPS (127.0.0.1, a free port, a certificate made
/// for the test). ARM: api-version required, bearer tokens it issued, PUT/GET/DELETE by resource id with
/// provisioningState, long-running operations (Azure-AsyncOperation, Location for group deletion) that finish after
/// <see cref="PollsToComplete"/> polls, ARM error bodies, reference and in-use checks (a NIC needs its subnet, NSG and
/// public IP; an NSG in use cannot go), and faults: a fraction of requests answered 429 (Retry-After) or 500, and
/// one-shot errors for a resource type. The inventory is what exists; <see cref="Creates"/> counts creations per id.
/// A VM's customData, its NIC's private address and its NSG's rules are handed to <see cref="VmBooter"/> (the test
/// machine pool, which enforces the rules on the machine), and its NIC and public IP then report that machine's addresses.
/// <para>Upstream sources of the rules (each partial file names its own in detail):</para>
/// <list type="bullet">
/// <item>Request shape, api-version (400 MissingApiVersionParameter), bearer tokens (401 InvalidAuthenticationToken) and the
///   error body <c>{"error":{"code","message"}}</c>: the ARM RPC (github.com/cloud-and-ai-microsoft/resource-provider-contract,
///   "Common API behaviour") and learn.microsoft.com/azure/azure-resource-manager/troubleshooting/common-deployment-errors.</item>
/// <item>Throttling (429 with Retry-After): learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling.</item>
/// <item>Long-running operations (ArmEmulator.Operations.cs): learn.microsoft.com/azure/azure-resource-manager/management/async-operations.</item>
/// <item>Resource bodies: azure-rest-api-specs — resources 2021-04-01 (resourceGroups, Providers_Register), network
///   2024-05-01 (virtualNetworks, networkSecurityGroups, publicIPAddresses, networkInterfaces), compute 2024-07-01
///   (virtualMachines, vmSizes), containerservice aks 2024-09-01 (managedClusters, kubernetesVersions).</item>
/// <item>Name rules and AKS's node resource group (ArmEmulator.Rules.cs), namespace registration (ArmEmulator.Registration.cs).</item>
/// <item>Transient failures: a NIC PUT while another NIC of its subnet provisions ends AnotherOperationInProgress, and
///   ARM's RetryableError / ReferencedResourceNotProvisioned on demand (<see cref="FailNextOperation"/>); these are the
///   codes Network documents as "retry the operation" (learn.microsoft.com/azure/virtual-network/troubleshoot-nic and
///   common-deployment-errors).</item>
/// </list>
/// </summary>
public sealed partial class ArmEmulator : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly X509Certificate2 _certificate;
    private readonly object _gate = new();
    private readonly Dictionary<string, Resource> _resources = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, Operation> _operations = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Principal> _tokens = new();
    private readonly ConcurrentDictionary<string, int> _creates = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<(string Type, int Status, string Code, string Message)> _putErrors = [];
    private readonly List<(string Type, string Code, string Message)> _operationFailures = [];
    private double _faultCredit;
    private int _faultIndex;
    private double _faultFraction;
    private int _ipCounter = 3;

    public sealed record Principal(string Tenant, string ClientId, string Secret, string[] Subscriptions);

    public sealed class Resource
    {
        public required string Id { get; init; }
        public required string Type { get; init; }
        public required string Name { get; init; }
        public required string Group { get; init; }
        public required JsonObject Body { get; set; }
        public string? Operation { get; set; }
        public Task<(string PublicIp, string PrivateIp)>? Boot { get; set; }
        public string? Tag(string name) => Body["tags"]?[name]?.GetValue<string>();
        public string? State => Body["properties"]?["provisioningState"]?.GetValue<string>();
    }

    private sealed class Operation
    {
        public required string Id { get; init; }
        public required string ResourceId { get; init; }
        public required bool Delete { get; init; }
        public int Polls { get; set; }
        public string Status { get; set; } = "InProgress";
        public (string Code, string Message)? Error { get; set; }
    }

    public record Request(string Method, string Path, int Status);

    private ArmEmulator(Principal principal)
    {
        Principals.Add(principal);
        _certificate = ArmEmulatorCertificate.Create();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions());
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(_certificate)));
        _app = builder.Build();
        _app.Run(async ctx =>
        {
            try { await HandleAsync(ctx); }
            catch (Exception e) when (!ctx.Response.HasStarted)
            {
                await Error(ctx, 500, "InternalServerError", "emulator: " + e.Message);
            }
            Requests.Enqueue(new Request(ctx.Request.Method, ctx.Request.Path + ctx.Request.QueryString, ctx.Response.StatusCode));
        });
    }

    public const string Tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    public const string ClientId = "0f3a6c2e-5d7b-4c1e-9a8d-1b2c3d4e5f60";
    public const string Secret = "emulator-client-secret-9s8d7f";
    public const string Subscription = "11111111-2222-3333-4444-555555555555";

    public static async Task<ArmEmulator> StartAsync()
    {
        var emulator = new ArmEmulator(new Principal(Tenant, ClientId, Secret, [Subscription]));
        await emulator._app.StartAsync();
        var address = emulator._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        emulator.BaseUrl = new Uri(address.TrimEnd('/') + "/");
        return emulator;
    }

    public Uri BaseUrl { get; private set; } = null!;
    /// <summary>Whether a server certificate is the emulator's (the test transport's only extra trust).</summary>
    public bool IsEmulatorCertificate(X509Certificate2? certificate) => certificate?.Thumbprint == _certificate.Thumbprint;
    public List<Principal> Principals { get; } = [];
    public ConcurrentQueue<Request> Requests { get; } = new();
    public int PollsToComplete { get; set; } = 2;
    /// <summary>Keeps every operation InProgress (for cancel-while-waiting tests).</summary>
    public bool HoldOperations { get; set; }
    public int RetryAfterSeconds { get; set; } = 1;
    public int[] FaultStatuses { get; set; } = [429, 500];
    /// <summary>
    /// Boots a VM (its name, decoded customData, its NIC's private address and its NSG's rules) → the public address the
    /// machine answers SSH on and the private address it really has (the NIC and public IP then report those).
    /// </summary>
    public Func<VmBoot, (string PublicIp, string PrivateIp)>? VmBooter { get; set; }
    public Action<string>? VmReleaser { get; set; }
    /// <summary>Called when a PUT of a resource type arrives (after it is applied): lets a test cancel mid-create.</summary>
    public Action<string, string>? OnPut { get; set; }
    /// <summary>Called at each poll of an operation: (resource type, is a delete, status before this poll).</summary>
    public Action<string, bool, string>? OnOperationPoll { get; set; }
    /// <summary>How many NIC creations may end AnotherOperationInProgress because another NIC of their subnet is still provisioning.</summary>
    public int SubnetContention { get; set; }
    /// <summary>How many NIC operations failed that way.</summary>
    public int ContentionFailures { get; private set; }
    /// <summary>What a new public IP (by name) reports as its address (hostile values for the validation tests); null: a real address.</summary>
    public Func<string, string?>? ReportedPublicIp { get; set; }

    /// <summary>What exists now (any provisioning state).</summary>
    public IReadOnlyList<Resource> Inventory { get { lock (_gate) return _resources.Values.OrderBy(r => r.Id).ToList(); } }
    public IReadOnlyDictionary<string, int> Creates => _creates;

    public int Count(string method, string pathContains) =>
        Requests.Count(r => r.Method == method && r.Path.Contains(pathContains, StringComparison.OrdinalIgnoreCase));

    private async Task HandleAsync(HttpContext ctx)
    {
        var path = ctx.Request.Path.Value ?? "/";
        var segments = path.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length >= 4 && segments[1] == "oauth2" && segments[^1] == "token") { await TokenAsync(ctx, segments[0]); return; }
        if (segments.Length >= 3 && segments[^1] == "openid-configuration") { await OpenIdAsync(ctx, segments[0]); return; }

        if (string.IsNullOrEmpty(ctx.Request.Query["api-version"]))
        {
            await Error(ctx, 400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.");
            return;
        }
        var auth = ctx.Request.Headers.Authorization.ToString();
        if (!auth.StartsWith("Bearer ", StringComparison.Ordinal) || !_tokens.TryGetValue(auth[7..], out var principal))
        {
            await Error(ctx, 401, "InvalidAuthenticationToken", "The access token is invalid.");
            return;
        }
        int? fault = null;
        lock (_gate)
        {
            if (_faultFraction > 0 && (_faultCredit += _faultFraction) >= 1)
            {
                _faultCredit -= 1;
                fault = FaultStatuses[_faultIndex++ % FaultStatuses.Length];
            }
        }
        if (fault is { } f)
        {
            if (f == 429) ctx.Response.Headers.RetryAfter = RetryAfterSeconds.ToString();
            await (f == 429
                ? Error(ctx, 429, "TooManyRequests", "The request is being throttled as the limit has been reached for operation type - Write.")
                : Error(ctx, 500, "InternalServerError", "Encountered internal server error. Diagnostic information: timestamp '20261124T100000Z', subscription id 'x'."));
            return;
        }

        if (segments.Length == 1 && segments[0] == "subscriptions" && ctx.Request.Method == "GET")
        {
            await Json(ctx, 200, new JsonObject
            {
                ["value"] = new JsonArray(principal.Subscriptions.Select(s => (JsonNode)SubscriptionJson(s, principal.Tenant)).ToArray()),
            });
            return;
        }
        if (segments.Length < 2 || segments[0] != "subscriptions") { await Error(ctx, 404, "NotFound", $"No route for {path}."); return; }
        var subscription = segments[1];
        if (!principal.Subscriptions.Contains(subscription, StringComparer.OrdinalIgnoreCase))
        {
            await Error(ctx, 404, "SubscriptionNotFound", $"The subscription '{subscription}' could not be found.");
            return;
        }
        if (segments.Length == 2) { await Json(ctx, 200, SubscriptionJson(subscription, principal.Tenant)); return; }
        if (await ProviderRegistrationAsync(ctx, segments)) return;
        if (await RefuseUnregisteredAsync(ctx, segments)) return;
        if (await CatalogAsync(ctx, segments)) return;
        if (await KubernetesVersionsAsync(ctx, segments)) return;
        if (segments.Length >= 6 && segments[2] == "providers" && segments[^2] == "operations") { await OperationAsync(ctx, segments[^1], location: false); return; }
        if (segments.Length == 4 && segments[2] == "operationresults") { await OperationAsync(ctx, segments[3], location: true); return; }
        if (segments.Length == 7 && segments[2].Equals("resourceGroups", StringComparison.OrdinalIgnoreCase) && await ListAsync(ctx, segments)) return;
        if (!segments[2].Equals("resourceGroups", StringComparison.OrdinalIgnoreCase) || segments.Length < 4)
        {
            await Error(ctx, 404, "NotFound", $"No route for {path}.");
            return;
        }
        var (id, type, action) = Parse(segments);
        if (ApiVersionViolation(type, "eastus", ctx.Request.Query["api-version"].ToString()) is { } badVersion)
        {
            await Error(ctx, 400, badVersion.Code, badVersion.Message);
            return;
        }
        if (await AgentPoolAsync(ctx, id, type)) return;
        switch (ctx.Request.Method)
        {
            case "PUT": await PutAsync(ctx, id, type, segments[3]); break;
            case "GET": await GetAsync(ctx, id); break;
            case "DELETE": await DeleteAsync(ctx, id, type); break;
            case "POST" when action == "listClusterAdminCredential": await AdminCredentialAsync(ctx, id); break;
            default: await Error(ctx, 405, "MethodNotAllowed", $"{ctx.Request.Method} is not supported on {path}."); break;
        }
    }

    /// <summary>(resource id, resource type, trailing action) from the path segments.</summary>
    private static (string Id, string Type, string? Action) Parse(string[] s)
    {
        if (s.Length == 4) return ("/" + string.Join('/', s), "Microsoft.Resources/resourceGroups", null);
        // subscriptions/{s}/resourceGroups/{g}/providers/{ns}/{type}/{name}[/{child}/{childName}][/{action}]
        var rest = s.Skip(5).ToArray();
        var ns = rest[0];
        var parts = new List<string> { ns };
        var idParts = s.Take(6).ToList();
        var i = 1;
        while (i + 1 < rest.Length)
        {
            parts.Add(rest[i]);
            idParts.Add(rest[i]);
            idParts.Add(rest[i + 1]);
            i += 2;
        }
        var action = i < rest.Length ? rest[i] : null;
        return ("/" + string.Join('/', idParts), string.Join('/', parts), action);
    }

    private static JsonObject SubscriptionJson(string id, string tenant) => new()
    {
        ["id"] = $"/subscriptions/{id}",
        ["subscriptionId"] = id,
        ["tenantId"] = tenant,
        ["displayName"] = "Ksctl emulator subscription",
        ["state"] = "Enabled",
    };

    private static Task Json(HttpContext ctx, int status, JsonNode body)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json; charset=utf-8";
        return ctx.Response.WriteAsync(body.ToJsonString());
    }

    private static Task Error(HttpContext ctx, int status, string code, string message) =>
        Json(ctx, status, new JsonObject { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } });

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _certificate.Dispose();
    }
}
