using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Ksctl.Core.Model;

namespace Ksctl.Core.Distributions.Etcd;

/// <summary>
/// The etcd certificates' expiry (NotAfter), recorded in the state when they are made: the member and client
/// certificates live a year and nothing renews them yet (renewal comes with day-2 operations), so Get-KsctlCluster
/// shows the earliest expiry and warns within <see cref="WarningWindow"/>.
/// </summary>
public static class EtcdCertificateExpiry
{
    public const string Resource = "etcd:certificates-not-after";
    public static readonly TimeSpan WarningWindow = TimeSpan.FromDays(30);

    internal static void Record(ClusterState state, params PemPair[] certificates)
    {
        var earliest = certificates.Select(c =>
        {
            using var cert = X509Certificate2.CreateFromPem(c.Certificate);
            return new DateTimeOffset(cert.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        }).Min();
        state.Resources[Resource] = earliest.ToString("O", CultureInfo.InvariantCulture);
    }

    /// <summary>When the first etcd certificate expires, or null when the state has none (or an unreadable value).</summary>
    public static DateTimeOffset? Of(ClusterState state) =>
        state.Resources.TryGetValue(Resource, out var text)
        && DateTimeOffset.TryParseExact(text, "O", CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var value)
            ? value
            : null;

    /// <summary>Whether they expire within the warning window of <paramref name="now"/> (or already have).</summary>
    public static bool IsDueSoon(ClusterState state, DateTimeOffset now) => Of(state) is { } at && at - now <= WarningWindow;
}
