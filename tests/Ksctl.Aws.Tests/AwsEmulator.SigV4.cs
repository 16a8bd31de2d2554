using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Ksctl.Aws.Tests;

/// <summary>
/// Signature Version 4, verified as AWS verifies it (docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html,
/// "Elements of an AWS API request signature" and reference_sigv-troubleshooting.html), written from the spec, not
/// from the SDK: the Authorization header (or the presigned query's X-Amz-Algorithm/Credential/Date/Expires/
/// SignedHeaders/Signature), a credential scope of date/region/service/aws4_request whose date is the request's,
/// x-amz-date within 15 minutes of now (presigned: not before it, and not after its X-Amz-Expires, at most 7 days),
/// host and x-amz-date among the signed headers, the canonical request (method, the URI path encoded once more for
/// every service but S3, the sorted query, the signed headers' trimmed values, the SHA-256 of the body actually sent),
/// the string to sign and the HMAC chain from the known secret. A session's X-Amz-Security-Token must be the one
/// issued with its key. Refusals are each service's codes: an unknown key InvalidClientTokenId (query), AuthFailure
/// (EC2), UnrecognizedClientException (JSON); a wrong signature SignatureDoesNotMatch (query, EC2) or
/// InvalidSignatureException (JSON); a missing one MissingAuthenticationToken / IncompleteSignature.
/// </summary>
public sealed partial class AwsEmulator
{
    private const string Algorithm = "AWS4-HMAC-SHA256";
    private static readonly TimeSpan Skew = TimeSpan.FromMinutes(15);

    private enum AuthRefusal { Missing, Incomplete, UnknownKey, BadToken, Mismatch, Expired, WrongRegion }

    /// <summary>Reads, verifies and parses the request; null when it was refused (the answer is written).</summary>
    private async Task<AwsCall?> ReceiveAsync(HttpContext ctx)
    {
        ctx.Request.EnableBuffering();
        using var buffer = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(buffer);
        var body = buffer.ToArray();
        var rawTarget = ctx.Features.Get<IHttpRequestFeature>()?.RawTarget ?? (ctx.Request.Path + ctx.Request.QueryString);
        var q = rawTarget.IndexOf('?');
        var rawPath = q < 0 ? rawTarget : rawTarget[..q];
        var rawQuery = q < 0 ? "" : rawTarget[(q + 1)..];
        var query = ParseForm(rawQuery);

        var auth = ctx.Request.Headers.Authorization.ToString();
        var presigned = query.Any(p => p.Name == "X-Amz-Algorithm");
        string? credential, signedHeaders, signature, amzDate;
        if (presigned)
        {
            credential = Get(query, "X-Amz-Credential");
            signedHeaders = Get(query, "X-Amz-SignedHeaders");
            signature = Get(query, "X-Amz-Signature");
            amzDate = Get(query, "X-Amz-Date");
            if (Get(query, "X-Amz-Algorithm") != Algorithm) credential = null;
        }
        else if (auth.StartsWith(Algorithm + " ", StringComparison.Ordinal))
        {
            var parts = auth[(Algorithm.Length + 1)..].Split(',', StringSplitOptions.TrimEntries)
                .Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
            credential = parts.GetValueOrDefault("Credential");
            signedHeaders = parts.GetValueOrDefault("SignedHeaders");
            signature = parts.GetValueOrDefault("Signature");
            amzDate = ctx.Request.Headers["X-Amz-Date"].ToString() is { Length: > 0 } d ? d : null;
        }
        else
        {
            // No SigV4 at all: which service was meant is unknown; answer as the query protocol does.
            await RefuseAsync(ctx, ServiceFromHost(ctx), "us-east-1", AuthRefusal.Missing, "Request is missing Authentication Token");
            return null;
        }

        var scope = credential?.Split('/');
        if (scope is not { Length: 5 } || signedHeaders is null || signature is null || scope[4] != "aws4_request")
        {
            await RefuseAsync(ctx, scope is { Length: 5 } ? scope[3] : ServiceFromHost(ctx), "us-east-1", AuthRefusal.Incomplete,
                "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters; the credential scope is <key>/<date>/<region>/<service>/aws4_request.");
            return null;
        }
        var (keyId, date, region, service) = (scope[0], scope[1], scope[2], scope[3]);
        if (!_services.TryGetValue(service, out var registered))
        {
            await RefuseAsync(ctx, "sts", region, AuthRefusal.Mismatch, $"Credential should be scoped to correct service: no service '{service}' here.");
            return null;
        }
        if (!Principals.TryGetValue(keyId, out var principal))
        {
            await RefuseAsync(ctx, service, region, AuthRefusal.UnknownKey, "The security token included in the request is invalid.");
            return null;
        }
        if (amzDate is null || !DateTime.TryParseExact(amzDate, "yyyyMMdd'T'HHmmss'Z'", null, System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal, out var signedAt))
        {
            await RefuseAsync(ctx, service, region, AuthRefusal.Incomplete, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
            return null;
        }
        if (amzDate[..8] != date)
        {
            await RefuseAsync(ctx, service, region, AuthRefusal.Mismatch, $"Credential should be scoped to a valid date: '{date}' != '{amzDate[..8]}'.");
            return null;
        }
        var now = Clock.GetUtcNow().UtcDateTime;
        if (presigned)
        {
            var expires = int.TryParse(Get(query, "X-Amz-Expires"), out var e) ? e : -1;
            if (expires is < 1 or > 604800 || now > signedAt.AddSeconds(expires) || signedAt > now + Skew)
            {
                await RefuseAsync(ctx, service, region, AuthRefusal.Expired, $"Signature expired: {amzDate} is now earlier than {now:yyyyMMdd'T'HHmmss'Z'} - {expires} s.");
                return null;
            }
        }
        else if ((now - signedAt).Duration() > Skew)
        {
            await RefuseAsync(ctx, service, region, AuthRefusal.Expired, $"Signature expired: {amzDate} is now earlier than {now - Skew:yyyyMMdd'T'HHmmss'Z'} ({now:yyyyMMdd'T'HHmmss'Z'} - 15 min.)");
            return null;
        }
        if (registered.Info.SigningRegion is { } only && region != only)
        {
            await RefuseAsync(ctx, service, region, AuthRefusal.WrongRegion, $"Credential should be scoped to a valid region, not '{region}'.");
            return null;
        }
        var signed = signedHeaders.Split(';');
        if (!signed.Contains("host") || (!presigned && !signed.Contains("x-amz-date")) || signed.Any(h => h != h.ToLowerInvariant())
            || !signed.SequenceEqual(signed.Order(StringComparer.Ordinal)))
        {
            await RefuseAsync(ctx, service, region, AuthRefusal.Mismatch, $"'Host' and 'X-Amz-Date' must be signed, in lowercase and sorted; signed were '{signedHeaders}'.");
            return null;
        }
        var token = presigned ? Get(query, "X-Amz-Security-Token") : ctx.Request.Headers["X-Amz-Security-Token"].ToString() is { Length: > 0 } t ? t : null;
        if (token != principal.SessionToken)
        {
            await RefuseAsync(ctx, service, region, AuthRefusal.BadToken, "The security token included in the request is invalid.");
            return null;
        }

        var expected = Sign(principal.Secret, date, region, service, amzDate,
            CanonicalRequest(ctx, rawPath, query, signed, body, presigned));
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature)))
        {
            await RefuseAsync(ctx, service, region, AuthRefusal.Mismatch,
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.");
            return null;
        }

        // Authenticated: the protocol's parameters.
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in query) if (!name.StartsWith("X-Amz-", StringComparison.Ordinal)) parameters[name] = value;
        var contentType = ctx.Request.ContentType ?? "";
        if (contentType.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
            foreach (var (name, value) in ParseForm(Encoding.UTF8.GetString(body))) parameters[name] = value;
        JsonNode? json = null;
        if (registered.Info.Protocol is AwsProtocol.Json or AwsProtocol.RestJson && body.Length > 0)
        {
            try { json = JsonNode.Parse(body); }
            catch (JsonException)
            {
                await WriteErrorAsync(ctx, registered.Info, 400, "SerializationException", "Start of structure or map found where not expected.", NextRequestId());
                return null;
            }
        }
        return new AwsCall
        {
            Http = ctx, Service = service, Region = region, Info = registered.Info, Parameters = parameters, JsonBody = json, Body = body,
            Caller = principal, RequestId = NextRequestId(), RawPath = rawPath,
        };
    }

    private static string? Get(List<(string Name, string Value)> pairs, string name) => pairs.FirstOrDefault(p => p.Name == name).Value;

    private static string CanonicalRequest(HttpContext ctx, string rawPath, List<(string Name, string Value)> query, string[] signed,
        byte[] body, bool presigned)
    {
        var b = new StringBuilder();
        b.Append(ctx.Request.Method).Append('\n');
        // Every service but S3 signs the path encoded once more than it was sent (the "double encoding" of the spec).
        b.Append(rawPath.Length == 0 ? "/" : string.Join('/', rawPath.Split('/').Select(Encode))).Append('\n');
        b.Append(string.Join('&', query.Where(p => !(presigned && p.Name == "X-Amz-Signature"))
            .Select(p => (Name: Encode(p.Name), Value: Encode(p.Value)))
            .OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.Value, StringComparer.Ordinal)
            .Select(p => $"{p.Name}={p.Value}"))).Append('\n');
        foreach (var name in signed)
        {
            var values = ctx.Request.Headers[name];
            b.Append(name).Append(':').Append(string.Join(',', values.Select(v => string.Join(' ', (v ?? "").Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries))))).Append('\n');
        }
        b.Append('\n').Append(string.Join(';', signed)).Append('\n');
        // The service hashes the body it received, whatever X-Amz-Content-SHA256 declares: a body changed after signing
        // cannot match. (Only S3 takes UNSIGNED-PAYLOAD; a presigned GET has an empty body.)
        b.Append(Convert.ToHexStringLower(SHA256.HashData(body)));
        return b.ToString();
    }

    private static string Sign(string secret, string date, string region, string service, string amzDate, string canonicalRequest)
    {
        var scope = $"{date}/{region}/{service}/aws4_request";
        var toSign = $"{Algorithm}\n{amzDate}\n{scope}\n{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest)))}";
        var key = Hmac(Encoding.UTF8.GetBytes("AWS4" + secret), date);
        key = Hmac(key, region);
        key = Hmac(key, service);
        key = Hmac(key, "aws4_request");
        return Convert.ToHexStringLower(Hmac(key, toSign));
    }

    private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));

    /// <summary>RFC 3986 percent-encoding of everything but the unreserved characters, upper-case hex (the spec's UriEncode).</summary>
    internal static string Encode(string value)
    {
        var b = new StringBuilder();
        foreach (var c in Encoding.UTF8.GetBytes(value))
        {
            if (c is >= (byte)'A' and <= (byte)'Z' or >= (byte)'a' and <= (byte)'z' or >= (byte)'0' and <= (byte)'9' or (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~')
                b.Append((char)c);
            else b.Append('%').Append(c.ToString("X2"));
        }
        return b.ToString();
    }

    internal static List<(string Name, string Value)> ParseForm(string text) =>
        text.Split('&', StringSplitOptions.RemoveEmptyEntries).Select(pair =>
        {
            var i = pair.IndexOf('=');
            string Decode(string s) => Uri.UnescapeDataString(s.Replace('+', ' '));
            return i < 0 ? (Decode(pair), "") : (Decode(pair[..i]), Decode(pair[(i + 1)..]));
        }).ToList();

    private string ServiceFromHost(HttpContext ctx)
    {
        var target = ctx.Request.Headers["X-Amz-Target"].ToString();
        var json = _services.Values.FirstOrDefault(s => s.Info.TargetPrefix is { } p && target.StartsWith(p + ".", StringComparison.Ordinal));
        return json.Info?.Service ?? "sts";
    }

    /// <summary>A refused signature, in the words and shape of the service it was meant for.</summary>
    private Task RefuseAsync(HttpContext ctx, string service, string region, AuthRefusal why, string message)
    {
        _ = region;
        var info = _services.TryGetValue(service, out var s) ? s.Info : _services["sts"].Info;
        ctx.Items["service"] = info.Service;
        var (status, code) = (info.Protocol, why) switch
        {
            (_, AuthRefusal.Missing) when info.Protocol is AwsProtocol.Json or AwsProtocol.RestJson => (403, "MissingAuthenticationTokenException"),
            (_, AuthRefusal.Missing) => (403, "MissingAuthenticationToken"),
            (AwsProtocol.Ec2Query, AuthRefusal.UnknownKey or AuthRefusal.BadToken) => (401, "AuthFailure"),
            (AwsProtocol.Json or AwsProtocol.RestJson, AuthRefusal.UnknownKey or AuthRefusal.BadToken) => (info.Protocol == AwsProtocol.Json ? 400 : 403, "UnrecognizedClientException"),
            (_, AuthRefusal.UnknownKey or AuthRefusal.BadToken) => (403, "InvalidClientTokenId"),
            (AwsProtocol.Json or AwsProtocol.RestJson, AuthRefusal.Incomplete) => (info.Protocol == AwsProtocol.Json ? 400 : 403, "IncompleteSignatureException"),
            (_, AuthRefusal.Incomplete) => (400, "IncompleteSignature"),
            (AwsProtocol.Json or AwsProtocol.RestJson, _) => (info.Protocol == AwsProtocol.Json ? 400 : 403, "InvalidSignatureException"),
            (AwsProtocol.Ec2Query, AuthRefusal.Expired) => (400, "RequestExpired"),
            _ => (403, "SignatureDoesNotMatch"),
        };
        if (info.Protocol == AwsProtocol.Ec2Query && why == AuthRefusal.UnknownKey) message = "AWS was not able to validate the provided access credentials";
        return WriteErrorAsync(ctx, info, status, code, message, NextRequestId());
    }
}
