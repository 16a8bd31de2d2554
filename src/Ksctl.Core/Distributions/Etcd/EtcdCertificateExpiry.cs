using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Ksctl.Core.Model;

namespace Ksctl.Core.Distributions.Etcd;

/// <summary>
/// The certificates' expiry (NotAfter), recorded in the state when they are made or renewed: the earliest under
/// <see cref="Resource"/> (Get-KsctlCluster's CertificatesExpireAt, warned about within <see cref="WarningWindow"/>),
/// and each kind under <c>certificates:&lt;kind&gt;-not-after</c> (Get-KsctlCluster's CertificateExpiry):
/// <see cref="EtcdCa"/>, <see cref="EtcdMember"/>, <see cref="EtcdClient"/>, and for Kubeadm <see cref="Kubeadm"/>
/// (the control planes' certificates that kubeadm certs renew renews). Update-KsctlCertificate renews the leaves.
/// </summary>
public static class EtcdCertificateExpiry
{
    public const string Resource = "etcd:certificates-not-after";
    public const string EtcdCa = "etcd-ca";
    public const string EtcdMember = "etcd-member";
    public const string EtcdClient = "etcd-client";
    public const string Kubeadm = "kubeadm";
    private const string KindPrefix = "certificates:";
    private const string KindSuffix = "-not-after";
    public static readonly TimeSpan WarningWindow = TimeSpan.FromDays(30);

    /// <summary>Records the etcd PKI's expiries: each kind, and the earliest of all recorded kinds.</summary>
    internal static void Record(ClusterState state, PemPair ca, PemPair server, PemPair client)
    {
        RecordKind(state, EtcdCa, NotAfter(ca));
        RecordKind(state, EtcdMember, NotAfter(server));
        RecordKind(state, EtcdClient, NotAfter(client));
    }

    /// <summary>Records one kind's expiry and refreshes the earliest.</summary>
    internal static void RecordKind(ClusterState state, string kind, DateTimeOffset notAfter)
    {
        state.Resources[KindPrefix + kind + KindSuffix] = notAfter.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);
        var earliest = Kinds(state).Values.Min();
        state.Resources[Resource] = earliest.ToString("O", CultureInfo.InvariantCulture);
    }

    internal static DateTimeOffset NotAfter(PemPair pair)
    {
        using var cert = X509Certificate2.CreateFromPem(pair.Certificate);
        return new DateTimeOffset(cert.NotAfter.ToUniversalTime(), TimeSpan.Zero);
    }

    /// <summary>When the first certificate expires, or null when the state has none (or an unreadable value).</summary>
    public static DateTimeOffset? Of(ClusterState state) => Parse(state.Resources.GetValueOrDefault(Resource));

    /// <summary>Each recorded kind's expiry (unreadable values are left out).</summary>
    public static IReadOnlyDictionary<string, DateTimeOffset> Kinds(ClusterState state)
    {
        var result = new SortedDictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        foreach (var (key, value) in state.Resources)
        {
            if (!key.StartsWith(KindPrefix, StringComparison.Ordinal) || !key.EndsWith(KindSuffix, StringComparison.Ordinal)) continue;
            if (Parse(value) is { } at) result[key[KindPrefix.Length..^KindSuffix.Length]] = at;
        }
        return result;
    }

    /// <summary>Whether they expire within the warning window of <paramref name="now"/> (or already have).</summary>
    public static bool IsDueSoon(ClusterState state, DateTimeOffset now) => Of(state) is { } at && at - now <= WarningWindow;

    private static DateTimeOffset? Parse(string? text) =>
        text is not null && DateTimeOffset.TryParseExact(text, "O", CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var value) ? value : null;
}
