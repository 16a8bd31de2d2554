using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Ksctl.Gcp.Tests;

/// <summary>
/// The token sources of Application Default Credentials besides service-account keys:
/// <list type="bullet">
/// <item>The refresh-token grant of gcloud's user credentials (developers.google.com/identity/protocols/oauth2/native-app,
///   "Refreshing an access token (offline access)"): POST /token, form client_id, client_secret, refresh_token,
///   grant_type=refresh_token; an unknown client is invalid_client "The OAuth client was not found.", a revoked or
///   unknown refresh token invalid_grant "Token has been expired or revoked."; success {"access_token","expires_in",
///   "scope","token_type":"Bearer"}.</item>
/// <item>Google's Security Token Service for workload identity federation (cloud.google.com/iam/docs/reference/sts/rest/v1/TopLevel/token,
///   RFC 8693): POST /sts/v1/token, grant_type=urn:ietf:params:oauth:grant-type:token-exchange,
///   requested_token_type=urn:ietf:params:oauth:token-type:access_token, subject_token_type (jwt, id_token, saml2 …),
///   audience "//iam.googleapis.com/projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER" of a
///   known provider, a subject token the provider trusts; success {"access_token","issued_token_type","token_type":
///   "Bearer","expires_in"}, errors {"error","error_description"} with 400.</item>
/// <item>The metadata server (cloud.google.com/compute/docs/metadata/querying-metadata and …/authentication
///   "Applications running on Compute Engine"): GET /computeMetadata/v1/…; a request without "Metadata-Flavor: Google"
///   or with X-Forwarded-For is refused 403; every answer carries "Metadata-Flavor: Google"; project/project-id,
///   instance/service-accounts/default/email, instance/service-accounts/default/token (optional ?scopes=) answering
///   {"access_token","expires_in","token_type":"Bearer"}.</item>
/// </list>
/// </summary>
public sealed partial class GcpEmulator
{
    private const string TokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange";
    private const string AccessTokenType = "urn:ietf:params:oauth:token-type:access_token";
    public const string WorkloadPoolAudience = "//iam.googleapis.com/projects/4815162342/locations/global/workloadIdentityPools/ksctl-pool/providers/ksctl-oidc";

    /// <summary>A user's OAuth client and refresh token (what gcloud's authorized_user file holds) and who it signs in as.</summary>
    public sealed record UserGrant(string ClientId, string ClientSecret, string RefreshToken, ServiceAccount Principal)
    {
        public string FileJson() => new JsonObject
        {
            ["client_id"] = ClientId,
            ["client_secret"] = ClientSecret,
            ["refresh_token"] = RefreshToken,
            ["type"] = "authorized_user",
            ["universe_domain"] = "googleapis.com",
        }.ToJsonString();
    }

    public List<UserGrant> Users { get; } = [];
    /// <summary>External subject tokens the workload identity pool's provider trusts, and who each is.</summary>
    public Dictionary<string, ServiceAccount> TrustedSubjectTokens { get; } = [];
    /// <summary>The service account the metadata server hands tokens for (null: this is no Compute instance).</summary>
    public ServiceAccount? MetadataAccount { get; set; }
    /// <summary>Metadata requests refused for lacking "Metadata-Flavor: Google".</summary>
    public int MetadataRefused { get; private set; }
    /// <summary>Token exchanges: grant type → count.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Grants { get; } = new();

    public UserGrant NewUser(string email)
    {
        var user = new UserGrant($"{RandomNumberGenerator.GetInt32(100000, 999999)}-emulator.apps.googleusercontent.com", "GOCSPX-" + Hex(12), "1//0g" + Hex(24),
            new ServiceAccount(email, Project, RSA.Create(2048), Hex(20)));
        Users.Add(user);
        return user;
    }

    private static string Hex(int bytes) => Convert.ToHexString(RandomNumberGenerator.GetBytes(bytes)).ToLowerInvariant();

    private string Issue(ServiceAccount principal, string grant)
    {
        var token = "ya29.emulator-" + Hex(24);
        _tokens[token] = principal;
        Grants.Enqueue(grant);
        TokenRequests.Enqueue((principal.Email, null));
        return token;
    }

    private async Task RefreshTokenAsync(HttpContext ctx, IFormCollection form)
    {
        var user = Users.FirstOrDefault(u => u.ClientId == form["client_id"]);
        if (user is null || user.ClientSecret != form["client_secret"])
        {
            await Json(ctx, 401, new JsonObject { ["error"] = "invalid_client", ["error_description"] = "The OAuth client was not found." });
            return;
        }
        if (user.RefreshToken != form["refresh_token"] || DisabledAccounts.Contains(user.Principal.Email))
        {
            await OAuthError(ctx, "invalid_grant", "Token has been expired or revoked.", user.Principal.Email);
            return;
        }
        var token = Issue(user.Principal, "refresh_token");
        await Json(ctx, 200, new JsonObject { ["access_token"] = token, ["expires_in"] = 3599, ["scope"] = form["scope"].ToString() is { Length: > 0 } s ? s : "https://www.googleapis.com/auth/cloud-platform", ["token_type"] = "Bearer" });
    }

    private async Task StsAsync(HttpContext ctx)
    {
        if (ctx.Request.Method != "POST" || !ctx.Request.HasFormContentType)
        {
            await OAuthError(ctx, "invalid_request", "Invalid request: POST with application/x-www-form-urlencoded is required.", null);
            return;
        }
        var form = await ctx.Request.ReadFormAsync();
        if (form["grant_type"] != TokenExchange) { await OAuthError(ctx, "unsupported_grant_type", $"Invalid value for \"grant_type\": {form["grant_type"]}", null); return; }
        if (form["requested_token_type"] != AccessTokenType) { await OAuthError(ctx, "invalid_request", "Invalid value for \"requested_token_type\".", null); return; }
        if (form["subject_token_type"].ToString() is not ("urn:ietf:params:oauth:token-type:jwt" or "urn:ietf:params:oauth:token-type:id_token"))
        {
            await OAuthError(ctx, "invalid_request", $"Invalid value for \"subject_token_type\": {form["subject_token_type"]}", null);
            return;
        }
        if (form["audience"] != WorkloadPoolAudience) { await OAuthError(ctx, "invalid_target", "The target service indicated by the \"audience\" parameters is invalid.", null); return; }
        if (!TrustedSubjectTokens.TryGetValue(form["subject_token"].ToString(), out var principal))
        {
            await OAuthError(ctx, "invalid_grant", "The provided subject token is invalid or was not issued by a trusted issuer.", null);
            return;
        }
        var token = Issue(principal, "token-exchange");
        await Json(ctx, 200, new JsonObject { ["access_token"] = token, ["issued_token_type"] = AccessTokenType, ["token_type"] = "Bearer", ["expires_in"] = 3600 });
    }

    private async Task MetadataAsync(HttpContext ctx, string path)
    {
        if (MetadataAccount is not { } account) { ctx.Response.StatusCode = 404; return; }
        ctx.Response.Headers["Metadata-Flavor"] = "Google";
        if (ctx.Request.Headers["Metadata-Flavor"] != "Google" || ctx.Request.Headers.ContainsKey("X-Forwarded-For"))
        {
            MetadataRefused++;
            ctx.Response.StatusCode = 403;
            ctx.Response.ContentType = "text/html; charset=UTF-8";
            await ctx.Response.WriteAsync($"Your client does not have permission to get URL {path} from this server. Missing Metadata-Flavor:Google header.");
            return;
        }
        switch (path)
        {
            case "/computeMetadata/v1/project/project-id":
                ctx.Response.ContentType = "application/text";
                await ctx.Response.WriteAsync(account.Project);
                return;
            case "/computeMetadata/v1/instance/service-accounts/default/email":
                ctx.Response.ContentType = "application/text";
                await ctx.Response.WriteAsync(account.Email);
                return;
            case "/computeMetadata/v1/instance/service-accounts/default/token":
                await Json(ctx, 200, new JsonObject { ["access_token"] = Issue(account, "metadata"), ["expires_in"] = 3599, ["token_type"] = "Bearer" });
                return;
            default:
                ctx.Response.StatusCode = 404;
                return;
        }
    }
}
