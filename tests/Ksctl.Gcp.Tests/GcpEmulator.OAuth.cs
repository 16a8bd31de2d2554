using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Ksctl.Gcp.Tests;

/// <summary>
/// Google's OAuth 2.0 token endpoint for service accounts, as developers.google.com/identity/protocols/oauth2/service-account
/// describes it ("Preparing to make an authorized API call" and "Handling the response"):
/// <list type="bullet">
/// <item>POST, application/x-www-form-urlencoded, grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer (RFC 7523) and
///   assertion=&lt;JWT&gt;; another grant type is unsupported_grant_type.</item>
/// <item>The JWT header is {"alg":"RS256","typ":"JWT"} (a "kid" may name the key); the signature is RSA SHA-256
///   (PKCS#1 v1.5) over base64url(header).base64url(claims), checked against the service account's public key:
///   otherwise invalid_grant "Invalid JWT Signature.".</item>
/// <item>Claims: iss = the service account's e-mail (unknown: invalid_grant "Invalid grant: account not found"), scope
///   = space-delimited scopes (missing: invalid_scope), aud = "https://oauth2.googleapis.com/token" (the docs' literal value), iat and exp in seconds with exp
///   "a maximum of 1 hour after the issued time" (else invalid_grant "Invalid JWT: Token must be a short-lived token
///   (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.").</item>
/// <item>Success: {"access_token","expires_in":3599,"token_type":"Bearer"}; errors are {"error","error_description"} with 400.</item>
/// </list>
/// </summary>
public sealed partial class GcpEmulator
{
    private const string JwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    /// <summary>The docs' "aud" value: always Google's token URL, whichever address the assertion is posted to.</summary>
    public const string Audience = "https://oauth2.googleapis.com/token";
    /// <summary>Clock skew the endpoint tolerates on iat (the real one accepts a few minutes).</summary>
    private static readonly TimeSpan Skew = TimeSpan.FromMinutes(5);

    /// <summary>Service accounts whose keys were deleted or disabled: their assertions are refused (invalid_grant).</summary>
    public HashSet<string> DisabledAccounts { get; } = [];

    private async Task TokenAsync(HttpContext ctx)
    {
        if (ctx.Request.Method != "POST" || !ctx.Request.HasFormContentType)
        {
            await OAuthError(ctx, "invalid_request", "Invalid request: POST with application/x-www-form-urlencoded is required.", null);
            return;
        }
        var form = await ctx.Request.ReadFormAsync();
        if (form["grant_type"] == "refresh_token") { await RefreshTokenAsync(ctx, form); return; }
        if (form["grant_type"] != JwtBearer)
        {
            await OAuthError(ctx, "unsupported_grant_type", $"Invalid grant_type: {form["grant_type"]}", null);
            return;
        }
        var parts = form["assertion"].ToString().Split('.');
        JsonObject? header = null, claims = null;
        if (parts.Length == 3)
        {
            try
            {
                header = JsonNode.Parse(Base64Url(parts[0])) as JsonObject;
                claims = JsonNode.Parse(Base64Url(parts[1])) as JsonObject;
            }
            catch (Exception e) when (e is FormatException or System.Text.Json.JsonException) { }
        }
        if (header is null || claims is null)
        {
            await OAuthError(ctx, "invalid_grant", "Invalid JWT: the assertion is not a JWT.", null);
            return;
        }
        var iss = Str(claims, "iss");
        if (Str(header, "alg") != "RS256" || (Str(header, "typ") is { } typ && typ != "JWT"))
        {
            await OAuthError(ctx, "invalid_grant", "Invalid JWT: the header must be {\"alg\":\"RS256\",\"typ\":\"JWT\"}.", iss);
            return;
        }
        var account = Accounts.FirstOrDefault(a => a.Email == iss);
        if (account is null || DisabledAccounts.Contains(account.Email))
        {
            await OAuthError(ctx, "invalid_grant", "Invalid grant: account not found", iss);
            return;
        }
        var signed = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);
        byte[] signature;
        try { signature = Base64UrlBytes(parts[2]); }
        catch (FormatException) { signature = []; }
        if (!account.Key.VerifyData(signed, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            || (Str(header, "kid") is { } kid && kid != account.KeyId))
        {
            await OAuthError(ctx, "invalid_grant", "Invalid JWT Signature.", iss);
            return;
        }
        if (Str(claims, "aud") != Audience)
        {
            await OAuthError(ctx, "invalid_grant", $"Invalid JWT: audience must be {Audience}.", iss);
            return;
        }
        if (string.IsNullOrWhiteSpace(Str(claims, "scope")) && string.IsNullOrWhiteSpace(Str(claims, "target_audience")))
        {
            await OAuthError(ctx, "invalid_scope", "Invalid OAuth scope or ID token audience provided.", iss);
            return;
        }
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var iat = claims["iat"] is JsonValue i && i.TryGetValue<long>(out var il) ? il : (long?)null;
        var exp = claims["exp"] is JsonValue x && x.TryGetValue<long>(out var xl) ? xl : (long?)null;
        if (iat is null || exp is null || exp <= iat || exp - iat > 3600 || iat > now + (long)Skew.TotalSeconds || exp < now)
        {
            await OAuthError(ctx, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.", iss);
            return;
        }
        var token = "ya29.emulator-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        _tokens[token] = account;
        TokenRequests.Enqueue((account.Email, null));
        await Json(ctx, 200, new JsonObject { ["access_token"] = token, ["expires_in"] = 3599, ["token_type"] = "Bearer" });
    }

    private Task OAuthError(HttpContext ctx, string error, string description, string? iss)
    {
        TokenRequests.Enqueue((iss, error));
        return Json(ctx, 400, new JsonObject { ["error"] = error, ["error_description"] = description });
    }

    private static string? Str(JsonObject o, string name) => o[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static string Base64Url(string s) => Encoding.UTF8.GetString(Base64UrlBytes(s));

    private static byte[] Base64UrlBytes(string s)
    {
        var b = s.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(b.PadRight(b.Length + (4 - b.Length % 4) % 4, '='));
    }
}
