using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Kube;

namespace Ksctl.Core.Distributions.K3s;

/// <summary>
/// Whether the k3s.yaml read from a server is whole: k3s writes it in place, so a read can meet the first half.
/// Whole means its current context names a cluster with a server and a CA certificate that parses, and a user with a
/// client certificate and key that parse (what k3s writes for its admin user).
/// </summary>
internal static class K3sKubeconfig
{
    public static bool IsComplete(string yaml, out string why)
    {
        try
        {
            var config = KubeconfigFile.Parse(yaml, "the cluster");
            var context = (config.Contexts ?? []).FirstOrDefault(c => c.Name == config.CurrentContext);
            if (context?.ContextDetails is null) return Fail("it has no current context", out why);
            var cluster = (config.Clusters ?? []).FirstOrDefault(c => c.Name == context.ContextDetails.Cluster)?.ClusterEndpoint;
            if (string.IsNullOrEmpty(cluster?.Server)) return Fail("its cluster has no server", out why);
            var user = (config.Users ?? []).FirstOrDefault(u => u.Name == context.ContextDetails.User)?.UserCredentials;
            if (user is null) return Fail("it has no user", out why);
            using (X509Certificate2.CreateFromPem(Pem(cluster.CertificateAuthorityData))) { }
            using (var cert = X509Certificate2.CreateFromPem(Pem(user.ClientCertificateData), Pem(user.ClientKeyData))) { }
            why = "";
            return true;
        }
        catch (Exception ex) when (ex is KsctlException or CryptographicException or FormatException or ArgumentException)
        {
            return Fail(ex.Message, out why);
        }
    }

    private static string Pem(string? base64) =>
        string.IsNullOrEmpty(base64) ? throw new FormatException("a certificate or key is missing") : Encoding.ASCII.GetString(Convert.FromBase64String(base64));

    private static bool Fail(string reason, out string why)
    {
        why = reason;
        return false;
    }
}
