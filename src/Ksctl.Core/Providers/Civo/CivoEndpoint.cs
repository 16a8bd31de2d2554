using System.Net;
using Ksctl.Core.Diagnostics;

namespace Ksctl.Core.Providers.Civo;

/// <summary>
/// What Ksctl accepts from outside before it reaches a request: the API endpoint (CIVO_API_URL), ids read back from
/// state or from Civo's answers before they go into a URL path, and addresses before they are recorded (they later
/// reach SSH, scripts, HAProxy and kubeconfigs).
/// </summary>
internal static class CivoEndpoint
{
    /// <summary>
    /// The base URL: https always, plain http only to a loopback address (an emulator or a local proxy), because the
    /// bearer key travels with every request. Anything else is refused naming the variable.
    /// </summary>
    public static string BaseUrl(string? configured)
    {
        var text = string.IsNullOrWhiteSpace(configured) ? CivoClient.DefaultUrl : configured.Trim();
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
            || !string.IsNullOrEmpty(uri.UserInfo) || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
            throw Invalid($"'{text}' is not an absolute http(s) URL without credentials, query or fragment.");
        if (uri.Scheme == Uri.UriSchemeHttp && !IsLoopback(uri))
            throw Invalid($"'{text}' uses plain http to a host that is not loopback; the Civo API key would travel unencrypted. Use https.");
        return text.TrimEnd('/') + "/";
    }

    private static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    private static KsctlException Invalid(string rule) =>
        new("KsctlInvalidConfiguration", KsctlErrorCategory.InvalidArgument, $"{CivoClient.UrlVariable}: {rule}", CivoClient.UrlVariable)
        { RecommendedAction = $"Unset {CivoClient.UrlVariable} to use {CivoClient.DefaultUrl}, or point it at an https endpoint." };

    /// <summary>
    /// A Civo id for a URL path: Civo's ids are UUIDs (civogo's structs; every id in civo.com/api's examples). A
    /// recorded id that is anything else (a path, another host, a query) comes from a tampered or broken state.
    /// </summary>
    public static string Id(string? id, string what)
    {
        if (id is not null && id.Length == 36 && Guid.TryParseExact(id, "D", out _)) return id;
        throw new KsctlException("KsctlStateInvalid", KsctlErrorCategory.InvalidData,
            $"The Civo {what} id '{Shorten(id)}' is not a Civo id (a UUID); Ksctl sends no request with it. The state or Civo's answer is not trustworthy.", what);
    }

    public static bool IsId(string? id) => id is not null && id.Length == 36 && Guid.TryParseExact(id, "D", out _);

    /// <summary>An address Civo reported for an instance or cluster: an IPv4/IPv6 literal, nothing else; null/empty stays null.</summary>
    public static string? Address(string? value, string what)
    {
        if (string.IsNullOrEmpty(value)) return null;
        if (IPAddress.TryParse(value, out var ip) && ip.ToString() == value && ip.AddressFamily is System.Net.Sockets.AddressFamily.InterNetwork or System.Net.Sockets.AddressFamily.InterNetworkV6)
            return value;
        throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult,
            $"Civo reported a value that is not an IP address ({value.Length} characters) as the {what}; Ksctl records and uses no such value.", what);
    }

    private static string Shorten(string? value) => value is null ? "(none)" : value.Length > 60 ? value[..60] + "…" : value;
}
