using Ksctl.Core.Model;

namespace Ksctl.Core.Storage.Credentials;

/// <summary>
/// A cloud credential kept in the active state store: a user name or client id, its secret (password, client secret,
/// API token, secret access key) and the provider's fields. <see cref="ToString"/> never shows the secret.
/// </summary>
public sealed class StoredCredential
{
    public required CloudProvider Provider { get; init; }
    /// <summary>Azure: the service principal's client id; Aws: the access key id; Civo: any label.</summary>
    public required string UserName { get; init; }
    /// <summary>The secret. Never printed; encrypted with the state key in a shared store.</summary>
    public required string Secret { get; init; }
    public string? TenantId { get; init; }
    public string? SubscriptionId { get; init; }
    public string? Region { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }

    public override string ToString() => $"{Provider} credential for {UserName}";
}
