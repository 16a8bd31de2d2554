using System.Text.Json.Nodes;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;

namespace Ksctl.Core.Clusters;

/// <summary>The access token behind 'ksctl gcp-token' and Get-KsctlGcpToken: GKE kubeconfigs without gke-gcloud-auth-plugin exec it.</summary>
public sealed partial class ClusterManager
{
    /// <summary>
    /// An ExecCredential (client.authentication.k8s.io/v1beta1) holding an access token from the GCP credential chain (the
    /// stored key, GOOGLE_APPLICATION_CREDENTIALS, Application Default Credentials). No expirationTimestamp: kubectl
    /// keeps it until the API server answers 401, then runs the command again.
    /// </summary>
    public async Task<string> GcpExecCredentialAsync(CancellationToken cancellationToken)
    {
        if (_providers.Get(CloudProvider.Gcp) is not Providers.Gcp.GcpProvider gcp)
            throw new ProviderNotAvailableException("Gcp", "The Gcp provider is not available in this version of Ksctl.");
        var token = await gcp.AccessTokenAsync(cancellationToken).ConfigureAwait(false);
        return new JsonObject
        {
            ["kind"] = "ExecCredential",
            ["apiVersion"] = "client.authentication.k8s.io/v1beta1",
            ["spec"] = new JsonObject(),
            ["status"] = new JsonObject { ["token"] = token },
        }.ToJsonString();
    }
}
