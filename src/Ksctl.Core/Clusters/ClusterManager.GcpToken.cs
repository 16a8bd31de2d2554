using System.Text.Json.Nodes;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;

namespace Ksctl.Core.Clusters;

/// <summary>The access token behind 'ksctl gcp-token' and Get-KsctlGcpToken: GKE kubeconfigs without gke-gcloud-auth-plugin exec it.</summary>
public sealed partial class ClusterManager
{
    /// <summary>
    /// An ExecCredential (client.authentication.k8s.io/v1beta1) holding an access token from the GCP credential chain (the
    /// stored key, GOOGLE_APPLICATION_CREDENTIALS, Application Default Credentials), and its expirationTimestamp (RFC 3339,
    /// from the token answer's expires_in) so kubectl runs the command again before it expires instead of after a 401
    /// (kubernetes.io/docs/reference/access-authn-authz/authentication/#input-and-output-formats). A token whose expiry is
    /// not known carries none: kubectl then keeps it until the API server answers 401.
    /// </summary>
    public async Task<string> GcpExecCredentialAsync(CancellationToken cancellationToken)
    {
        if (_providers.Get(CloudProvider.Gcp) is not Providers.Gcp.GcpProvider gcp)
            throw new ProviderNotAvailableException("Gcp", "The Gcp provider is not available in this version of Ksctl.");
        var (token, expiry) = await gcp.AccessTokenAsync(cancellationToken).ConfigureAwait(false);
        var status = new JsonObject { ["token"] = token };
        if (expiry is { } e) status["expirationTimestamp"] = e.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        return new JsonObject
        {
            ["kind"] = "ExecCredential",
            ["apiVersion"] = "client.authentication.k8s.io/v1beta1",
            ["spec"] = new JsonObject(),
            ["status"] = status,
        }.ToJsonString();
    }
}
