using Ksctl.Core.Diagnostics;

namespace Ksctl.Core.Storage.AzureBlob;

/// <summary>
/// A state write was refused so that nothing is overwritten: another writer changed the document since this process
/// read it (ETag mismatch), or this process no longer holds the cluster's lock (its lease was broken or expired).
/// </summary>
public sealed class StateConflictException(string cluster, string reason, KsctlErrorCategory category = KsctlErrorCategory.ResourceBusy, Exception? inner = null)
    : KsctlException("KsctlStateConflict", category,
        $"The state of cluster {cluster} was not written: {reason}", cluster, inner)
{
    public string Reason { get; } = reason;
}
