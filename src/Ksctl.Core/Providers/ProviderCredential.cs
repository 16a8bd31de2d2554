namespace Ksctl.Core.Providers;

/// <summary>
/// A credential given for one operation (-Credential with -TenantId/-SubscriptionId): it wins over the stored
/// credential and the environment. Without a secret it only chooses the tenant/subscription for the credential found
/// the usual way. Carried on <see cref="Clusters.OperationOptions"/>, never in the spec or the state.
/// <see cref="ToString"/> never shows the secret.
/// </summary>
public sealed class ProviderCredential
{
    /// <summary>Azure: the service principal's client (application) id; Civo: any label.</summary>
    public string? UserName { get; init; }
    /// <summary>Azure: the client secret; Civo: the API key.</summary>
    public string? Secret { get; init; }
    public bool HasSecret => !string.IsNullOrEmpty(Secret);
    /// <summary>Azure: the Entra tenant of the service principal.</summary>
    public string? TenantId { get; init; }
    /// <summary>Azure: the subscription to create resources in.</summary>
    public string? SubscriptionId { get; init; }
    /// <summary>Aws: a profile of the shared config/credentials files to sign in with (-ProfileName), instead of an access key.</summary>
    public string? ProfileName { get; init; }
    /// <summary>Gcp: a service-account key file (-CredentialPath), first in the GCP credential order.</summary>
    public string? CredentialPath { get; init; }
    /// <summary>Gcp: the project to create resources in (-Project), whichever way the credential is found.</summary>
    public string? Project { get; init; }

    public override string ToString() => HasSecret ? $"credential for {UserName}"
        : ProfileName is not null ? $"profile {ProfileName}"
        : CredentialPath is not null ? $"key file {CredentialPath}"
        : "tenant/subscription/project choice";
}
