using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace Ksctl.Aws.Tests;

/// <summary>
/// STS AssumeRoleWithWebIdentity, the one STS action here that is not signed (botocore data/sts/2011-06-15/service-2.json:
/// "authtype":"none"; the query protocol, form-encoded POST with Action and Version 2011-06-15). Required members and
/// their limits from the same model: RoleArn (20..2048), RoleSessionName (2..64, <c>[\w+=,.@-]*</c>), WebIdentityToken
/// (4..20000); DurationSeconds 900..43200. Errors from the STS API reference (AssumeRoleWithWebIdentity, "Errors"):
/// a token the identity provider did not issue InvalidIdentityToken (400), an expired one ExpiredTokenException (400),
/// a role whose trust policy does not name the token's subject AccessDenied (403), a malformed parameter
/// ValidationError (400). The answer: Credentials {AccessKeyId, SecretAccessKey, SessionToken, Expiration},
/// SubjectFromWebIdentityToken, AssumedRoleUser {AssumedRoleId, Arn}, Provider, Audience.
/// </summary>
public sealed partial class AwsEmulator
{
    private static readonly Regex SessionName = new(@"^[\w+=,.@-]{2,64}\z", RegexOptions.CultureInvariant);

    /// <summary>Web identity tokens the OIDC provider issued: token → (subject, expiry).</summary>
    public Dictionary<string, (string Subject, DateTimeOffset Expires)> WebIdentityTokens { get; } = new(StringComparer.Ordinal);
    /// <summary>Roles that trust the OIDC provider: role ARN → the subjects its trust policy allows.</summary>
    public Dictionary<string, HashSet<string>> WebIdentityRoles { get; } = new(StringComparer.Ordinal);

    private async Task<bool> WebIdentityAsync(HttpContext ctx)
    {
        if (ctx.Request.Method != "POST" || ctx.Request.Headers.ContainsKey("Authorization")
            || !(ctx.Request.ContentType ?? "").StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
            return false;
        ctx.Request.EnableBuffering();
        using var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8, leaveOpen: true);
        var form = ParseForm(await reader.ReadToEndAsync()).ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
        ctx.Request.Body.Position = 0;
        if (form.GetValueOrDefault("Action") != "AssumeRoleWithWebIdentity") return false;

        var info = _services["sts"].Info;
        var call = new AwsCall
        {
            Http = ctx, Service = "sts", Region = "us-east-1", Info = info, Parameters = form, Body = [], Caller = Anonymous,
            RequestId = NextRequestId(), RawPath = ctx.Request.Path, Action = "AssumeRoleWithWebIdentity",
        };
        (ctx.Items["service"], ctx.Items["action"], ctx.Items["key"]) = ("sts", call.Action, Anonymous.AccessKeyId);
        if (form.GetValueOrDefault("Version") != info.ApiVersion)
        {
            await Fail(call, 400, "NoSuchVersion", $"The requested version ({form.GetValueOrDefault("Version") ?? "(none)"}) of service sts does not exist.");
            return true;
        }
        var roleArn = form.GetValueOrDefault("RoleArn") ?? "";
        var session = form.GetValueOrDefault("RoleSessionName") ?? "";
        var token = form.GetValueOrDefault("WebIdentityToken") ?? "";
        if (roleArn.Length is < 20 or > 2048 || !SessionName.IsMatch(session) || token.Length is < 4 or > 20000
            || (form.TryGetValue("DurationSeconds", out var d) && (!int.TryParse(d, out var seconds) || seconds is < 900 or > 43200)))
        {
            await Fail(call, 400, "ValidationError", "1 validation error detected: RoleArn, RoleSessionName, WebIdentityToken or DurationSeconds failed to satisfy its constraint.");
            return true;
        }
        if (!WebIdentityTokens.TryGetValue(token, out var identity))
        {
            await Fail(call, 400, "InvalidIdentityToken", "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements");
            return true;
        }
        if (identity.Expires <= Clock.GetUtcNow())
        {
            await Fail(call, 400, "ExpiredTokenException", "Token expired: current date/time " + Clock.GetUtcNow().ToUnixTimeSeconds() + " must be before the expiration date/time " + identity.Expires.ToUnixTimeSeconds());
            return true;
        }
        if (!WebIdentityRoles.TryGetValue(roleArn, out var subjects) || !subjects.Contains(identity.Subject))
        {
            await Fail(call, 403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity");
            return true;
        }
        var roleName = roleArn[(roleArn.LastIndexOf('/') + 1)..];
        var issued = IssueSession($"arn:aws:sts::{Account}:assumed-role/{roleName}/{session}");
        Issued.Enqueue(("web-identity", issued.AccessKeyId));
        await Xml(call,
            $"<Audience>sts.amazonaws.com</Audience><AssumedRoleUser><AssumedRoleId>AROAKSCTLWEBIDENTITY:{X(session)}</AssumedRoleId><Arn>{X(issued.Arn)}</Arn></AssumedRoleUser>" +
            $"<Provider>token.actions.githubusercontent.com</Provider><Credentials><AccessKeyId>{issued.AccessKeyId}</AccessKeyId><SecretAccessKey>{X(issued.Secret)}</SecretAccessKey>" +
            $"<SessionToken>{X(issued.SessionToken)}</SessionToken><Expiration>{Clock.GetUtcNow().AddHours(1):yyyy-MM-dd'T'HH:mm:ss'Z'}</Expiration></Credentials>" +
            $"<SubjectFromWebIdentityToken>{X(identity.Subject)}</SubjectFromWebIdentityToken>");
        return true;
    }
}
