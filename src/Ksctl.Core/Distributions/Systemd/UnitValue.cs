using System.Net;
using System.Text.RegularExpressions;
using Ksctl.Core.Diagnostics;

namespace Ksctl.Core.Distributions.Systemd;

/// <summary>
/// The one path by which a value reaches a unit's <c>ExecStart=</c>, a bootstrap script or the HAProxy config:
/// addresses must be an IP address or a strict host name (RFC 1123), and every other value must match a strict
/// character set, so nothing read back from a state document or a cloud can add a flag, a line or a shell word.
/// A value that breaks the rule is <c>KsctlInvalidSpec</c> naming where it came from; nothing runs.
/// </summary>
internal static partial class UnitValue
{
    /// <summary>An IP address or an RFC 1123 host name, as written in URLs, SANs and HAProxy server lines.</summary>
    public static string Address(string? value, string source)
    {
        if (value is null || value.Length is 0 or > 253)
            throw new InvalidSpecException(source, $"'{value}' is not an IP address or host name.");
        if (IPAddress.TryParse(value, out var ip) && ip.ToString() == value) return value;
        if (!HostName().IsMatch(value))
            throw new InvalidSpecException(source, $"'{value}' is not an IP address or a host name (letters, digits, '-' and '.').");
        return value;
    }

    /// <summary>An https://address:port URL (the datastore endpoints), its address validated and nothing else in it.</summary>
    public static string HttpsEndpoint(string url, string source)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps || uri.UserInfo.Length > 0
            || uri.PathAndQuery != "/" || uri.Fragment.Length > 0 || url.EndsWith('/'))
            throw new InvalidSpecException(source, $"'{url}' is not an https://address:port endpoint.");
        Address(uri.Host.Trim('[', ']'), source);
        return url;
    }

    /// <summary>
    /// One argument of an <c>ExecStart=</c> line, single-quoted as k3s's install.sh writes them. systemd gives '%'
    /// and '$' a meaning even inside quotes (specifiers, variables), so they and quotes, backslashes, spaces and
    /// control characters are refused rather than escaped: ksctl never needs them.
    /// </summary>
    public static string Arg(string value, string source) =>
        SafeArg().IsMatch(value)
            ? $"'{value}'"
            : throw new InvalidSpecException(source, $"'{value}' has a character a unit argument may not carry (allowed: letters, digits and . _ : / = , + @ -).");

    [GeneratedRegex(@"^(?=.{1,253}\z)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\z")]
    private static partial Regex HostName();

    [GeneratedRegex(@"^[A-Za-z0-9._:/=,+@-]{1,4096}\z")]
    private static partial Regex SafeArg();
}
