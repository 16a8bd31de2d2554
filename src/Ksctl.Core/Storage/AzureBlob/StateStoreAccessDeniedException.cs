using Ksctl.Core.Diagnostics;

namespace Ksctl.Core.Storage.AzureBlob;

/// <summary>The store refused our identity (no credential found, 401/403).</summary>
public sealed class StateStoreAccessDeniedException(string store, string detail, KsctlErrorCategory category, Exception? inner = null)
    : KsctlException("KsctlStateStoreAccessDenied", category,
        $"The state store ({store}) refused access: {detail}", store, inner)
{
}
