using System.Security.Claims;
using System.Text.Encodings.Web;
using Ksctl.Server.Api;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Ksctl.Server.Security;

/// <summary>
/// Authenticates a request by its API key: <c>Authorization: Bearer ksk_...</c> or <c>X-Api-Key: ksk_...</c>.
/// No key: no identity (the endpoint's policy then answers 401); a wrong or revoked key: 401 as well. Both 401 and
/// 403 are RFC 9457 problem details with a Ksctl error id, like every other API error.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyStore keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-Api-Key";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? presented = null;
        if (Request.Headers.TryGetValue(HeaderName, out var header)) presented = header.ToString();
        else if (Request.Headers.Authorization.ToString() is { Length: > 7 } auth && auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            presented = auth[7..].Trim();
        if (presented is null) return Task.FromResult(AuthenticateResult.NoResult());
        var record = keys.Verify(presented);
        if (record is null) return Task.FromResult(AuthenticateResult.Fail("The API key is not valid (unknown, revoked or malformed)."));
        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, record.Name), new Claim(Policies.RoleClaim, record.Role.ToString()), new Claim(Policies.KeyIdClaim, record.Id)],
            SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer realm=\"ksctl\"";
        return Problems.Write(Context, StatusCodes.Status401Unauthorized, "KsctlUnauthorized",
            "An API key is required: send it as 'Authorization: Bearer <key>' or 'X-Api-Key: <key>' (create one with 'ksctl-server apikey create').");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Problems.Write(Context, StatusCodes.Status403Forbidden, "KsctlForbidden",
            $"The API key '{Context.User.Identity?.Name}' has the role {Context.User.FindFirst(Policies.RoleClaim)?.Value}, which may not do this.");
}

internal static class RoleRequirements
{
    public static ApiRole? RoleOf(ClaimsPrincipal user) =>
        Enum.TryParse<ApiRole>(user.FindFirst(Policies.RoleClaim)?.Value, out var role) ? role : null;

    public static bool Allows(ClaimsPrincipal user, ApiRole needed) => RoleOf(user) is { } role && role >= needed;
}
