using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Ksctl.Core.Model;

/// <summary>
/// What may stand for a machine's address wherever Ksctl writes one into a script, a unit file, YAML, a certificate's
/// SANs or an HAProxy config: an IPv4/IPv6 address in its plain form, or a strict host name (RFC 1123 §2.1: dot-separated
/// labels of 1-63 letters, digits and '-', not starting or ending with '-', 253 characters at most). Nothing else —
/// no scope ids, ports, brackets, spaces or shell characters.
/// </summary>
public static class HostAddress
{
    public const string Rule = "an IP address or a host name of dot-separated labels (letters, digits and '-', 1-63 characters each, not starting or ending with '-', 253 characters in all)";

    private static readonly Regex Label = new("^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\z", RegexOptions.CultureInvariant);
    private static readonly Regex IPv4Text = new(@"^[0-9]{1,3}(\.[0-9]{1,3}){3}\z", RegexOptions.CultureInvariant);
    private static readonly Regex IPv6Text = new("^[0-9A-Fa-f:.]+\\z", RegexOptions.CultureInvariant);

    public static bool IsValid(string? value) => IsIPAddress(value) || IsHostName(value);

    /// <summary>
    /// A literal IP address written plainly: dotted-quad IPv4 (IPAddress.TryParse alone would also accept "1", "0x7f.1"
    /// or "1.2.3.4%eth0"), or IPv6 hex and colons (no zone id, no brackets).
    /// </summary>
    public static bool IsIPAddress(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > 45) return false;
        if (IPv4Text.IsMatch(value))
            return IPAddress.TryParse(value, out var v4) && v4.AddressFamily == AddressFamily.InterNetwork && value.Split('.').All(o => o.Length == 1 || o[0] != '0');
        return value.Contains(':') && IPv6Text.IsMatch(value) && IPAddress.TryParse(value, out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6;
    }

    /// <summary>A strict RFC 1123 host name; an all-numeric last label is refused so that "1.2.3.999" is not a name.</summary>
    public static bool IsHostName(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > 253) return false;
        var labels = value.Split('.');
        if (!labels.All(l => Label.IsMatch(l))) return false;
        return !labels[^1].All(char.IsAsciiDigit);
    }
}
