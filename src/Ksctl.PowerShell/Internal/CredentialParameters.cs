using System.Management.Automation;
using Ksctl.Core.Providers;

namespace Ksctl.PowerShell.Internal;

/// <summary>
/// -Credential/-TenantId/-SubscriptionId as the Core type that crosses the bridge. The password leaves the
/// PSCredential only here, into the operation's options; it is never written to any stream.
/// </summary>
internal static class CredentialParameters
{
    public static ProviderCredential? From(PSCredential? credential, string? tenantId, string? subscriptionId, string? profileName = null,
        string? credentialPath = null, string? project = null)
    {
        var given = credential is not null && credential != PSCredential.Empty;
        if (!given && tenantId is null && subscriptionId is null && profileName is null && credentialPath is null && project is null) return null;
        return new ProviderCredential
        {
            UserName = given ? credential!.UserName : null,
            Secret = given ? credential!.GetNetworkCredential().Password : null,
            TenantId = string.IsNullOrWhiteSpace(tenantId) ? null : tenantId.Trim(),
            SubscriptionId = string.IsNullOrWhiteSpace(subscriptionId) ? null : subscriptionId.Trim(),
            ProfileName = string.IsNullOrWhiteSpace(profileName) ? null : profileName.Trim(),
            CredentialPath = string.IsNullOrWhiteSpace(credentialPath) ? null : credentialPath,
            Project = string.IsNullOrWhiteSpace(project) ? null : project.Trim(),
        };
    }
}
