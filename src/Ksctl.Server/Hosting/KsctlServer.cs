using System.Text.Json.Serialization;
using System.Threading.RateLimiting;
using Ksctl.Core.Configuration;
using Ksctl.Server.Api;
using Ksctl.Server.Operations;
using Ksctl.Server.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.FileProviders;

namespace Ksctl.Server.Hosting;

/// <summary>Composes the server: TLS-only Kestrel, API-key authentication and roles, limits, audit, the API, the web client.</summary>
public static class KsctlServer
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        var options = builder.Configuration.GetSection(ServerOptions.Section).Get<ServerOptions>() ?? new ServerOptions();
        var home = string.IsNullOrWhiteSpace(options.Home) ? KsctlSettings.DefaultHome() : Path.GetFullPath(options.Home);
        var certificate = ServerCertificate.Load(options, home);

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            kestrel.Listen(System.Net.IPAddress.Parse(options.Address), options.Port, listen => listen.UseHttps(certificate));
        });
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(certificate);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(_ => new ServerContext(KsctlSettings.Load(home)));
        builder.Services.AddSingleton(sp => sp.GetRequiredService<ServerContext>().Settings);
        builder.Services.AddSingleton(sp => new ApiKeyStore(options.ApiKeysPath is { Length: > 0 } keys ? Path.GetFullPath(keys) : ApiKeyStore.DefaultPath(home), sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton(_ => new AuditLog(Path.Combine(home, "logs", "audit.log")));
        builder.Services.AddSingleton(sp => new OperationStore(sp.GetRequiredService<ServerContext>().Manager.Store, sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<OperationStore>>()));
        builder.Services.AddSingleton<OperationRegistry>();
        builder.Services.AddSingleton<ReconcilerService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ReconcilerService>());
        builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        builder.Services.AddProblemDetails();

        builder.Services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Reader, p => p.RequireAuthenticatedUser().RequireAssertion(c => RoleRequirements.Allows(c.User, ApiRole.Reader)))
            .AddPolicy(Policies.Operator, p => p.RequireAuthenticatedUser().RequireAssertion(c => RoleRequirements.Allows(c.User, ApiRole.Operator)))
            .AddPolicy(Policies.Admin, p => p.RequireAuthenticatedUser().RequireAssertion(c => RoleRequirements.Allows(c.User, ApiRole.Admin)));

        // One fixed window per API key (per client address before a key is known), so one noisy client cannot starve the others.
        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                var partition = context.Request.Headers.TryGetValue(ApiKeyAuthenticationHandler.HeaderName, out var k) ? "key:" + k
                    : context.Request.Headers.Authorization.ToString() is { Length: > 0 } a ? "key:" + a
                    : "ip:" + context.Connection.RemoteIpAddress;
                return RateLimitPartition.GetFixedWindowLimiter(partition, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = options.RequestsPerMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0,
                });
            });
            limiter.OnRejected = async (context, ct) =>
            {
                context.HttpContext.Response.Headers.RetryAfter = "60";
                await Problems.Write(context.HttpContext, StatusCodes.Status429TooManyRequests, "KsctlRateLimited",
                    $"More than {options.RequestsPerMinute} requests in a minute; retry after the time in Retry-After.");
            };
        });
        builder.Services.AddOpenApi("v1", openApi => openApi.AddDocumentTransformer<OpenApiSecurity>());
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseStatusCodePages();
        app.UseRateLimiter();
        app.UseAuthentication();
        // Before authorization, so that refusals (403) are recorded with who was refused.
        app.UseMiddleware<AuditMiddleware>();
        app.UseAuthorization();

        var files = new EmbeddedFileProvider(typeof(KsctlServer).Assembly, "Ksctl.Server.wwwroot");
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = files });

        app.MapGet("/healthz", () => TypedResults.Ok(new HealthDocument("ok"))).AllowAnonymous().ExcludeFromDescription();
        app.MapGet("/readyz", ReadyAsync).AllowAnonymous().ExcludeFromDescription();
        app.MapOpenApi(OpenApiPath).RequireAuthorization(Policies.Reader);

        var api = app.MapGroup("/api/v1").AddEndpointFilter<KsctlProblemFilter>()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status500InternalServerError).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        ClusterEndpoints.Map(api);
        OperationEndpoints.Map(api);
        CatalogEndpoints.Map(api);
        return app;
    }

    /// <summary>The fixed path of the OpenAPI document.</summary>
    public const string OpenApiPath = "/openapi/{documentName}.json";

    /// <summary>Ready when the state store answers (a read of a cluster that cannot exist).</summary>
    private static async Task<IResult> ReadyAsync(ServerContext server, CancellationToken ct)
    {
        try
        {
            await server.Manager.Store.ReadAsync(new Core.Model.ClusterId(Core.Model.CloudProvider.Local, Core.Model.ClusterType.Managed, "readyz-probe", "local"), ct);
            return TypedResults.Ok(new HealthDocument("ready", server.Manager.Store.Description));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return TypedResults.Json(new HealthDocument("unavailable", ex.Message), statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }
}
