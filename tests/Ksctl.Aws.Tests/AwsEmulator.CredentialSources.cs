using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ksctl.Aws.Tests;

/// <summary>
/// The unsigned endpoints that hand out temporary credentials, each minting a session principal (ASIA key, secret,
/// session token) that the signed services then accept, as AWS's do:
/// <list type="bullet">
/// <item>SSO portal GetRoleCredentials (botocore data/sso/2019-06-10/service-2.json: rest-json, <c>GET
/// /federation/credentials?role_name=&amp;account_id=</c>, the access token in header <c>x-amz-sso_bearer_token</c>, authtype
/// none; roleCredentials.expiration is epoch milliseconds; errors InvalidRequestException 400, UnauthorizedException 401
/// for a token that is unknown or expired, ResourceNotFoundException 404 for a role not assigned, TooManyRequestsException 429).</item>
/// <item>The instance metadata service, IMDSv2 (docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html
/// and instancedata-data-retrieval.html): <c>PUT /latest/api/token</c> with <c>X-aws-ec2-metadata-token-ttl-seconds</c>
/// 1..21600 (missing or out of range: 400; with X-Forwarded-For: 403, IMDS refuses proxied token requests), then GETs
/// carrying <c>X-aws-ec2-metadata-token</c>; with HttpTokens=required (what Ksctl sets and what the test's instance has)
/// a GET without a valid token is 401. <c>iam/security-credentials/</c> lists the role, <c>…/{role}</c> answers
/// {Code, LastUpdated, Type "AWS-HMAC", AccessKeyId, SecretAccessKey, Token, Expiration}; no role attached: 404.</item>
/// <item>Container credentials (the SDK's GenericContainerCredentials, aws-sdk-net
/// sdk/src/Core/Amazon.Runtime/Credentials/GenericContainerCredentials.cs, and the EKS Pod Identity agent,
/// docs.aws.amazon.com/eks/latest/userguide/pod-id-how-it-works.html): <c>GET</c> the full URI with the
/// <c>Authorization</c> header read from AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE); missing: 400, wrong: 403; the answer
/// {AccessKeyId, SecretAccessKey, Token, AccountId, Expiration}.</item>
/// </list>
/// STS AssumeRoleWithWebIdentity (unsigned too) is in AwsEmulator.StsWebIdentity.cs.
/// </summary>
public sealed partial class AwsEmulator
{
    private static readonly Principal Anonymous = new("anonymous", "", Account, "anonymous");

    /// <summary>SSO access tokens the portal knows (as `aws sso login` obtained them): token → expiry and assigned (account, role).</summary>
    public ConcurrentDictionary<string, (DateTimeOffset Expires, HashSet<(string Account, string Role)> Roles)> SsoTokens { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// IMDS's address for AWS_EC2_METADATA_SERVICE_ENDPOINT. The SDK reads that variable once per process (its
    /// EC2InstanceMetadata endpoint is static), so one IMDS listener lives as long as the test process and answers for
    /// whichever emulator asked for it last.
    /// </summary>
    public async Task<string> ImdsEndpointAsync()
    {
        _imdsOwner = this;
        return (await SharedImds.Value).ToString().TrimEnd('/');
    }

    private static volatile AwsEmulator? _imdsOwner;
    private static readonly Lazy<Task<Uri>> SharedImds = new(async () =>
    {
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        var app = builder.Build();
        app.Run(async ctx =>
        {
            if (_imdsOwner is not { } owner) { ctx.Response.StatusCode = 404; return; }
            await owner.ImdsAsync(ctx, ctx.Request.Path.Value ?? "");
            owner.Record(ctx, null);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new Uri(address.TrimEnd('/') + "/");
    });

    /// <summary>The instance's role (null: no instance profile attached).</summary>
    public string? InstanceRole { get; set; }
    private readonly ConcurrentDictionary<string, DateTimeOffset> _imdsTokens = new(StringComparer.Ordinal);

    /// <summary>The container credential endpoint's path and the Authorization value it requires.</summary>
    public string ContainerPath { get; set; } = "/v1/credentials";
    public string? ContainerAuthorization { get; set; }
    public string ContainerRoleArn { get; set; } = $"arn:aws:iam::{Account}:role/pod-role";

    /// <summary>Session credentials issued by a credential source for <paramref name="arn"/>, accepted from now on.</summary>
    public Principal IssueSession(string arn)
    {
        var key = "ASIA" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
        var principal = new Principal(key, Convert.ToBase64String(RandomNumberGenerator.GetBytes(30)), Account, arn,
            "IQoJb3JpZ2lu" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(48)));
        Principals[key] = principal;
        return principal;
    }

    /// <summary>Who each credential source issued keys to, in order (source, access key id).</summary>
    public ConcurrentQueue<(string Source, string AccessKeyId)> Issued { get; } = new();

    /// <summary>Handles the unsigned credential endpoints; false when the request is for a signed service.</summary>
    private async Task<bool> CredentialSourceAsync(HttpContext ctx)
    {
        var path = ctx.Request.Path.Value ?? "";
        if (path == "/federation/credentials") { await SsoPortalAsync(ctx); return true; }
        if (path == ContainerPath && ContainerAuthorization is not null) { await ContainerAsync(ctx); return true; }
        return await WebIdentityAsync(ctx);
    }

    private async Task SsoPortalAsync(HttpContext ctx)
    {
        ctx.Items["service"] = "sso";
        var info = new AwsServiceAttribute("awsssoportal", AwsProtocol.RestJson);
        var id = NextRequestId();
        var role = ctx.Request.Query["role_name"].ToString();
        var account = ctx.Request.Query["account_id"].ToString();
        var token = ctx.Request.Headers["x-amz-sso_bearer_token"].ToString();
        if (ctx.Request.Method != "GET" || role.Length == 0 || account.Length == 0 || token.Length == 0)
        {
            await WriteErrorAsync(ctx, info, 400, "InvalidRequestException", "roleName, accountId and accessToken are required.", id);
            return;
        }
        if (!SsoTokens.TryGetValue(token, out var session) || session.Expires <= Clock.GetUtcNow())
        {
            await WriteErrorAsync(ctx, info, 401, "UnauthorizedException", "Session token not found or invalid", id);
            return;
        }
        if (!session.Roles.Contains((account, role)))
        {
            await WriteErrorAsync(ctx, info, 404, "ResourceNotFoundException", "No access", id);
            return;
        }
        var issued = IssueSession($"arn:aws:sts::{account}:assumed-role/AWSReservedSSO_{role}_0123456789abcdef/alice");
        Issued.Enqueue(("sso", issued.AccessKeyId));
        ctx.Response.ContentType = "application/json";
        ctx.Response.Headers["x-amzn-RequestId"] = id;
        await ctx.Response.WriteAsync(new JsonObject
        {
            ["roleCredentials"] = new JsonObject
            {
                ["accessKeyId"] = issued.AccessKeyId, ["secretAccessKey"] = issued.Secret, ["sessionToken"] = issued.SessionToken,
                ["expiration"] = Clock.GetUtcNow().AddHours(1).ToUnixTimeMilliseconds(),
            },
        }.ToJsonString());
    }

    private async Task ImdsAsync(HttpContext ctx, string path)
    {
        ctx.Items["service"] = "imds";
        ctx.Response.ContentType = "text/plain";
        async Task Status(int status, string? error = null)
        {
            ctx.Items["error"] = error;
            ctx.Response.StatusCode = status;
            await ctx.Response.WriteAsync("");
        }
        if (path == "/latest/api/token")
        {
            if (ctx.Request.Method != "PUT") { await Status(405, "MethodNotAllowed"); return; }
            if (ctx.Request.Headers.ContainsKey("X-Forwarded-For")) { await Status(403, "Forbidden"); return; }
            if (!int.TryParse(ctx.Request.Headers["X-aws-ec2-metadata-token-ttl-seconds"].ToString(), out var ttl) || ttl is < 1 or > 21600)
            {
                await Status(400, "MissingOrInvalidTtl");
                return;
            }
            var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(42));
            _imdsTokens[token] = Clock.GetUtcNow().AddSeconds(ttl);
            ctx.Response.Headers["X-aws-ec2-metadata-token-ttl-seconds"] = ttl.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await ctx.Response.WriteAsync(token);
            return;
        }
        var presented = ctx.Request.Headers["X-aws-ec2-metadata-token"].ToString();
        if (ctx.Request.Method != "GET" || !_imdsTokens.TryGetValue(presented, out var expires) || expires <= Clock.GetUtcNow())
        {
            await Status(401, "Unauthorized");
            return;
        }
        const string credentials = "/latest/meta-data/iam/security-credentials/";
        if (InstanceRole is null) { await Status(404, "NotFound"); return; }
        if (path == "/latest/meta-data/iam/info")
        {
            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync(new JsonObject
            {
                ["Code"] = "Success", ["LastUpdated"] = Clock.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"),
                ["InstanceProfileArn"] = $"arn:aws:iam::{Account}:instance-profile/{InstanceRole}", ["InstanceProfileId"] = "AIPAKSCTLEMULATOR0001",
            }.ToJsonString());
            return;
        }
        if (path == credentials) { await ctx.Response.WriteAsync(InstanceRole); return; }
        if (path == credentials + InstanceRole)
        {
            var issued = IssueSession($"arn:aws:sts::{Account}:assumed-role/{InstanceRole}/i-0a1b2c3d4e5f67890");
            Issued.Enqueue(("imds", issued.AccessKeyId));
            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync(new JsonObject
            {
                ["Code"] = "Success", ["LastUpdated"] = Clock.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"), ["Type"] = "AWS-HMAC",
                ["AccessKeyId"] = issued.AccessKeyId, ["SecretAccessKey"] = issued.Secret, ["Token"] = issued.SessionToken,
                ["Expiration"] = Clock.GetUtcNow().AddHours(6).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"),
            }.ToJsonString());
            return;
        }
        await Status(404, "NotFound");
    }

    private async Task ContainerAsync(HttpContext ctx)
    {
        ctx.Items["service"] = "container";
        var presented = ctx.Request.Headers.Authorization.ToString();
        ctx.Response.ContentType = "application/json";
        if (ctx.Request.Method != "GET" || presented.Length == 0 || presented != ContainerAuthorization)
        {
            ctx.Items["error"] = presented.Length == 0 ? "MissingAuthorization" : "AccessDenied";
            ctx.Response.StatusCode = presented.Length == 0 ? 400 : 403;
            await ctx.Response.WriteAsync(new JsonObject { ["code"] = ctx.Items["error"] as string, ["message"] = "The service account token is missing or not valid." }.ToJsonString());
            return;
        }
        var issued = IssueSession(ContainerRoleArn.Replace(":iam::", ":sts::").Replace(":role/", ":assumed-role/") + "/eks-pod");
        Issued.Enqueue(("container", issued.AccessKeyId));
        await ctx.Response.WriteAsync(new JsonObject
        {
            ["AccessKeyId"] = issued.AccessKeyId, ["SecretAccessKey"] = issued.Secret, ["Token"] = issued.SessionToken, ["AccountId"] = Account,
            ["Expiration"] = Clock.GetUtcNow().AddHours(6).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"),
        }.ToJsonString());
    }
}
