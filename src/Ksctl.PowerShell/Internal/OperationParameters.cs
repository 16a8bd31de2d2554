using System.Management.Automation;
using Ksctl.Core.Clusters;

namespace Ksctl.PowerShell.Internal;

/// <summary>The shared operation parameters (-ThrottleLimit, -BreakStaleLock, -Credential, -TenantId, -SubscriptionId) → Core's options.</summary>
internal static class OperationParameters
{
    public static OperationOptions Options(int throttleLimit, bool breakStaleLock, PSCredential? credential, string? tenantId, string? subscriptionId,
        string? profileName = null, string? credentialPath = null, string? project = null) => new()
    {
        MaxParallelism = throttleLimit,
        BreakStaleLock = breakStaleLock,
        Credential = CredentialParameters.From(credential, tenantId, subscriptionId, profileName, credentialPath, project),
    };
}
