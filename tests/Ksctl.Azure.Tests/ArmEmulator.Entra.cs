using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Ksctl.Azure.Tests;

/// <summary>
/// The emulator's Entra token endpoint. Upstream sources of its rules:
/// - the request (POST form: grant_type=client_credentials, client_id, client_secret, scope) and the answer
///   (token_type, expires_in, access_token): the client-credentials grant of the Microsoft identity platform v2.0,
///   learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow;
/// - the refusals (400/401 with error, error_description carrying the AADSTS code, error_codes): the same page's
///   "Error response" section and the AADSTS list, learn.microsoft.com/entra/identity-platform/reference-error-codes
///   (AADSTS700016 unknown application in the tenant, AADSTS7000215 invalid client secret).
/// </summary>
public sealed partial class ArmEmulator
{
    /// <summary>The client-credentials grant as Entra answers it (AADSTS errors for a wrong secret or client).</summary>
    private async Task TokenAsync(HttpContext ctx, string tenant)
    {
        var form = await ctx.Request.ReadFormAsync();
        var principal = Principals.FirstOrDefault(p => p.Tenant == tenant && p.ClientId == form["client_id"]);
        if (principal is null || principal.Secret != form["client_secret"])
        {
            var (code, text) = principal is null
                ? ("unauthorized_client", $"AADSTS700016: Application with identifier '{form["client_id"]}' was not found in the directory '{tenant}'.")
                : ("invalid_client", "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.");
            await Json(ctx, principal is null ? 400 : 401, new JsonObject
            {
                ["error"] = code, ["error_description"] = text, ["error_codes"] = new JsonArray(principal is null ? 700016 : 7000215),
                ["timestamp"] = DateTime.UtcNow.ToString("u"), ["trace_id"] = Guid.NewGuid().ToString(), ["correlation_id"] = Guid.NewGuid().ToString(),
            });
            return;
        }
        var token = "emu-" + Guid.NewGuid().ToString("N");
        _tokens[token] = principal;
        await Json(ctx, 200, new JsonObject { ["token_type"] = "Bearer", ["expires_in"] = 3599, ["ext_expires_in"] = 3599, ["access_token"] = token });
    }

    private Task OpenIdAsync(HttpContext ctx, string tenant)
    {
        var root = BaseUrl.ToString().TrimEnd('/');
        return Json(ctx, 200, new JsonObject
        {
            ["token_endpoint"] = $"{root}/{tenant}/oauth2/v2.0/token",
            ["authorization_endpoint"] = $"{root}/{tenant}/oauth2/v2.0/authorize",
            ["issuer"] = $"{root}/{tenant}/v2.0",
        });
    }
}
