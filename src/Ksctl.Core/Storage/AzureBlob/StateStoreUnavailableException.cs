using Ksctl.Core.Diagnostics;

namespace Ksctl.Core.Storage.AzureBlob;

/// <summary>The remote state store did not answer (network down, emulator stopped, timeout, 5xx after retries).</summary>
public sealed class StateStoreUnavailableException(string store, string detail, Exception? inner = null)
    : KsctlException("KsctlStateStoreUnavailable", KsctlErrorCategory.ConnectionError,
        $"The state store ({store}) cannot be reached: {detail}. Writes are atomic, so each state document there is complete " +
        "(as it was before this request, or as this request wrote it). Re-run the command when the store is reachable to resume.", store, inner)
{
}
