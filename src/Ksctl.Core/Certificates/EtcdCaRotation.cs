using System.Security.Cryptography.X509Certificates;
using Ksctl.Core.Distributions;
using Ksctl.Core.Distributions.Etcd;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;

namespace Ksctl.Core.Certificates;

/// <summary>
/// Renewing the etcd CA without downtime, the way etcd's own TLS guide and Kubernetes' "Manual Rotation of CA
/// Certificates" (kubernetes.io/docs/tasks/tls/manual-rotation-of-ca-certificates/) do it: a new CA is issued and
/// added to every trust bundle first (members' --trusted-ca-file/--peer-trusted-ca-file, the control planes'
/// datastore CA), one machine at a time; then members and control planes get leaves from the new CA (accepted by
/// everyone, since all trust both); then the old CA is dropped from every bundle, again one machine at a time. A CA
/// whose leaves would be cut short is rotated as a matter of course: a leaf never outlives its issuer, so once the CA
/// expires within a leaf's lifetime (plus a month's notice) renewing only the leaves buys less than a year.
/// </summary>
internal static class EtcdCaRotation
{
    public const string IssueStep = "certs:ca:issue";
    public const string TrustPrefix = "certs:ca-trust:";
    public const string DropPrefix = "certs:ca-drop:";
    /// <summary>The CA being introduced, until the record step makes it the cluster's CA.</summary>
    public const string NextCertificate = "etcd:ca-next.crt";
    public const string NextKey = "etcd:ca-next.key";
    /// <summary>Set while a renewal with a CA rotation is unfinished, so that a resume runs the same plan.</summary>
    public const string PendingResource = "certs:rotate-ca";
    public static readonly TimeSpan Notice = TimeSpan.FromDays(30);

    /// <summary>True when the cluster's CA expires before a leaf issued now would (with a month's notice).</summary>
    public static bool Due(ClusterState state, DateTimeOffset now)
    {
        if (!state.Secrets.TryGetValue(DatastoreSecrets.CaCertificate, out var pem)) return false;
        using var ca = X509Certificate2.CreateFromPem(pem);
        return new DateTimeOffset(ca.NotAfter.ToUniversalTime(), TimeSpan.Zero) < now + EtcdCertificateAuthority.LeafLifetime + Notice;
    }

    /// <summary>Issues the next CA once (a resumed plan keeps the one it issued). Its name carries the date, so two CAs never share a subject.</summary>
    public static void Issue(StepContext ctx, DateTimeOffset now) => ctx.Mutate(s =>
    {
        if (s.Secrets.ContainsKey(NextCertificate) && s.Secrets.ContainsKey(NextKey)) return;
        var next = EtcdCertificateAuthority.CreateCa($"{s.Id.Name}-{now.UtcDateTime:yyyyMMddHHmmss}", now);
        s.Secrets[NextCertificate] = next.Certificate;
        s.Secrets[NextKey] = next.PrivateKey;
    });

    /// <summary>The CA leaves are issued from during a rotation (the next one), else the cluster's.</summary>
    public static PemPair Issuer(ClusterState s, bool rotating) => rotating
        ? new PemPair(s.Secrets[NextCertificate], s.Secrets[NextKey])
        : new PemPair(s.Secrets[DatastoreSecrets.CaCertificate], s.Secrets[DatastoreSecrets.CaKey]);

    /// <summary>Both CAs, the current one first: what every machine trusts while the leaves change.</summary>
    public static string Bundle(ClusterState s) => s.Secrets[DatastoreSecrets.CaCertificate].TrimEnd() + "\n" + s.Secrets[NextCertificate].TrimEnd() + "\n";

    /// <summary>The rotation's last act in the state: the next CA becomes the cluster's CA.</summary>
    public static void Complete(ClusterState s)
    {
        s.Secrets[DatastoreSecrets.CaCertificate] = s.Secrets[NextCertificate];
        s.Secrets[DatastoreSecrets.CaKey] = s.Secrets[NextKey];
        s.Secrets.Remove(NextCertificate);
        s.Secrets.Remove(NextKey);
        s.Resources.Remove(PendingResource);
    }
}
