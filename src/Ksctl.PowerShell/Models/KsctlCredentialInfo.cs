namespace Ksctl.PowerShell.Models;

/// <summary>A stored cloud credential as Get-KsctlCredential shows it: who, for which tenant and subscription; never the secret.</summary>
public sealed class KsctlCredentialInfo
{
    public string Provider { get; init; } = "";
    /// <summary>Azure: the service principal's client id; Aws: the access key id; Civo: a label.</summary>
    public string UserName { get; init; } = "";
    /// <summary>Same as UserName (the Azure name for it).</summary>
    public string ClientId => UserName;
    public string? TenantId { get; init; }
    public string? SubscriptionId { get; init; }
    public string? Region { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    /// <summary>Where it is kept (a folder of the file store, or the container of the AzureBlob store).</summary>
    public string Location { get; init; } = "";
}
